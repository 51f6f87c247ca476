import Foundation
import XCTest

/// `--start`/`--end`/`--duration`: OUTPUT holds exactly the source frames [start, end), timestamps from 0 (or the
/// source's with `--keep-timestamps`), whatever unit the range is given in. Checked against ffmpeg's own
/// `trim=start_frame:end_frame,setpts=PTS-STARTPTS` of the source (framemd5 of lossless x264) and ffprobe's times.
final class TrimEndToEndTests: XCTestCase {
    private var scratch: Scratch!
    private var work: String { scratch.path }

    override func setUpWithError() throws { scratch = Scratch() }
    override func tearDownWithError() throws { scratch = nil }

    private let common = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]

    /// 100 frames of 160x120 at 25 fps with one keyframe only (frame 0): every range starts inside one long GOP,
    /// on a frame a worker reaches only by decoding on from frame 0. With `audio`, an AAC sine track beside it.
    private func source(audio: Bool = false) throws -> String {
        let out = work + (audio ? "/src-audio.mkv" : "/src.mkv")
        if FileManager.default.fileExists(atPath: out) { return out }
        let a = audio ? ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "aac", "-shortest"] : []
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25"] + a + ["-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
                         "-x264-params", "keyint=1000:min-keyint=1000:scenecut=0", "-pix_fmt", "yuv420p", out])
        return out
    }

    /// ffmpeg's trim of `src` to frames [s, e), timestamps from 0: the frames OUTPUT must hold.
    private func oracle(_ src: String, _ s: Int, _ e: Int) throws -> [String] {
        try Tool.frameHashes(src, filter: "trim=start_frame=\(s):end_frame=\(e),setpts=PTS-STARTPTS")
    }

    private func chunks(_ stdout: String) -> Int {
        stdout.split(separator: "\n").first { $0.hasPrefix("chunks:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// Encodes `src` with the range options `range`; checks that the plan has several chunks, that OUTPUT holds
    /// exactly frames [s, e) of `src` and that its times are the source's moved to start at 0 (or kept).
    private func checkTrim(_ src: String, _ range: [String], frames s: Int, _ e: Int, keep: Bool = false, name: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let out = work + "/\(name).mkv", tmp = work + "/tmp-\(name)"
        let plan = try Tool.mustRun(Tool.encoda, [src, out, tmp, "--dry-run"] + common + range, file: file, line: line)
        XCTAssertTrue(plan.stdout.contains("range:     frames \(s)–\(e - 1) of"), "\(name): \(plan.stdout)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(chunks(plan.stdout), 2, "\(name): several chunks", file: file, line: line)
        try Tool.mustRun(Tool.encoda, [src, out, tmp, "--quiet"] + common + range, file: file, line: line)
        let expected = try oracle(src, s, e)
        XCTAssertEqual(expected.count, e - s, file: file, line: line)
        XCTAssertEqual(try Tool.frameHashes(out), expected, "\(name): OUTPUT holds exactly source frames \(s)..<\(e)", file: file, line: line)
        let source = try Tool.frameTimes(src), times = try Tool.frameTimes(out)
        let wanted = source[s..<e].map { keep ? $0 : $0 - source[s] }
        XCTAssertEqual(times.count, wanted.count, file: file, line: line)
        for (t, w) in zip(times, wanted) { XCTAssertEqual(t, w, accuracy: 0.0011, "\(name): frame times", file: file, line: line) }
        if !keep { XCTAssertEqual(times.first ?? -1, 0, accuracy: 1e-9, "\(name): the first frame is at 0", file: file, line: line) }
    }

    func testFramesSecondsAndTimecodeGiveExactlyTheRangeFromANonKeyframe() throws {
        let src = try source()
        // Frame 13 is no keyframe (the only one is frame 0); 0.52 s and 00:00:00:13 are frame 13 at 25 fps, 3.08 s and
        // 00:00:03:02 frame 77.
        try checkTrim(src, ["--start", "13", "--end", "77"], frames: 13, 77, name: "frames")
        try checkTrim(src, ["--start", "0.52s", "--end", "3.08s"], frames: 13, 77, name: "seconds")
        try checkTrim(src, ["--start", "00:00:00:13", "--duration", "00:00:02:14"], frames: 13, 77, name: "timecode")
        // A time between two frames starts at the next frame.
        try checkTrim(src, ["--start", "0.5s", "--duration", "60"], frames: 13, 73, name: "between")
        try checkTrim(src, ["--start", "30", "--keep-timestamps"], frames: 30, 100, keep: true, name: "keep")
    }

    /// 29.97 fps: 00:00:59;20 is frame 1790 and 00:01:02;02 frame 1860 in drop-frame timecode (labels 00:01:00;00 and
    /// ;01 do not exist); counted as non-drop they would be frames 1790 and 1862.
    func testDropFrameTimecodeAt2997() throws {
        let src = work + "/ntsc.mp4"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30000/1001", "-frames:v", "1880", "-c:v", "libx264",
                         "-preset", "ultrafast", "-pix_fmt", "yuv420p", src])
        try checkTrim(src, ["--start", "00:00:59;20", "--end", "00:01:02;02"], frames: 1790, 1860, name: "drop-frame")
    }

    func testOutOfRangeAndReversedRangesAreUsageErrorsInTheUnitGiven() throws {
        let src = try source(), out = work + "/never.mkv", tmp = work + "/tmp-errors"
        for (range, says) in [(["--start", "100"], "INPUT has 100 frames (0–99)"),
                              (["--end", "4.5s"], "INPUT is 4 s long"),
                              (["--start", "10", "--duration", "00:00:04:00"], "INPUT is 00:00:04:00 long"),
                              (["--start", "50", "--end", "20"], "the range is empty or reversed"),
                              (["--start", "2s", "--end", "25"], "frame 25 is not after frame 50")] {
            let r = try Tool.encoda([src, out, tmp] + common + range)
            XCTAssertEqual(r.status, 64, "\(range): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(says), "\(range): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(range): nothing at OUTPUT")
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/job.json"), "\(range): no job planned")
        }
    }

    func testReRunWithAnotherRangeIsRefusedAndTheSameRangeResumes() throws {
        let src = try source(), tmp = work + "/tmp-resume"
        let args = common + ["--start", "13", "--end", "77"]
        try Tool.mustRun(Tool.encoda, [src, work + "/first.mkv", tmp, "--keep", "--quiet"] + args)
        // One chunk loses its result record: the re-run encodes that one again and keeps the other.
        let results = try FileManager.default.contentsOfDirectory(atPath: tmp + "/results").filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(results.count, 2)
        try FileManager.default.removeItem(atPath: tmp + "/results/" + results[0])

        let other = try Tool.encoda([src, work + "/other.mkv", tmp] + common + ["--start", "13", "--end", "78"])
        XCTAssertEqual(other.status, 74, other.stderr)
        XCTAssertTrue(other.stderr.contains("--start/--end (that job encodes frames 13–76)"), other.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/other.mkv"))
        // The refusal leaves TMP's record as the finished job wrote it.
        let status = try Tool.encoda(["status", tmp]).stdout
        XCTAssertTrue(status.contains(": finished,") && status.contains("first.mkv"), status)

        let again = try Tool.mustRun(Tool.encoda, [src, work + "/again.mkv", tmp] + args)
        XCTAssertTrue(again.stderr.contains("\(results.count - 1) of \(results.count) chunks already done"), again.stderr)
        XCTAssertEqual(try Tool.frameHashes(work + "/again.mkv"), try oracle(src, 13, 77))
    }

    // MARK: --mux

    /// Start and end (pts + duration) of a stream's packets, seconds, by ffprobe.
    private func span(_ file: String, _ stream: String) throws -> (start: Double, end: Double) {
        let r = try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", file])
        var start = Double.infinity, end = -Double.infinity
        for row in r.stdout.split(separator: "\n") {
            let f = row.split(separator: ",").compactMap { Double($0) }
            guard f.count >= 2 else { continue }
            start = min(start, f[0]); end = max(end, f[0] + f[1])
        }
        return (start, end)
    }

    /// The audio is cut to the video's span within one audio frame (an AAC frame at 48 kHz: 21.3 ms), copied and
    /// transcoded; subtitles are clipped to the span and moved with it, chapters kept inside it and clipped at its edges.
    func testMuxCutsAudioSubtitlesAndChaptersToTheRange() throws {
        let av = try source(audio: true)
        let srt = work + "/s.srt", chapters = work + "/ch.txt", src = work + "/src-mux.mkv"
        try "1\n00:00:00,200 --> 00:00:00,900\nbefore and across the start\n\n2\n00:00:01,000 --> 00:00:02,000\ninside\n\n3\n00:00:03,500 --> 00:00:03,900\nafter the end\n"
            .write(toFile: srt, atomically: true, encoding: .utf8)
        try ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=one\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=3200\ntitle=two\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=3200\nEND=4000\ntitle=three\n"
            .write(toFile: chapters, atomically: true, encoding: .utf8)
        try Tool.ffmpeg(["-i", av, "-i", srt, "-i", chapters, "-map", "0", "-map", "1", "-map_chapters", "2", "-c", "copy", "-c:s", "srt", src])
        let aacFrame = 1024.0 / 48000
        // The video's first frame on the source's clock: the range's times are counted from it.
        let t0 = try Tool.frameTimes(src)[0]

        for (codec, ext) in [("copy", "mkv"), ("aac", "mp4")] {
            let out = work + "/mux-\(codec).\(ext)"
            let r = try Tool.mustRun(Tool.encoda, [src, out, work + "/tmp-mux-\(codec)", "--mux", "--audio-codec", codec, "--start", "0.6s", "--end", "3s"] + common)
            if codec == "copy" { XCTAssertTrue(r.stderr.contains("cut at its packet boundaries"), r.stderr) }
            XCTAssertEqual(try Tool.frameHashes(out), try oracle(src, 15, 75))
            let v = try span(out, "v:0"), a = try span(out, "a:0")
            XCTAssertEqual(v.start, 0, accuracy: 1e-9)
            XCTAssertEqual(v.end, 2.4, accuracy: 0.0011)
            XCTAssertEqual(a.start, v.start, accuracy: aacFrame + 0.0011, "\(codec): audio starts with the video")
            XCTAssertEqual(a.end, v.end, accuracy: aacFrame + 0.0011, "\(codec): audio ends with the video")
        }
        let out = work + "/mux-copy.mkv"
        let subs = try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", "s:0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", out])
            .stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }
        XCTAssertEqual(subs.count, 2, "the subtitle after the end is left out: \(subs)")
        // 0.2–0.9 s clipped to the start (t0 + 0.6 s), then moved with it; 1.0–2.0 s moved only.
        let start = t0 + 0.6
        XCTAssertEqual(subs.first?[0] ?? -1, 0, accuracy: 0.0011)
        XCTAssertEqual(subs.first?[1] ?? -1, 0.9 - start, accuracy: 0.0011)
        XCTAssertEqual(subs.last?[0] ?? -1, 1.0 - start, accuracy: 0.0011)
        XCTAssertEqual(subs.last?[1] ?? -1, 1.0, accuracy: 0.0011)
        let chapterRows = try Tool.mustRun("ffprobe", ["-v", "error", "-show_entries", "chapter=start_time,end_time", "-of", "csv=p=0", out])
            .stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }
        XCTAssertEqual(chapterRows.count, 2, "the chapter after the end is left out: \(chapterRows)")
        for (row, wanted) in zip(chapterRows, [[0, 1.0 - start], [1.0 - start, 2.4]]) {
            XCTAssertEqual(row.count, 2)
            for (a, b) in zip(row, wanted) { XCTAssertEqual(a, b, accuracy: 0.0011, "chapters: \(chapterRows)") }
        }
    }
    /// Transcoded audio is cut to the sample, not to the container's timestamps only: a track that is silent until
    /// 2.0 s and then steps to half scale (in MOV, whose audio clock counts samples; MKV's counts milliseconds), trimmed from 1.6 s, must step 0.4 s (19,200 samples at 48 kHz) into
    /// OUTPUT's audio. Before the fix, a decoded frame wholly before the cut counted as a start, and the next one was
    /// kept whole because it overlapped the cut by less than the 100 ms tolerance: the audio came out ~90 ms early.
    func testTranscodedAudioIsCutToTheSample() throws {
        let src = work + "/step.mov"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi",
                         "-i", "aevalsrc=exprs=if(gte(t\\,2)\\,0.5\\,0):s=48000:d=4", "-t", "4",
                         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", src])
        let t0 = try Tool.frameTimes(src)[0]
        for (start, name) in [("40", "frame"), ("1.61s", "mid-frame")] {
            let out = work + "/step-\(name).mkv", pcm = work + "/step-\(name).raw"
            try Tool.mustRun(Tool.encoda, [src, out, work + "/tmp-step-\(name)", "--mux", "--audio-codec", "flac",
                                           "--start", start, "--end", "90"] + common)
            try Tool.ffmpeg(["-i", out, "-map", "0:a", "-f", "s16le", "-ac", "1", pcm])
            let data = try Data(contentsOf: URL(fileURLWithPath: pcm))
            let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
            let step = try XCTUnwrap(samples.firstIndex { abs(Int($0)) > 8000 }, "\(name): the step is in OUTPUT's audio")
            // OUTPUT starts at source frame 40 (1.6 s after the first frame; 1.61 s maps to frame 41).
            let first = name == "frame" ? 1.6 : 1.64
            let expected = Int(((2.0 - (t0 + first)) * 48000).rounded())
            XCTAssertLessThanOrEqual(abs(step - expected), 1, "\(name): the step sits \(step - expected) samples from where the cut puts it")
        }
    }
}
