import Foundation
import XCTest

/// The small defects of the Trust issue, each proven on the built binary with independent checks (ffprobe on
/// OUTPUT, the plan in TMP/job.json, exact note lines): detect honours --max-scene-length, Av1an files with zone
/// overrides are accepted, one list of output extensions, nothing is left out of OUTPUT without a word, and no
/// silent upscaling.
final class SmallDefectsTests: XCTestCase {
    private let h264 = ["--encoder", "h264", "--preset", "ultrafast"]

    // MARK: detect --max-scene-length

    /// The cut clip's 110-frame shot (frames 105–214) is longer than 2 s: detect splits it where an encode would
    /// (the same frames as the plan's keyframes), marks those lines "split", and exports them as split_scenes.
    func testDetectSplitsLongShotsLikeTheEncodePlan() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let plain = try Tool.mustRun(Tool.encoda, ["detect", clip, s.file("tmp"), "--max-scene-length", "0", "--quiet"])
        let split = try Tool.mustRun(Tool.encoda, ["detect", clip, s.file("tmp"), "--max-scene-length", "2", "--quiet",
                                                   "--export-av1an", s.file("scenes.json")])
        func lines(_ r: Tool.Result) -> [[Substring]] { r.stdout.split(separator: "\n").map { $0.split(separator: "\t") } }
        XCTAssertEqual(lines(plain).map { Int($0[0])! }, Clips.knownCuts)
        XCTAssertTrue(lines(plain).allSatisfy { $0.count == 2 }, plain.stdout)
        XCTAssertNotEqual(plain.stdout, split.stdout, "--max-scene-length must change detect's output")

        let cutsSeen = lines(split).filter { $0.count == 2 }.map { Int($0[0])! }
        let splits = lines(split).filter { $0.count == 3 }
        XCTAssertEqual(cutsSeen, Clips.knownCuts, "cuts stay as they were")
        XCTAssertTrue(splits.allSatisfy { $0[2] == "split" }, split.stdout)
        let splitFrames = splits.map { Int($0[0])! }
        XCTAssertFalse(splitFrames.isEmpty, split.stdout)
        XCTAssertTrue(splitFrames.contains { (106..<215).contains($0) }, "the 110-frame shot is split inside: \(splitFrames)")
        let all = lines(split).map { Int($0[0])! }
        XCTAssertEqual(all, all.sorted(), "one boundary per line, in order")
        for (a, b) in zip([0] + all, all + [Clips.cutFrames]) { XCTAssertLessThanOrEqual(b - a, 50, "no shot longer than 2 s (50 frames)") }

        // The encode plan with the same options puts a keyframe at exactly these frames.
        let plan = try Tool.mustRun(Tool.encoda, [clip, s.file("o.mkv"), s.file("tmp"), "--max-scene-length", "2", "--dry-run"] + h264)
        var keyframes: [Int] = []
        for line in plan.stdout.split(separator: "\n") where line.hasPrefix("  0") && line.contains("frames ") {
            let start = Int(line.split(separator: " ")[2].split(separator: "–")[0])!
            if let r = line.range(of: "keyframes at ") {
                keyframes += line[r.upperBound...].split(separator: " ").map { Int($0)! }
            } else {
                keyframes.append(start)
            }
        }
        XCTAssertEqual(keyframes.filter { $0 > 0 }, all, plan.stdout)

