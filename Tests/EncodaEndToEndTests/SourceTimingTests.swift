import Foundation
import XCTest

/// Sources whose frames are not simply "one packet, one timestamp, one frame": an MP4 trimmed with an edit list, an
/// AVI with an empty drop-frame chunk, an Xvid AVI whose flushed last frame has no timestamp, and raw elementary
/// streams without timestamps at all. Each is encoded in several chunks and must come out as ffmpeg decodes it: the
/// same frames (framemd5) with the same relative timestamps. One chunk is then encoded again by a fresh worker, which
/// must seek to it: from the keyframe before it, skipping exactly the frames in between, where frames are counted.
final class SourceTimingTests: XCTestCase {
    /// A moving test pattern at 160x120, 25 fps; `frames` limits the output to 150 frames (6 s). Keyframes every 60
    /// frames (longer than a chunk), so that some chunks start between keyframes.
    private static let pattern = ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25"]
    private static let frames = ["-frames:v", "150"]
    private static let encode = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1", "--workers", "1"]

    /// Relative presentation times (seconds, from the first) of the first video stream's frames as `ffmpeg -f framemd5`
    /// writes them (its pts column in the time base it states): for raw streams these are the timestamps ffmpeg itself
    /// makes up, which ffprobe does not show.
    static func framemd5Times(_ file: String) throws -> [Double] {
        let r = try Tool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", file, "-map", "0:v:0", "-f", "framemd5", "-"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var timeBase = 0.0
        var times: [Double] = []
        for line in r.stdout.split(separator: "\n") {
            if line.hasPrefix("#tb 0:") {
                let parts = line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: "/")
                timeBase = Double(parts[0])! / Double(parts[1])!
            } else if !line.hasPrefix("#") {
                let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                times.append(Double(fields[2])! * timeBase)
            }
        }
        let first = times.first ?? 0
        return times.map { (($0 - first) * 1e6).rounded() / 1e6 }
    }

    private func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// Encodes `source` in several chunks and checks it against ffmpeg's decode; then has one chunk that does not
    /// start on a keyframe encoded again by a fresh worker, and checks that it skipped exactly the frames from the
    /// keyframe before it (`byByte`: all of them, as a raw stream is positioned by counting). Returns the first run's
    /// stderr.
    @discardableResult
    private func assertFaithful(_ source: String, _ s: Scratch, byByte: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = s.file("out.mkv"), tmp = s.file("tmp")
        let expected = try Tool.frameHashes(source)
        let run = try Tool.mustRun(Tool.encoda, [source, out, tmp, "--keep"] + Self.encode, file: file, line: line)
        let job = try json(tmp + "/job.json")
        let chunks = (job["chunks"] as! [[String: Any]]).map { ($0["range"] as! [String: Int])["start"]! }
        XCTAssertGreaterThanOrEqual(chunks.count, 3, "several chunks", file: file, line: line)
        XCTAssertEqual(try Tool.frameHashes(out), expected, "frames as ffmpeg decodes them", file: file, line: line)
        XCTAssertEqual(try Self.framemd5Times(out), try Self.framemd5Times(source), "relative timestamps", file: file, line: line)

        let index = try json(tmp + "/scenes.json")["index"] as! [String: Any]
        XCTAssertEqual(index["positionedByByte"] as? Bool ?? false, byByte, file: file, line: line)
        let keyframes = index["keyframes"] as! [Int]
        // The last chunk that starts between keyframes, after a keyframe other than frame 0: reaching it takes a seek.
        func keyframe(before frame: Int) -> Int { keyframes.last(where: { $0 <= frame }) ?? 0 }
        guard let chunk = chunks.indices.last(where: { !keyframes.contains(chunks[$0]) && keyframe(before: chunks[$0]) > 0 }) else {
            XCTFail("no chunk starts between keyframes after frame 0 (\(chunks), keyframes \(keyframes)): nothing to seek into", file: file, line: line)
            return run.stderr
        }
        let keyframeBefore = keyframe(before: chunks[chunk])
        let name = String(format: "%05d", chunk)
        for f in try FileManager.default.contentsOfDirectory(atPath: tmp + "/chunks") where f.hasPrefix(name) {
            try FileManager.default.removeItem(atPath: tmp + "/chunks/" + f)
        }
        try FileManager.default.removeItem(atPath: tmp + "/results/\(name).json")
        unlink(out)
        try Tool.mustRun(Tool.encoda, [source, out, tmp, "--keep", "--quiet"] + Self.encode, file: file, line: line)
        let skipped = try json(tmp + "/results/\(name).json")["framesSkipped"] as? Int ?? -1
        if byByte {
            // Counted from the keyframe's packet: every frame in between is decoded.
            XCTAssertEqual(skipped, chunks[chunk] - keyframeBefore,
                           "chunk \(name) at frame \(chunks[chunk]) decoded from keyframe \(keyframeBefore)", file: file, line: line)
        } else {
            // Recognised by timestamp: some frames before the chunk were decoded and dropped, not all from frame 0
            // (frames no other refers to are not even decoded, and libav may seek to an earlier keyframe than asked:
            // this libavformat's MP4 seek does with an edit list).
            XCTAssertTrue((1...chunks[chunk]).contains(skipped),
                          "chunk \(name) at frame \(chunks[chunk]) after a seek towards keyframe \(keyframeBefore): \(skipped) skipped", file: file, line: line)
        }
        XCTAssertEqual(try Tool.frameHashes(out), expected, "frames as ffmpeg decodes them, after the re-encode", file: file, line: line)
        return run.stderr
    }

    private func decodedCount(_ file: String) throws -> Int { try Tool.frameHashes(file).count }

    func testMP4TrimmedWithAnEditListGivesTheFramesFFmpegShows() throws {
        let s = Scratch()
        try Tool.ffmpeg(Self.pattern + Self.frames + ["-c:v", "libx264", "-preset", "fast", "-bf", "3", "-x264-params", "keyint=60:min-keyint=60:scenecut=0",
                                        s.file("whole.mp4")])
        try Tool.ffmpeg(["-ss", "1.3", "-i", s.file("whole.mp4"), "-c", "copy", s.file("trimmed.mp4")])
        let listed = Int(try Tool.videoField(s.file("trimmed.mp4"), "nb_frames"))!
        XCTAssertGreaterThan(listed, try decodedCount(s.file("trimmed.mp4")), "the edit list hides frames the header counts")
        try assertFaithful(s.file("trimmed.mp4"), s)
    }

    func testAVIWithAudioAndItsEmptyDropFrameChunkIsAcceptedAndATruncatedOneIsNot() throws {
        let s = Scratch()
        try Tool.ffmpeg(Self.pattern + ["-f", "lavfi", "-i", "sine=duration=6"] + Self.frames + ["-c:v", "mpeg4", "-g", "60", "-c:a", "libmp3lame", s.file("a.avi")])
        let listed = Int(try Tool.videoField(s.file("a.avi"), "nb_frames"))!
        XCTAssertEqual(listed, try decodedCount(s.file("a.avi")) + 1, "the header counts the muxer's empty chunk")
        try assertFaithful(s.file("a.avi"), s)

        // The same file cut short: its header still lists every frame, the slots it fills end early.
        let whole = try Data(contentsOf: URL(fileURLWithPath: s.file("a.avi")))
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: s.file("cut.avi")))
        let r = try Tool.encoda([s.file("cut.avi"), s.file("cut.mkv"), s.file("tmp-cut")] + Self.encode)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("damaged or truncated: its header lists \(listed) video frames"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("cut.mkv")))
    }

    func testXvidAVIWithBFramesKeepsItsUntimedLastFrame() throws {
        let s = Scratch()
        try Tool.ffmpeg(Self.pattern + Self.frames + ["-c:v", "mpeg4", "-vtag", "xvid", "-bf", "2", "-g", "60", s.file("xvid.avi")])
        let r = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp",
                                         "-of", "csv=p=0", s.file("xvid.avi")])
        XCTAssertEqual(r.stdout.split(separator: "\n").last.map(String.init), "N/A", "libav gives the flushed last frame no timestamp")
        try assertFaithful(s.file("xvid.avi"), s)
    }

    func testRawH264StreamIsPositionedByByte() throws {
        let s = Scratch()
        try Tool.ffmpeg(Self.pattern + Self.frames + ["-c:v", "libx264", "-preset", "fast", "-bf", "3", "-x264-params", "keyint=60:min-keyint=60:scenecut=0",
                                        "-f", "h264", s.file("drone.h264")])
        let stderr = try assertFaithful(s.file("drone.h264"), s, byByte: true)
        XCTAssertTrue(stderr.contains("raw h264 stream without container timing: assuming 25 fps"), stderr)
    }

    func testRawHEVCStreamIsPositionedByByte() throws {
        let encoders = try Tool.run("ffmpeg", ["-hide_banner", "-encoders"]).stdout
        try XCTSkipUnless(encoders.contains("libx265"), "this ffmpeg has no libx265")
        let s = Scratch()
        try Tool.ffmpeg(Self.pattern + Self.frames + ["-c:v", "libx265", "-preset", "fast", "-x265-params", "log-level=error:keyint=60:min-keyint=60:scenecut=0",
                                        "-f", "hevc", s.file("cctv.hevc")])
        try assertFaithful(s.file("cctv.hevc"), s, byByte: true)
    }

    func testRawMPEG2StreamIsPositionedByByte() throws {
        let s = Scratch()
        try Tool.ffmpeg(Self.pattern + Self.frames + ["-c:v", "mpeg2video", "-bf", "2", "-g", "60", "-sc_threshold", "1000000000",
                                        "-f", "mpeg2video", s.file("tape.m2v")])
        try assertFaithful(s.file("tape.m2v"), s, byByte: true)
    }
}
