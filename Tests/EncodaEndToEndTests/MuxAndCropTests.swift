import Foundation
import XCTest

/// End-to-end tests of --autocrop/--crop/--scale and --mux: run the built binary, check what it wrote with
/// ffprobe/ffmpeg (independent tools).
final class MuxAndCropTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "encoda-muxcrop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    // MARK: crop

    func testLetterboxedClipGetsExactlyThePictureArea() throws {
        // 320x160 picture padded to 320x240 (bars of 40 lines), as a film on a 4:3 frame.
        let src = try Kit.lavfi(work + "/lb.mp4", "testsrc2=size=320x160:rate=25,pad=320:240:0:40:black", seconds: 2)
        let out = work + "/o.mkv"
        let r = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--lossless", "--preset", "ultrafast", "--autocrop", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Kit.videoSize(out), "320x160")
        XCTAssertEqual(try Kit.frameHashes(out), try Kit.frameHashes(src, filter: "crop=320:160:0:40"))
        let plan = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--autocrop", "--dry-run"])
        XCTAssertTrue(plan.stdout.contains("crop 320:160:0:40"), plan.stdout)
        // The measurements are in the scene cache.
        let cache = try String(contentsOfFile: work + "/tmp/scenes.json", encoding: .utf8)
        XCTAssertTrue(cache.contains("\"crop\""))
    }

    func testClipWithoutBarsIsNotCropped() throws {
        let src = try Kit.lavfi(work + "/full.mp4", "testsrc2=size=320x240:rate=25", seconds: 2)
        let out = work + "/o.mkv"
        let r = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--autocrop", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Kit.videoSize(out), "320x240")
    }

    func testBarsThatComeAndGoAreNotCropped() throws {
        // Letterboxed for the first second, full frame for the next two.
        let src = try Kit.lavfi(work + "/mixed.mp4",
                                "testsrc2=size=320x240:rate=25,drawbox=x=0:y=0:w=320:h=40:color=black:t=fill:enable='lt(t,1)',drawbox=x=0:y=200:w=320:h=40:color=black:t=fill:enable='lt(t,1)'",
                                seconds: 3)
        let out = work + "/o.mkv"
        let plan = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--autocrop", "--dry-run"])
        XCTAssertTrue(plan.stdout.contains("no crop"), plan.stdout)
        let r = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--autocrop", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Kit.videoSize(out), "320x240")
    }

    func testCropAndScaleAreFrameExact() throws {
        let src = try Kit.lavfi(work + "/s.mp4", "testsrc2=size=320x240:rate=25", seconds: 2)
        let out = work + "/o.mkv"
        let r = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                                "--crop", "200:120:60:40", "--scale", "96", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Kit.videoSize(out), "160x96")
        let ours = try Kit.frameHashes(out)
        XCTAssertEqual(ours.count, 50)
        XCTAssertEqual(ours, try Kit.frameHashes(src, filter: "crop=200:120:60:40,scale=160:96:flags=bicubic+accurate_rnd+full_chroma_int"))
    }

    func testImpossibleCropIsAClearError() throws {
        let src = try Kit.lavfi(work + "/s.mp4", "testsrc2=size=320x240:rate=25", seconds: 1)
        let out = work + "/o.mkv"
        for (crop, words) in [("400:100:0:0", "outside"), ("101:100:0:0", "even"), ("10:10", "W:H:X:Y")] {
            let r = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--crop", crop])
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains(words), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }

    // MARK: mux

    func testBigBuckBunnyKeeps51AudioInMKVAndMP4() throws {
        for ext in ["mkv", "mp4"] {
            let out = work + "/bbb.\(ext)"
            let r = try Kit.encoda([Kit.media("bigbuckbunny.mp4"), out, work + "/tmp-\(ext)", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let audio = try Kit.probe(out, "-select_streams", "a", "-show_entries", "stream=codec_name,channels,channel_layout")
            XCTAssertTrue(audio.contains("channels=6"), audio)
            XCTAssertTrue(audio.contains("channel_layout=5.1"), audio)
            let v = try Kit.span(out, stream: "v"), a = try Kit.span(out, stream: "a")
            XCTAssertEqual(v.packets, 132)
            XCTAssertEqual(a.start, v.start, accuracy: 0.04, "\(ext): audio starts at \(a.start), video at \(v.start)")
            XCTAssertEqual(a.end, v.end, accuracy: 0.04, "\(ext): audio ends at \(a.end), video at \(v.end)")
        }
    }

    func testSubtitlesAttachmentsAndLanguagesAreCarriedIntoMKV() throws {
        let out = work + "/p.mkv"
        let r = try Kit.encoda([Kit.media("pysd_issue-236-split-copy.mkv"), out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let subs = try Kit.probe(out, "-select_streams", "s", "-show_entries", "stream=codec_name:stream_tags=language,title")
            .split(separator: "\n").filter { $0.hasPrefix("stream") }
        XCTAssertEqual(subs.count, 3, subs.description)
        for (lang, title) in [("eng", "English"), ("por", "Portuguese(Brazil)"), ("spa", "Spanish(Latin_America)")] {
            XCTAssertTrue(subs.contains { $0.contains("language=\(lang)") && $0.contains("title=\(title)") && $0.contains("ass") }, subs.description)
        }
        let att = try Kit.probe(out, "-select_streams", "t", "-show_entries", "stream_tags=filename,mimetype")
            .split(separator: "\n").filter { $0.hasPrefix("stream") }
        XCTAssertEqual(att.count, 6, att.description)
        for name in ["OpenSans-ExtraBold.ttf", "OpenSans-Italic.ttf", "OpenSans-Light.ttf", "OpenSans-Regular.ttf", "OpenSans-Semibold.ttf", "MIAMA.OTF"] {
            XCTAssertTrue(att.contains { $0.contains("filename=\(name)") }, "missing \(name)")
        }
        let audio = try Kit.probe(out, "-select_streams", "a", "-show_entries", "stream=channels:stream_tags=language")
        XCTAssertTrue(audio.contains("channels=2") && audio.contains("language=jpn"), audio)
        XCTAssertEqual(try Kit.span(out, stream: "v").packets, 48)
    }

    func testChaptersAreCarriedIntoMKVAndMP4AndWebM() throws {
        let clip = try Kit.avClip(work + "/plain.mp4", seconds: 6)
        let meta = work + "/chapters.txt"
        try ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=2500\ntitle=Opening\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=2500\nEND=6000\ntitle=Credits\n"
            .write(toFile: meta, atomically: true, encoding: .utf8)
        let src = work + "/chaptered.mkv"
        try Kit.ffmpeg(["-i", clip, "-i", meta, "-map", "0", "-map_chapters", "1", "-c", "copy", src])
        XCTAssertTrue(try Kit.probe(src, "-show_chapters").contains("Credits"), "the source has chapters")
        let h264 = ["--encoder", "h264", "--preset", "ultrafast"]
        for (ext, codec) in [("mkv", h264), ("mp4", h264), ("webm", ["--encoder", "av1", "--preset", "12", "--audio-codec", "opus"])] {
            let out = work + "/ch." + ext
            let r = try Kit.encoda([src, out, work + "/tmp-" + ext] + codec + ["--mux", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let chapters = try Kit.probe(out, "-show_chapters").split(separator: "\n").filter { $0.hasPrefix("chapter") }
            XCTAssertEqual(chapters.count, 2, "\(ext): \(chapters)")
            XCTAssertTrue(chapters.first?.contains("title=Opening") == true && chapters.last?.contains("title=Credits") == true, "\(ext): \(chapters)")
            XCTAssertTrue(chapters.last?.contains("start_time=2.500000") == true, "\(ext): \(chapters)")
        }
    }

    /// With --cut-audio-to-video (by default the track is carried as it is: AudioSpanTests).
    func testLateAudioIsPaddedToStartAndEndWithTheVideoWhenCutToIt() throws {
        let base = try Kit.avClip(work + "/base.mkv", seconds: 2)
        let late = work + "/late.mkv"
        try Kit.ffmpeg(["-i", base, "-itsoffset", "0.5", "-i", base, "-map", "0:v", "-map", "1:a", "-c", "copy", late])
        let before = try Kit.span(late, stream: "a")
        XCTAssertGreaterThan(before.start, 0.4) // the source really starts late
        let out = work + "/o.mp4"
        let r = try Kit.encoda([late, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--cut-audio-to-video", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try Kit.probe(out, "-select_streams", "a", "-show_entries", "stream=codec_name").contains("aac"), "transcoded to be padded")
        let v = try Kit.span(out, stream: "v"), a = try Kit.span(out, stream: "a")
        XCTAssertEqual(a.start, v.start, accuracy: 0.04)
        XCTAssertEqual(a.end, v.end, accuracy: 0.04)
    }

    func testDamagedAudioStopsWithAChoiceAndNoOutput() throws {
        let clean = try Kit.avClip(work + "/clean.mkv", seconds: 2)
        let bad = work + "/bad.mkv"
        try Kit.damageAudio(clean, into: bad)
        let out = work + "/out/o.mkv"
        try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
        let r = try Kit.encoda([bad, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("damaged") && r.stderr.contains("--audio-codec") && r.stderr.contains("--no-audio"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work + "/out"), [], "nothing half-written")
        // The offered choice works: re-encode, damaged parts become silence.
        let r2 = try Kit.encoda([bad, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--audio-codec", "opus", "--quiet"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(try Kit.probe(out, "-select_streams", "a", "-show_entries", "stream=codec_name").contains("opus"))
    }

    func testAudioTheContainerCannotHoldIsAClearErrorOrTranscoded() throws {
        let src = work + "/pcm.mkv"
        try Kit.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000",
                        "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", src])
        let out = work + "/o.mp4"
        let r = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--audio-codec", "copy"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("pcm_s16le") && r.stderr.contains("--audio-codec") && r.stderr.contains("--no-audio"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let r2 = try Kit.encoda([src, out, work + "/tmp", "--encoder", "h264", "--preset", "ultrafast", "--mux", "--keep", "--quiet"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(try Kit.probe(out, "-select_streams", "a", "-show_entries", "stream=codec_name").contains("aac"))
        // Prepared once: a re-run reuses TMP/audio (same record file).
        let record = try String(contentsOfFile: work + "/tmp/audio/audio.json", encoding: .utf8)
        XCTAssertTrue(record.contains("\"aac\""))
    }
}

/// Helpers for these tests only (ffmpeg/ffprobe as oracles, the built encoda binary).
private enum Kit {
    // Running programs and finding the binary and media are shared with every end-to-end test (TestSupport.swift).
    typealias Result = Tool.Result
    static func media(_ name: String) -> String { Tool.media(name) }
    static func run(_ exe: String, _ args: [String]) throws -> Result { try Tool.run(exe, args) }
    static func encoda(_ args: [String]) throws -> Result { try Tool.encoda(args) }
    static func ffmpeg(_ args: [String]) throws { try Tool.ffmpeg(args) }

    static func probe(_ file: String, _ args: String...) throws -> String {
        try run("/usr/bin/ffprobe", ["-v", "error"] + args + ["-of", "compact", file]).stdout
    }

    @discardableResult
    static func lavfi(_ path: String, _ graph: String, seconds: Double) throws -> String {
        try ffmpeg(["-f", "lavfi", "-i", graph, "-t", String(seconds), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", path])
        return path
    }

    /// A small clip with video and stereo AAC audio.
    static func avClip(_ path: String, seconds: Double) throws -> String {
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", String(seconds), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-ac", "2", path])
        return path
    }

    /// Overwrites the payload of ten audio packets in the middle with garbage (container structure intact).
    static func damageAudio(_ src: String, into dst: String) throws {
        let rows = try run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "packet=size,pos", "-of", "csv=p=0", src])
            .stdout.split(separator: "\n")
        var data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: src)))
        for row in rows.dropFirst(20).prefix(10) {
            let f = row.split(separator: ",").compactMap { Int($0) }
            guard f.count == 2 else { continue }
            let (size, pos) = (f[0], f[1])
            for i in (pos + 16)..<(pos + size) where i < data.count { data[i] = UInt8(truncatingIfNeeded: i &* 37) }
        }
        try Data(data).write(to: URL(fileURLWithPath: dst))
    }

    static func videoSize(_ file: String) throws -> String {
        let s = try probe(file, "-select_streams", "v", "-show_entries", "stream=width,height")
        let w = s.components(separatedBy: "width=").last?.split(separator: "|").first ?? ""
        let h = s.components(separatedBy: "height=").last?.split(separator: "\n").first ?? ""
        return "\(w)x\(h)"
    }

    /// Per-frame MD5 of the decoded picture (framemd5 hash column), optionally after an ffmpeg filter.
    static func frameHashes(_ file: String, filter: String? = nil) throws -> [String] {
        var args = ["-v", "error", "-i", file]
        if let filter { args += ["-vf", filter] }
        args += ["-map", "0:v", "-pix_fmt", "yuv420p", "-f", "framemd5", "-"]
        let r = try run("/usr/bin/ffmpeg", args)
        return r.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ",").last.map { String($0).trimmingCharacters(in: .whitespaces) } }
    }

    /// First instant, end (pts + duration of the last packet) and packet count of a stream, in seconds.
    static func span(_ file: String, stream: String) throws -> (start: Double, end: Double, packets: Int) {
        let r = try run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", file])
        var start = Double.infinity, end = -Double.infinity, n = 0
        for row in r.stdout.split(separator: "\n") {
            let f = row.split(separator: ",").map { Double($0) ?? 0 }
            guard f.count >= 2 else { continue }
            start = min(start, f[0]); end = max(end, f[0] + f[1]); n += 1
        }
        return (start, end, n)
    }
}