        // --export-av1an: the cuts as scenes, the shots after splitting as split_scenes (newer Av1an's layout).
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.file("scenes.json")))) as! [String: Any]
        let scenes = (json["scenes"] as! [[String: Any]]).map { $0["start_frame"] as! Int }
        let splitScenes = (json["split_scenes"] as! [[String: Any]]).map { $0["start_frame"] as! Int }
        XCTAssertEqual(scenes, [0] + Clips.knownCuts)
        XCTAssertEqual(splitScenes, [0] + all)
    }

    // MARK: --scenes-json with zone overrides

    /// An Av1an scenes.json whose scenes carry zone overrides (objects, as Av1an writes them) and split_scenes is
    /// accepted, with one note; its cuts (not the clip's own) become the chunk boundaries in TMP/job.json and
    /// keyframes of OUTPUT.
    func testAv1anScenesWithZoneOverridesAreAcceptedAndTheirCutsUsed() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let zone = #"{"encoder":"svt_av1","passes":1,"video_params":["--crf","20","--preset","4"],"photon_noise":8,"extra_splits_len":240,"min_scene_len":24}"#
        let file = """
            {"frames":250,"scenes":[{"start_frame":0,"end_frame":100,"zone_overrides":\(zone)},\
            {"start_frame":100,"end_frame":180,"zone_overrides":null},\
            {"start_frame":180,"end_frame":250,"zone_overrides":\(zone)}],\
            "split_scenes":[{"start_frame":0,"end_frame":100,"zone_overrides":null},{"start_frame":100,"end_frame":180,"zone_overrides":null},\
            {"start_frame":180,"end_frame":250,"zone_overrides":null}]}
            """
        try file.write(toFile: s.file("zones.json"), atomically: true, encoding: .utf8)
        let r = try Tool.encoda([clip, s.file("out.mkv"), s.file("tmp"), "--scenes-json", s.file("zones.json"), "--max-scene-length", "0", "--keep"] + h264)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("encoda: 2 scenes carry Av1an zone overrides; encoda ignores them and encodes every scene with the same settings\n"), r.stderr)

        let job = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.file("tmp/job.json")))) as! [String: Any]
        let ranges = (job["chunks"] as! [[String: Any]]).map { c -> [Int] in
            let range = c["range"] as! [String: Any]
            return [range["start"] as! Int, range["end"] as! Int]
        }
        XCTAssertEqual(ranges, [[0, 100], [100, 180], [180, 250]])

        let probe = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame", "-of", "csv=p=0", s.file("out.mkv")])
        let flags = probe.stdout.split(separator: "\n").map { $0.split(separator: ",").first.map(String.init) ?? "" }
        XCTAssertEqual(flags.count, 250)
        for k in [0, 100, 180] { XCTAssertEqual(flags[k], "1", "frame \(k) starts a scene of the file and must be a keyframe") }

        // A file without overrides gets no note.
        try file.replacingOccurrences(of: zone, with: "null").write(toFile: s.file("plain.json"), atomically: true, encoding: .utf8)
        let plain = try Tool.mustRun(Tool.encoda, [clip, s.file("p.mkv"), s.file("tmp2"), "--scenes-json", s.file("plain.json"), "--dry-run"] + h264)
        XCTAssertFalse(plain.stderr.contains("zone overrides"), plain.stderr)
        XCTAssertTrue(plain.stdout.contains("cuts:      2: 100 180"), plain.stdout)
    }

    // MARK: output extensions

    /// The help lists the extensions; each listed one is accepted for the codecs it names and refused for the
    /// other, and an unknown extension's error lists exactly what the help gives for that codec.
    func testTheHelpListsExactlyTheExtensionsEncodaWrites() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        let help = try Tool.mustRun(Tool.encoda, ["encode", "--help"]).stdout
            .replacingOccurrences(of: "\n", with: " ").split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ")
        let groups: [(label: String, codecs: [String])] = [("(AV1 or H.264)", ["av1", "h264"]), ("(AV1)", ["av1"]), ("(H.264)", ["h264"])]
        var byCodec: [String: [String]] = ["av1": [], "h264": []]
        var listed = 0
        for g in groups {
            guard let end = help.range(of: " " + g.label) else { return XCTFail("help has no \(g.label) group: \(help)") }
            // The extensions are the words before the label back to the previous "," or ":".
            let before = help[..<end.lowerBound]
            let start = before.lastIndex { $0 == "," || $0 == ":" }.map { before.index(after: $0) } ?? before.startIndex
            let exts = before[start...].split(separator: " ").map(String.init)
            XCTAssertFalse(exts.isEmpty)
            XCTAssertTrue(exts.allSatisfy { $0.hasPrefix(".") }, "\(exts)")
            listed += exts.count
            for e in exts {
                for codec in ["av1", "h264"] {
                    let r = try Tool.encoda([clip, s.file("o" + e), s.file("tmp"), "--encoder", codec, "--dry-run", "--quiet"])
                    if g.codecs.contains(codec) {
                        XCTAssertEqual(r.status, 0, "\(e) with \(codec): \(r.stderr)")
                        byCodec[codec]!.append(e)
                    } else {
                        XCTAssertNotEqual(r.status, 0, "\(e) with \(codec) must be refused")
                        XCTAssertTrue(r.stderr.contains("cannot hold"), r.stderr)
                    }
                }
            }
        }
        XCTAssertGreaterThanOrEqual(listed, 7)
        for codec in ["av1", "h264"] {
            let r = try Tool.encoda([clip, s.file("o.avi"), s.file("tmp"), "--encoder", codec, "--dry-run"])
            XCTAssertNotEqual(r.status, 0)
            let listedInError = r.stderr.components(separatedBy: " use ").last!.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(Set(listedInError.components(separatedBy: ", ")), Set(byCodec[codec]!), r.stderr)
        }
    }

    // MARK: what OUTPUT leaves out

    /// --mux into MP4: the ASS subtitles and fonts cannot go in, and the run says so in one line; the audio is
    /// carried, and OUTPUT really holds no subtitles or attachments.
    func testMuxIntoMP4SaysWhichSubtitlesAndFontsAreLeftOut() throws {
        let s = Scratch()
        let r = try Tool.encoda([Tool.media("pysd_issue-236-split-copy.mkv"), s.file("o.mp4"), s.file("tmp"), "--mux"] + h264)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("encoda: OUTPUT .mp4 cannot hold the 3 ASS subtitle streams and 6 font attachments of INPUT; they are left out (use .mkv to keep them)\n"), r.stderr)
        XCTAssertFalse(r.stderr.contains("add --mux"), r.stderr)
        let types = try Tool.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", s.file("o.mp4")])
            .stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(types.sorted(), ["audio", "video"])
        // Into MKV nothing is left out, and nothing is said.
        let mkv = try Tool.encoda([Tool.media("pysd_issue-236-split-copy.mkv"), s.file("o.mkv"), s.file("tmp-mkv"), "--mux"] + h264)
        XCTAssertEqual(mkv.status, 0, mkv.stderr)
        XCTAssertFalse(mkv.stderr.contains("left out") || mkv.stderr.contains("not encoded"), mkv.stderr)
    }

    /// A second video stream is never encoded, and a normal run says so; without --mux, audio is not carried,
    /// and the run says that too. With --mux the audio arrives and only the video note remains.
    func testSecondVideoStreamAndAudioWithoutMuxAreSaid() throws {
        let s = Scratch()
        let src = s.file("two-video.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i", "testsrc=s=160x120:r=25",
                         "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000", "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=48000",
                         "-map", "0:v", "-map", "1:v", "-map", "2:a", "-map", "3:a", "-t", "2",
                         "-c:v:0", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:v:1", "mjpeg", "-c:a", "aac", src])
        let videoNote = "encoda: INPUT's second video stream (#1, mjpeg) is not encoded; encoda encodes the first video stream only\n"

        let plain = try Tool.encoda([src, s.file("plain.mkv"), s.file("tmp1")] + h264)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains(videoNote), plain.stderr)
        XCTAssertTrue(plain.stderr.contains("encoda: INPUT has 2 audio streams; add --mux to carry them\n"), plain.stderr)
        XCTAssertEqual(try streamTypes(s.file("plain.mkv")), ["video"])

        let muxed = try Tool.encoda([src, s.file("muxed.mkv"), s.file("tmp2"), "--mux"] + h264)
        XCTAssertEqual(muxed.status, 0, muxed.stderr)
        XCTAssertTrue(muxed.stderr.contains(videoNote), muxed.stderr)
        XCTAssertFalse(muxed.stderr.contains("add --mux"), muxed.stderr)
        XCTAssertEqual(try streamTypes(s.file("muxed.mkv")), ["video", "audio", "audio"])
        XCTAssertEqual(try Tool.videoField(s.file("muxed.mkv"), "width"), "320", "the first video stream is the one encoded")

        let quiet = try Tool.encoda([src, s.file("quiet.mkv"), s.file("tmp3"), "--quiet"] + h264)
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stderr, "", "--quiet: only errors")
    }

    private func streamTypes(_ file: String) throws -> [String] {
        try Tool.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", file]).stdout.split(separator: "\n").map(String.init)
    }

    // MARK: --scale

    /// --scale above the source's height is refused before anything is written, naming the height; the same
    /// height or less is fine.
    func testScaleAboveTheSourceIsRefused() throws {
        let s = Scratch()
        let clip = try Clips.singleShot() // 320x240
        let r = try Tool.encoda([clip, s.file("o.mkv"), s.file("tmp"), "--scale", "480"] + h264)
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--scale 480 is larger than INPUT's 240 lines; encoda does not upscale"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("o.mkv")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/job.json")), "no job planned")

        let crop = try Tool.encoda([clip, s.file("o.mkv"), s.file("tmp"), "--crop", "320:200:0:20", "--scale", "240", "--dry-run"] + h264)
        XCTAssertEqual(crop.status, 64, crop.stderr)
        XCTAssertTrue(crop.stderr.contains("--scale 240 is larger than the 200 lines of the cropped picture"), crop.stderr)

        try Tool.mustRun(Tool.encoda, [clip, s.file("o.mkv"), s.file("tmp"), "--scale", "120", "--quiet"] + h264)
        XCTAssertEqual(try Tool.videoField(s.file("o.mkv"), "height"), "120")
    }
}
