import Foundation
import XCTest

/// Interlaced sources and streams that change mid-file (issue 15), on the built binary with independent checks:
/// ffprobe's field order of OUTPUT's stream and every frame's interlace flags, ffmpeg's framemd5 and timestamps
/// against the source's decode, and the refusals' exit status, message and what they leave behind.
final class InterlaceTests: XCTestCase {
    private let h264Lossless = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]

    /// 100 frames of 25i (testsrc2 at 50 fps woven into fields), 320x240, coded interlaced in `order` ("tff"/"bff").
    private func interlaced(_ name: String, order: String, codec: String, in s: Scratch) throws -> String {
        let path = s.file(name)
        let top = order == "tff"
        var args = ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=50", "-frames:v", "100",
                    "-vf", "interlace=scan=\(order),format=yuv420p", "-flags", "+ildct+ilme"]
        if codec == "mpeg2video" {
            args += ["-c:v", "mpeg2video", "-q:v", "3", "-top", top ? "1" : "0"]
        } else {
            args += ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", order + "=1"]
        }
        try Tool.ffmpeg(args + [path])
        return path
    }

    /// Every frame's "interlaced_frame,top_field_first", as ffprobe reads them.
    private func frameFlags(_ file: String) throws -> [String] {
        let r = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                         "frame=interlaced_frame,top_field_first", "-of", "csv=p=0", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").map { $0.split(separator: ",").prefix(2).joined(separator: ",") }.filter { !$0.isEmpty }
    }

    /// MPEG-2 tff in TS and H.264 bff in MKV, through lossless x264 in several chunks: every frame decodes to the
    /// source's at the same time, the stream says tt/bb, and every frame carries the source's interlace flags.
    func testInterlacedSourcesAreEncodedInterlacedInTheirFieldOrderFrameExactly() throws {
        let s = Scratch()
        for (name, order, codec, expected) in [("tff.ts", "tff", "mpeg2video", "tt"), ("bff.mkv", "bff", "libx264", "bb")] {
            let clip = try interlaced(name, order: order, codec: codec, in: s)
            let out = s.file("out-\(name).mkv"), tmp = s.file("tmp-\(name)")
            let r = try Tool.encoda([clip, out, tmp, "--keep"] + h264Lossless)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("encoda: INPUT is interlaced (\(order == "tff" ? "top" : "bottom") field first); x264 encodes it interlaced (MBAFF), with the field order in the H.264 stream and in the .mkv\n"), r.stderr)
            let results = try FileManager.default.contentsOfDirectory(atPath: tmp + "/results").filter { $0.hasSuffix(".json") }
            XCTAssertGreaterThanOrEqual(results.count, 2, "several chunks")

            let src = try Tool.frameHashes(clip)
            XCTAssertEqual(src.count, 100)
            XCTAssertEqual(try Tool.frameHashes(out), src, "\(name): every frame decodes to the source's")
            let times = try Tool.frameTimes(clip)
            XCTAssertEqual(try Tool.frameTimes(out).map { $0 - times[0] }, times.map { $0 - times[0] }, "\(name): timestamps")
            XCTAssertEqual(try Tool.videoField(out, "field_order"), expected, name)
            let flags = try frameFlags(out)
            XCTAssertEqual(flags.count, 100)
            XCTAssertEqual(flags, try frameFlags(clip), "\(name): per-frame interlaced_frame/top_field_first")
            XCTAssertEqual(Set(flags), [order == "tff" ? "1,1" : "1,0"], name)
        }
    }

    /// SVT-AV1 codes the woven frames as progressive pictures: the field order is in the Matroska track (read
    /// back by ffprobe from the container alone, AV1 has no field flags), and the run says so.
    func testAV1KeepsTheFieldOrderInTheContainerAndSaysSo() throws {
        let s = Scratch()
        let clip = try interlaced("bff.ts", order: "bff", codec: "mpeg2video", in: s)
        let r = try Tool.encoda([clip, s.file("out.mkv"), s.file("tmp"), "--preset", "12", "--max-scene-length", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("encoda: INPUT is interlaced (bottom field first); SVT-AV1 encodes it as progressive frames of woven fields; the field order is kept in the .mkv\n"), r.stderr)
        XCTAssertEqual(try Tool.videoField(s.file("out.mkv"), "field_order"), "bb")
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")).count, 100)
        // A progressive source says nothing about fields and is flagged progressive.
        let progressive = try Clips.singleShot()
        let p = try Tool.encoda([progressive, s.file("p.mkv"), s.file("tmp-p"), "--preset", "12"])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertFalse(p.stderr.contains("interlaced"), p.stderr)
        XCTAssertEqual(try Tool.videoField(s.file("p.mkv"), "field_order"), "progressive")
    }

    /// A tff part followed by a bff part (two TS files joined byte for byte): refused by the scene pass, naming
    /// both frames; nothing at OUTPUT.
    func testMixedFieldOrdersAreRefused() throws {
        let s = Scratch()
        let a = try interlaced("a.ts", order: "tff", codec: "mpeg2video", in: s)
        let b = try interlaced("b.ts", order: "bff", codec: "mpeg2video", in: s)
        let joined = s.file("mixed.ts")
        try (Data(contentsOf: URL(fileURLWithPath: a)) + Data(contentsOf: URL(fileURLWithPath: b))).write(to: URL(fileURLWithPath: joined))
        let r = try Tool.encoda([joined, s.file("out.mkv"), s.file("tmp")] + h264Lossless)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("changes at frame 100 (4.000 s): it mixes field orders: frame 0 (0.000 s) is interlaced top field first, frame 100 bottom field first; encoda encodes one field order per job"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
    }

    /// 320x180 then 480x360 (two H.264 TS files joined byte for byte): refused before any encode with exit 65, the
    /// frame, its time, both pictures and the split commands; nothing at OUTPUT, no scene cache kept, so the
    /// same command is refused again. The split it proposes gives two parts of one size each.
    func testAPictureSizeChangeMidStreamIsRefusedNeverScaled() throws {
        let s = Scratch()
        for (name, size) in [("a.ts", "320x180"), ("b.ts", "480x360")] {
            try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=\(size):r=25", "-frames:v", "50", "-c:v", "libx264", "-preset", "ultrafast",
                             "-pix_fmt", "yuv420p", s.file(name)])
        }
        let joined = s.file("joined.ts")
        try (Data(contentsOf: URL(fileURLWithPath: s.file("a.ts"))) + Data(contentsOf: URL(fileURLWithPath: s.file("b.ts"))))
            .write(to: URL(fileURLWithPath: joined))
        for attempt in 1...2 {
            let r = try Tool.encoda([joined, s.file("out.mkv"), s.file("tmp")] + h264Lossless)
            XCTAssertEqual(r.status, 65, "attempt \(attempt): " + r.stderr)
            XCTAssertTrue(r.stderr.contains("INPUT \(joined) changes at frame 50 (2.000 s): its picture changes from 320x180 yuv420p to 480x360 yuv420p; encoda encodes one picture size and pixel format per job and never scales a part of the stream to fit. Split it there and encode each part: ffmpeg -i \(joined) -t 2.000 -c copy part1.ts and ffmpeg -i \(joined) -ss 2.000 -c copy part2.ts"), r.stderr)
            XCTAssertFalse(r.stderr.contains("frames ("), "no encode started: \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")), "nothing at OUTPUT")
            XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/scenes.json")), "no scene cache kept")
            XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/job.json")), "no job planned")
        }
        // The commands it gives do split it there.
        try Tool.ffmpeg(["-i", joined, "-t", "2.000", "-c", "copy", s.file("part1.ts")])
        try Tool.ffmpeg(["-i", joined, "-ss", "2.000", "-c", "copy", s.file("part2.ts")])
        XCTAssertEqual(try Tool.frameHashes(s.file("part1.ts")), try Tool.frameHashes(s.file("a.ts")))
        XCTAssertEqual(try Tool.frameHashes(s.file("part2.ts")), try Tool.frameHashes(s.file("b.ts")))
    }
}
