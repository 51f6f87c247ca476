import Foundation
import XCTest

/// `--mux` with `--otio`/`--edl`: each clip's output carries INPUT's audio, subtitles and chapters cut to that clip,
/// exactly as a `--start`/`--end --mux` trim of the same frames does (transcoded audio to the sample, copied audio at
/// its packet boundaries), its video frame-exact as without `--mux`.
final class TimelineMuxEndToEndTests: XCTestCase {
    private var scratch: Scratch!
    private var work: String { scratch.path }

    override func setUpWithError() throws { scratch = Scratch() }
    override func tearDownWithError() throws { scratch = nil }

    private let common = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]

    /// The render: `frames` frames at 24 fps in three shots, a keyframe every 40 frames (clips start inside GOPs),
    /// with a rising tone (AAC, 48 kHz: each instant has its own pitch), a subtitle across the second clip's start
    /// (1.5–2.0 s) and two chapters (0–2 s, 2 s–end).
    private func render(frames: Int = 96, size: String = "160x120") throws -> String {
        let video = work + "/video-\(frames).mkv", out = work + "/render-\(frames).mkv"
        let third = Double(frames) / 24 / 8, seconds = Double(frames) / 24
        try Tool.ffmpeg(["-filter_complex",
                         "testsrc2=s=\(size):r=24:d=\(third * 3),format=yuv420p[a];rgbtestsrc=s=\(size):r=24:d=\(third * 2),format=yuv420p[b];testsrc=s=\(size):r=24:d=\(third * 3),format=yuv420p[c];[a][b][c]concat=n=3",
                         "-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=40:min-keyint=40:scenecut=0", "-pix_fmt", "yuv420p", video])
        let srt = work + "/s.srt", chapters = work + "/ch.txt"
        try "1\n00:00:01,500 --> 00:00:02,000\nacross the second clip's start\n".write(toFile: srt, atomically: true, encoding: .utf8)
        try ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=2000\ntitle=one\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=2000\nEND=\(Int(seconds * 1000))\ntitle=two\n"
            .write(toFile: chapters, atomically: true, encoding: .utf8)
        try Tool.ffmpeg(["-i", video, "-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*(200+100*t)*t):s=48000:d=\(seconds)", "-i", srt, "-i", chapters,
                         "-map", "0:v", "-map", "1:a", "-map", "2", "-map_chapters", "3", "-c:v", "copy", "-c:a", "aac", "-c:s", "srt", out])
        return out
    }

    /// The OTIO timeline of TimelineEndToEndTests: `Shot/1` frames 0–29, a gap, `Shot:1` 40–61, `Close up` 62–95
    /// (after a dissolve), written by OpenTimelineIO's own Python package.
    private func otioFile() throws -> String {
        let path = work + "/cut.otio"
        let script = """
            import opentimelineio as otio
            RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
            tl = otio.schema.Timeline(name="cut")
            v = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
            tl.tracks.append(v)
            clip = lambda n, d: otio.schema.Clip(name=n, source_range=TR(RT(1000, 24), RT(d, 24)))
            v.append(clip("Shot/1", 30))
            v.append(otio.schema.Gap(source_range=TR(RT(0, 24), RT(10, 24))))
            v.append(clip("Shot:1", 26))
            v.append(otio.schema.Transition(name="dissolve", in_offset=RT(4, 24), out_offset=RT(4, 24)))
            v.append(clip("Close up", 30))
            otio.adapters.write_to_file(tl, "\(path)")
            """
        let r = try Tool.run("/usr/bin/env", ["python3", "-c", script])
        XCTAssertEqual(r.status, 0, "the tests need OpenTimelineIO: pip install opentimelineio (scripts/setup.sh does). \(r.stderr)")
        return path
    }

    /// Packets of one stream: pts and duration, seconds, by ffprobe.
    private func packets(_ file: String, _ stream: String) throws -> [[Double]] {
        try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", file])
            .stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }.filter { $0.count == 2 }
    }

    /// Start and end (pts + duration) of a stream's packets.
    private func span(_ file: String, _ stream: String) throws -> (start: Double, end: Double) {
        let p = try packets(file, stream)
        return (p.map { $0[0] }.min() ?? .infinity, p.map { $0[0] + $0[1] }.max() ?? -.infinity)
    }

    /// The audio packets' hashes: identical audio, sample for sample.
    private func audioHashes(_ file: String) throws -> [String] {
        try Tool.mustRun("ffmpeg", ["-v", "error", "-i", file, "-map", "0:a:0", "-c", "copy", "-f", "framemd5", "-"]).stdout
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last ?? "") }
    }

    private func chapters(_ file: String) throws -> String {
        try Tool.mustRun("ffprobe", ["-v", "error", "-show_entries", "chapter=start_time,end_time", "-of", "csv=p=0", file]).stdout
    }

    private let clips = [("1_Shot_1", 0, 30), ("2_Shot_1_2", 40, 62), ("3_Close_up", 62, 96)]

    func testMuxCutsEachClipsAudioSubtitlesAndChaptersAsATrimOfItsRangeDoes() throws {
        let src = try render(), tl = try otioFile()
        let aacFrame = 1024.0 / 48000
        for (codec, ext) in [("aac", "mp4"), ("copy", "mkv")] {
            let pattern = work + "/\(codec)/{index}_{clip}.\(ext)", tmp = work + "/tmp-\(codec)"
            try FileManager.default.createDirectory(atPath: work + "/\(codec)", withIntermediateDirectories: true)
            let r = try Tool.mustRun(Tool.encoda, [src, pattern, tmp, "--otio", tl, "--mux", "--audio-codec", codec, "--keep"] + common)
            XCTAssertTrue(r.stderr.contains("wrote 3 clips, 86 frames"), r.stderr)
            if codec == "copy" { XCTAssertTrue(r.stderr.contains("clip 2: audio track #1 is copied, so it is cut at its packet boundaries"), r.stderr) }
            for (name, s, e) in clips {
                let out = work + "/\(codec)/\(name).\(ext)"
                let expected = try Tool.frameHashes(src, filter: "trim=start_frame=\(s):end_frame=\(e),setpts=PTS-STARTPTS")
                XCTAssertEqual(try Tool.frameHashes(out), expected, "\(out) holds exactly frames \(s)..<\(e)")
                let v = try span(out, "v:0"), a = try span(out, "a:0")
                XCTAssertEqual(v.start, 0, accuracy: 1e-9)
                XCTAssertEqual(v.end, Double(e - s) / 24, accuracy: 0.0011)
                XCTAssertEqual(a.start, v.start, accuracy: aacFrame + 0.0011, "\(out): audio starts with the clip")
                XCTAssertEqual(a.end, v.end, accuracy: aacFrame + 0.0011, "\(out): audio ends with the clip")
            }
            // Each clip's prepared audio is removed once the clip is written; the job's records stay (--keep).
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: tmp + "/audio")), [])
            XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/job.json"))

            // The second clip as a trim of the same frames: the same audio packets, subtitles and chapters.
            let clip = work + "/\(codec)/2_Shot_1_2.\(ext)", trim = work + "/trim-\(codec).\(ext)"
            try Tool.mustRun(Tool.encoda, [src, trim, work + "/tmp-trim-\(codec)", "--mux", "--audio-codec", codec, "--start", "40", "--end", "62", "--quiet"] + common)
            XCTAssertEqual(try audioHashes(clip), try audioHashes(trim), "\(codec): clip 2's audio is the trim's")
            XCTAssertGreaterThan(try audioHashes(clip).count, 20)
            XCTAssertEqual(try packets(clip, "a:0").count, try packets(trim, "a:0").count)
            let subs = try packets(clip, "s:0")
            XCTAssertEqual(subs, try packets(trim, "s:0"))
            // 1.5–2.0 s clipped to the clip's start (frame 40, 1.667 s) and moved with it (MP4 holds no SRT: left out).
            XCTAssertEqual(subs.count, ext == "mkv" ? 1 : 0, "\(subs)")
            if ext == "mkv" {
                XCTAssertEqual(subs.first?[0] ?? -1, 0, accuracy: 0.0011)
                XCTAssertEqual(subs.first?[1] ?? -1, 2.0 - 40.0 / 24, accuracy: 0.0011)
            }
            let clipChapters = try chapters(clip)
            XCTAssertEqual(clipChapters, try chapters(trim))
            XCTAssertEqual(clipChapters.split(separator: "\n").count, 2, clipChapters)
        }
        // The first clip holds no subtitle and one chapter; the last no subtitle either.
        XCTAssertEqual(try packets(work + "/copy/1_Shot_1.mkv", "s:0").count, 0)
        XCTAssertEqual(try chapters(work + "/copy/1_Shot_1.mkv").split(separator: "\n").count, 1)
    }

    /// A `--mux` timeline job killed after some clips were written: the re-run keeps those as they were and writes the
    /// others, each with its own audio cut to it; no clip's prepared audio is left in TMP at the end.
    func testKilledMuxTimelineJobKeepsWrittenClipsAndCutsTheOthersAudio() throws {
        let src = try render(frames: 480, size: "320x240")
        let edl = work + "/cut.edl"
        // Six clips of 80 frames: 2 chunks each at --max-scene-length 1.
        let events = (0..<6).map { i in
            let tc = { (f: Int) in String(format: "01:00:%02d:%02d", f / 24, f % 24) }
            return String(format: "%03d  AX  V  C  00:00:00:00 00:00:03:08 ", i + 1) + tc(i * 80) + " " + tc(i * 80 + 80) + "\n* FROM CLIP NAME: part \(i + 1)"
        }
        try (["TITLE: LONG", "FCM: NON-DROP FRAME"] + events).joined(separator: "\n").write(toFile: edl, atomically: true, encoding: .utf8)
        let pattern = work + "/{index}_{clip}.mkv", tmp = work + "/tmp"
        let args = [src, pattern, tmp, "--edl", edl, "--mux", "--audio-codec", "aac", "--encoder", "h264", "--lossless", "--preset", "veryfast",
                    "--max-scene-length", "1", "--workers", "1", "--threads", "1", "--quiet"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let names = (1...6).map { "\($0)_part_\($0).mkv" }
        func written() -> [String] {
            guard let d = FileManager.default.contents(atPath: tmp + "/joined.json"),
                  let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any], let outs = o["outputs"] as? [String: Int] else { return [] }
            return names.filter { (outs[work + "/" + $0] ?? -1) > 0 }
        }
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && p.isRunning && written().isEmpty { usleep(2_000) }
        Tool.killJob(p, tmp: tmp)
        let before = written()
        XCTAssertGreaterThanOrEqual(before.count, 1, "a clip was written before the kill")
        XCTAssertLessThan(before.count, 6, "the kill came before the job finished")
        var stamps: [String: Date] = [:]
        for n in before { stamps[n] = try FileManager.default.attributesOfItem(atPath: work + "/" + n)[.modificationDate] as? Date }
        let r = try Tool.mustRun(Tool.encoda, Array(args.dropLast()))
        XCTAssertTrue(r.stderr.contains("\(before.count) of 6 clips already written; they are kept"), r.stderr)
        for n in before {
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: work + "/" + n)[.modificationDate] as? Date, stamps[n], "\(n) was written again")
        }
        let aacFrame = 1024.0 / 48000
        for (i, n) in names.enumerated() {
            let out = work + "/" + n
            let expected = try Tool.frameHashes(src, filter: "trim=start_frame=\(i * 80):end_frame=\(i * 80 + 80),setpts=PTS-STARTPTS")
            XCTAssertEqual(try Tool.frameHashes(out), expected, "\(n) holds exactly its 80 frames")
            // Matroska has no edit list: the AAC encoder's priming moves every stream one audio frame later, so the
            // audio is measured against the video's span in the file.
            let v = try span(out, "v:0"), a = try span(out, "a:0")
            XCTAssertEqual(v.end - v.start, 80.0 / 24, accuracy: 0.0021, "Matroska times are in milliseconds")
            XCTAssertEqual(a.start, v.start, accuracy: aacFrame + 0.0011, "\(n): audio starts with the clip")
            XCTAssertEqual(a.end, v.end, accuracy: aacFrame + 0.0011, "\(n): audio ends with the clip")
        }
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/audio")) ?? [], [], "no clip's audio is left in TMP")
    }
}
