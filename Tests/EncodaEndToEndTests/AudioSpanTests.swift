import Foundation
import XCTest

/// `--mux` carries the whole of each audio track at its place beside the video, as `ffmpeg -c copy` does: the
/// lead-in before the first frame and the tail after the last. `--cut-audio-to-video` cuts it to the video and says
/// what it cut. Sources are made with ffmpeg (`-itsoffset`), read back with ffprobe, and compared with the source
/// and with what ffmpeg itself writes for the same source.
final class AudioSpanTests: XCTestCase {
    private var scratch: Scratch!
    private var work: String { scratch.path }

    override func setUpWithError() throws { scratch = Scratch() }
    override func tearDownWithError() throws { scratch = nil }

    /// One AAC frame at 48 kHz (1024 samples): the tolerance for where an audio track starts and ends.
    private let aacFrame = 1024.0 / 48000
    /// One Opus frame (20 ms).
    private let opusFrame = 0.020

    /// 3 s of 160x120 video at 25 fps and an AAC sine track of `audioSeconds` s that starts `audioOffset` s after
    /// the video (negative: before), in `ext` (mkv, mp4 or ts). ffmpeg makes the earliest stream start at zero.
    private func source(_ name: String, audioOffset: Double, audioSeconds: Double, ext: String) throws -> String {
        let video = work + "/v-\(name).mkv", audio = work + "/a-\(name).mka"
        if !FileManager.default.fileExists(atPath: video) {
            try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast",
                             "-pix_fmt", "yuv420p", video])
            try Tool.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", String(audioSeconds), "-c:a", "aac", "-ac", "2", audio])
        }
        let out = work + "/\(name).\(ext)"
        let v = audioOffset < 0 ? ["-itsoffset", String(-audioOffset)] : [], a = audioOffset > 0 ? ["-itsoffset", String(audioOffset)] : []
        try Tool.ffmpeg(v + ["-i", video] + a + ["-i", audio, "-map", "0:v", "-map", "1:a", "-c", "copy", out])
        return out
    }

    /// The audio's start and end relative to the video's first instant, in seconds, and its packet count; from
    /// ffprobe's packet list (pts and duration of every packet).
    private func audioAgainstVideo(_ file: String) throws -> (start: Double, end: Double, packets: Int, videoStart: Double, videoEnd: Double) {
        let v = try span(file, "v:0"), a = try span(file, "a:0")
        return (a.start - v.start, a.end - v.start, a.packets, v.start, v.end)
    }

    private func span(_ file: String, _ stream: String) throws -> (start: Double, end: Double, packets: Int) {
        let r = try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", file])
        var start = Double.infinity, end = -Double.infinity, n = 0
        for row in r.stdout.split(separator: "\n") {
            let f = row.split(separator: ",").compactMap { Double($0) }
            guard f.count >= 2 else { continue }
            start = min(start, f[0]); end = max(end, f[0] + f[1]); n += 1
        }
        return (start, end, n)
    }

    private func encode(_ src: String, _ out: String, _ extra: [String] = []) throws -> Tool.Result {
        let tmp = work + "/tmp-" + (out as NSString).lastPathComponent
        let r = try Tool.encoda([src, out, tmp, "--encoder", "h264", "--preset", "ultrafast", "--max-scene-length", "1", "--mux", "-y"] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r
    }

    func testWholeAudioTrackIsCarriedAlignedAsFfmpegCopyCarriesIt() throws {
        // Audio from 0.5 s before the first frame to 1.4 s after the last, and from 0.5 s after the first to 1.4 s before the end.
        for (name, offset, seconds) in [("early", -0.5, 4.9), ("late", 0.5, 1.1)] {
            for ext in ["mkv", "mp4", "ts"] {
                let src = try source(name, audioOffset: offset, audioSeconds: seconds, ext: ext)
                let s = try audioAgainstVideo(src)
                XCTAssertEqual(s.start, offset, accuracy: 0.05, "\(name).\(ext): the source is made as meant")
                for out in ["mkv", "mp4"] {
                    let what = "\(name).\(ext) → .\(out)"
                    let ref = work + "/ref-\(name)-\(ext).\(out)"
                    try Tool.ffmpeg(["-i", src, "-map", "0", "-c", "copy", ref])
                    let f = try audioAgainstVideo(ref)
                    let dst = work + "/\(name)-\(ext).\(out)"
                    let r = try encode(src, dst)
                    let o = try audioAgainstVideo(dst)
                    XCTAssertEqual(try span(dst, "v:0").packets, 75, what)
                    // ffprobe lists an MP4's priming packet differently from Matroska's and TS's: ±1 against the source.
                    XCTAssertEqual(Double(o.packets), Double(s.packets), accuracy: 1, "\(what): every audio packet is carried")
                    XCTAssertEqual(o.packets, f.packets, "\(what): as many audio packets as ffmpeg -c copy writes")
                    XCTAssertEqual(o.start, s.start, accuracy: aacFrame, "\(what): audio starts where it starts in the source")
                    XCTAssertEqual(o.end, s.end, accuracy: aacFrame, "\(what): audio ends where it ends in the source")
                    XCTAssertEqual(o.start, f.start, accuracy: aacFrame, "\(what): audio starts where ffmpeg -c copy puts it")
                    XCTAssertEqual(o.end, f.end, accuracy: aacFrame, "\(what): audio ends where ffmpeg -c copy puts it")
                    XCTAssertFalse(r.stderr.contains("--cut-audio-to-video") || r.stderr.contains("covers"), "\(what): nothing to say: \(r.stderr)")
                }
            }
        }
    }

    func testCutAudioToVideoKeepsTheVideosSpanAndSaysWhatIsCut() throws {
        for ext in ["mkv", "ts"] {
            let src = try source("early", audioOffset: -0.5, audioSeconds: 4.9, ext: ext)
            let s = try audioAgainstVideo(src)
            for out in ["mkv", "mp4"] {
                let what = "early.\(ext) → .\(out)"
                let dst = work + "/cut-\(ext).\(out)"
                let r = try encode(src, dst, ["--cut-audio-to-video"])
                let o = try audioAgainstVideo(dst)
                // A copied track is cut between packets: the first kept packet may begin up to half a video frame
                // (20 ms) and one audio frame before the first frame, the last may end one audio frame after the last.
                XCTAssertEqual(o.start, 0, accuracy: aacFrame + 0.02, "\(what): audio starts with the first frame")
                XCTAssertEqual(o.end, o.videoEnd - o.videoStart, accuracy: aacFrame + 0.02, "\(what): audio ends with the last frame")
                XCTAssertEqual(o.packets, Int(((o.videoEnd - o.videoStart) / aacFrame).rounded(.up)), accuracy: 2, "\(what)")
                let before = String(format: "%.2f", -s.start), after = String(format: "%.2f", s.end - (s.videoEnd - s.videoStart))
                XCTAssertTrue(r.stderr.contains("audio track #1: \(before) s before the first frame and \(after) s after the last are cut (--cut-audio-to-video)"),
                              "\(what): \(r.stderr)")
            }
        }
        // Without --mux the flag is a usage error.
        let src = work + "/early.mkv"
        let r = try Tool.encoda([src, work + "/x.mkv", work + "/tmp-x", "--encoder", "h264", "--cut-audio-to-video"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--cut-audio-to-video applies to --mux"), r.stderr)
    }

    func testTranscodedAudioKeepsItsPlace() throws {
        for (name, offset, seconds, ext) in [("early", -0.5, 4.9, "mkv"), ("late", 0.5, 1.1, "ts")] {
            let src = try source(name, audioOffset: offset, audioSeconds: seconds, ext: ext)
            let s = try audioAgainstVideo(src)
            // The encoder's priming as libavcodec reports it (initial_padding: 312 samples for libopus, 1024 for aac):
            // the first packet starts that much before the source's first sample.
            for (out, codec, frame, priming) in [("mkv", "opus", opusFrame, 312.0 / 48000), ("mp4", "aac", aacFrame, 1024.0 / 48000)] {
                let what = "\(name).\(ext) → \(codec) in .\(out)"
                let ref = work + "/ref-\(name)-\(codec).\(out)"
                try Tool.ffmpeg(["-i", src, "-map", "0", "-c:v", "copy", "-c:a", codec == "opus" ? "libopus" : "aac", ref])
                let f = try audioAgainstVideo(ref)
                let dst = work + "/\(name)-\(codec).\(out)"
                _ = try encode(src, dst, ["--audio-codec", codec])
                let o = try audioAgainstVideo(dst)
                XCTAssertEqual(o.start + priming, s.start, accuracy: frame, "\(what): audio starts where it starts in the source")
                XCTAssertEqual(o.end, s.end, accuracy: frame, "\(what): audio ends where it ends in the source")
                XCTAssertEqual(o.start, f.start, accuracy: frame, "\(what): audio starts where ffmpeg puts it")
                XCTAssertEqual(o.end, f.end, accuracy: frame, "\(what): audio ends where ffmpeg puts it")
            }
        }
    }
}

extension AudioSpanTests {
    /// An MP4 whose audio begins 0.5 s before time zero, hidden by its edit list (`-copyts -itsoffset -0.5`): into MP4
    /// it stays as it is (the edit list is carried), into Matroska, which has no edit list, every stream moves later
    /// and the lead-in plays; both as ffmpeg -c copy does, and the Matroska case is said.
    func testLeadInBeforeTimeZeroIsCarriedAsFfmpegCopyCarriesIt() throws {
        _ = try source("neg", audioOffset: 0, audioSeconds: 4.9, ext: "mkv")
        let src = work + "/neg.mp4"
        try Tool.ffmpeg(["-copyts", "-i", work + "/v-neg.mkv", "-itsoffset", "-0.5", "-i", work + "/a-neg.mka", "-map", "0:v", "-map", "1:a", "-c", "copy", src])
        let s = try audioAgainstVideo(src)
        XCTAssertLessThan(s.start, -0.45, "the source's audio has packets 0.5 s before the video")
        for out in ["mkv", "mp4"] {
            let ref = work + "/ref-neg.\(out)", dst = work + "/neg-out.\(out)"
            try Tool.ffmpeg(["-i", src, "-map", "0", "-c", "copy", ref])
            let f = try audioAgainstVideo(ref)
            let r = try encode(src, dst)
            let o = try audioAgainstVideo(dst)
            XCTAssertEqual(o.packets, f.packets, out)
            XCTAssertEqual(o.start, f.start, accuracy: aacFrame, "\(out): audio starts where ffmpeg -c copy puts it")
            XCTAssertEqual(o.end, f.end, accuracy: aacFrame, "\(out): audio ends where ffmpeg -c copy puts it")
            XCTAssertEqual(o.start, s.start, accuracy: aacFrame, "\(out): the lead-in keeps its offset to the video")
            XCTAssertEqual(o.videoStart, f.videoStart, accuracy: 0.002, "\(out): the video starts where ffmpeg -c copy puts it")
            let lead = String(format: "%.2f", -(s.start + s.videoStart))   // the first audio packet's time in INPUT
            let said = r.stderr.contains("audio track #1 has \(lead) s before INPUT's time zero that INPUT's edit list hides; OUTPUT .mkv has no edit list, so every stream of OUTPUT is shifted \(lead) s later")
            XCTAssertEqual(said, out == "mkv", r.stderr)
        }
    }
}

extension AudioSpanTests {
    /// A subtitle and a chapter after the video's last frame are kept, as ffmpeg -c copy keeps them.
    func testSubtitlesAndChaptersAfterTheVideoAreKept() throws {
        let base = try source("subs", audioOffset: -0.5, audioSeconds: 4.9, ext: "mkv")
        try "1\n00:00:00,500 --> 00:00:01,000\nduring\n\n2\n00:00:04,000 --> 00:00:04,500\nafter\n".write(toFile: work + "/s.srt", atomically: true, encoding: .utf8)
        try ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3000\ntitle=During\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=3800\nEND=4500\ntitle=After\n"
            .write(toFile: work + "/ch.txt", atomically: true, encoding: .utf8)
        let src = work + "/subs-ch.mkv", ref = work + "/subs-ref.mkv", dst = work + "/subs-out.mkv"
        try Tool.ffmpeg(["-i", base, "-i", work + "/s.srt", "-i", work + "/ch.txt", "-map", "0", "-map", "1", "-map_chapters", "2", "-c", "copy", src])
        try Tool.ffmpeg(["-i", src, "-map", "0", "-c", "copy", ref])
        _ = try encode(src, dst)
        func subtitles(_ f: String) throws -> String {
            try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", "s", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", f]).stdout
        }
        func chapters(_ f: String) throws -> String {
            try Tool.mustRun("ffprobe", ["-v", "error", "-show_entries", "chapter=start_time,end_time:chapter_tags=title", "-of", "csv=p=0", f]).stdout
        }
        XCTAssertLessThan(try span(dst, "v:0").end, 3.6, "the video ends before the last subtitle and chapter")
        let subs = try subtitles(dst), marks = try chapters(dst)
        XCTAssertEqual(subs, try subtitles(ref))
        XCTAssertTrue(subs.contains("4.000000"), subs)
        XCTAssertEqual(marks, try chapters(ref))
        XCTAssertTrue(marks.contains("After"), marks)
    }
}
