import Foundation
import XCTest

/// --bitrate, --two-pass, --film-grain and --auto-grain as a user runs them, checked with ffprobe and ffmpeg's
/// trace_headers: the bit rate OUTPUT lands at, the film grain flag in the AV1 sequence header, the levels chosen.
final class RateControlEndToEndTests: XCTestCase {
    /// OUTPUT's video bit rate from its packets: their sizes added up over the frames' duration (ffprobe).
    private func videoKbps(_ file: String) throws -> Double {
        let r = try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size,duration_time",
                                             "-of", "csv=p=0", file])
        var bytes = 0.0, seconds = 0.0
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: ",")
            guard f.count == 2, let a = Double(f[0]), let b = Double(f[1]) else { continue }
            // ffprobe prints the fields in its own order: size is the whole number of bytes, the duration a fraction.
            if f[0].contains(".") { seconds += a; bytes += b } else { bytes += a; seconds += b }
        }
        XCTAssertGreaterThan(seconds, 0)
        return bytes * 8 / seconds / 1000
    }

    /// OUTPUT's video packet sizes in stream order (ffprobe): one packet per frame, in frame order for AV1.
    private func packetSizes(_ file: String) throws -> [Int] {
        let r = try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0", file])
        return r.stdout.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The `film_grain_params_present` values of OUTPUT's sequence headers (ffmpeg -bsf:v trace_headers).
    private func filmGrainFlags(_ file: String) throws -> Set<String> {
        let r = try Tool.mustRun("ffmpeg", ["-hide_banner", "-nostdin", "-i", file, "-map", "0:v:0", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"])
        return Set(r.stderr.split(separator: "\n").filter { $0.contains("film_grain_params_present") }.compactMap { $0.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespaces) } })
    }

    private func chunks(_ tmp: String) throws -> [[String: Any]] {
        let job = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as? [String: Any]
        return try XCTUnwrap(job?["chunks"] as? [[String: Any]])
    }

    // MARK: usage errors

    func testRateAndGrainMistakesAreRefusedBeforeAnyWork() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        let table: [([String], String)] = [
            (["--bitrate", "800k", "--crf", "30"], "--bitrate and --crf exclude each other"),
            (["--encoder", "h264", "--bitrate", "800k", "--lossless"], "--bitrate and --lossless exclude each other"),
            (["--bitrate", "fast"], "--bitrate fast is not a bit rate"),
            (["--bitrate", "5"], "--bitrate 5 is not a bit rate"),
            (["--encoder", "h264", "--max-bitrate", "2M"], "--max-bitrate needs --bufsize"),
            (["--encoder", "h264", "--bitrate", "2M", "--max-bitrate", "1M", "--bufsize", "2M"], "is below --bitrate"),
            (["--bitrate", "1M", "--max-bitrate", "2M", "--bufsize", "4M"], "SVT-AV1 1.4.1 has no VBV"),
            (["--two-pass", "--encoder", "h264"], "--two-pass needs --bitrate"),
            (["--encoder", "h264", "--film-grain", "8"], "--film-grain needs --encoder av1"),
            (["--film-grain", "60"], "--film-grain 60 is out of range"),
            (["--encoder", "h264", "--auto-grain"], "--auto-grain needs --encoder av1"),
        ]
        for (args, message) in table {
            let r = try Tool.encoda([clip, s.file("out.mkv"), s.file("tmp")] + args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/scenes.json")), "refused before the scene pass")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
    }

    // MARK: --bitrate

    /// The cut clip (250 frames in five shots from a still noisy test card to a fractal zoom, H.264 in MP4) in chunks
    /// of at most 2 s. Two-pass x264 lands within ±5 % of the rate (+2.3 % measured). One pass cannot: a 1–2 s chunk
    /// that holds a cut into a noisy shot leaves x264's ABR no time to correct (that chunk +51 %, the file +13 %), so
    /// one pass is held to ±15 %. Either way the chunks' shares differ by the shots' complexity, the first pass's
    /// stats are gone from TMP, and a re-run at another rate is refused as a settings mismatch.
    func testX264BitRateLandsWithinFivePercentInTwoPasses() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let common = ["--encoder", "h264", "--preset", "ultrafast", "--max-scene-length", "1", "--keep", "--quiet"]
        for (name, extra, tolerance) in [("two.mkv", ["--two-pass"], 0.05), ("one.mkv", [String](), 0.15)] {
            let tmp = s.file("tmp-" + name)
            try Tool.mustRun(Tool.encoda, [clip, s.file(name), tmp, "--bitrate", "600k"] + common + extra)
            let kbps = try videoKbps(s.file(name))
            XCTAssertEqual(kbps, 600, accuracy: 600 * tolerance, "\(name): \(kbps) kb/s")
            let rates = try chunks(tmp).compactMap { $0["bitRate"] as? Int }
            XCTAssertGreaterThan(rates.count, 3)
            XCTAssertGreaterThan(Double(rates.max()!) / Double(rates.min()!), 1.5, "shares follow complexity: \(rates)")
            let left = try FileManager.default.contentsOfDirectory(atPath: tmp + "/chunks").filter { !$0.hasSuffix(".chunk") }
            XCTAssertEqual(left, [], "no first-pass stats left in TMP")
            XCTAssertEqual(try Tool.frameTimes(s.file(name)).count, Clips.cutFrames)
            // The summary: each chunk's share and what it got, and the whole against the rate asked for.
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/summary.json"))) as? [String: Any])
            XCTAssertEqual(summary["bitRate"] as? Int, 600_000)
            let rows = try XCTUnwrap(summary["chunks"] as? [[String: Any]])
            XCTAssertEqual(rows.compactMap { $0["shareKbps"] as? Double }.map { Int(($0 * 1000).rounded()) }, rates)
            let frames = rows.reduce(0) { $0 + ($1["frames"] as? Int ?? 0) }
            XCTAssertEqual(frames, Clips.cutFrames)
            let whole = rows.reduce(0.0) { $0 + ($1["kbps"] as? Double ?? 0) * Double($1["frames"] as? Int ?? 0) } / Double(frames)
            XCTAssertEqual(whole, kbps, accuracy: kbps * 0.01, "the rows add up to OUTPUT's video rate")
            let status = try Tool.encoda(["status", tmp]).stdout
            XCTAssertTrue(status.contains("summary (--bitrate 600 kb/s shared by complexity)") && status.contains("% of --bitrate (video only)"), status)
        }
        // The job's settings hold the rate: another rate is a settings mismatch, as another --crf is.
        let again = try Tool.encoda([clip, s.file("three.mkv"), s.file("tmp-one.mkv"), "--bitrate", "700k"] + common)
        XCTAssertEqual(again.status, 74, again.stderr)
        XCTAssertTrue(again.stderr.contains("other encoder settings"), again.stderr)
    }

    /// SVT-AV1 1.4.1's one-pass VBR on the same clip and chunks. It overshoots short chunks, as ffmpeg's libsvtav1
    /// does on one 1.5 s segment alone (a library limit; --two-pass corrects it, below): measured +18 % at 300k
    /// and +24 % at 900k. So this holds it to ±30 % and checks that the rate follows the one asked for (3× the
    /// rate, 2.4–3.6× the bits), which a constant-quality encode would not.
    func testSvtAv1BitRateFollowsTheRateAskedFor() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let common = ["--preset", "12", "--max-scene-length", "1", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("low.mkv"), s.file("tmp1"), "--bitrate", "300k"] + common)
        try Tool.mustRun(Tool.encoda, [clip, s.file("high.mkv"), s.file("tmp2"), "--bitrate", "900k"] + common)
        let (low, high) = (try videoKbps(s.file("low.mkv")), try videoKbps(s.file("high.mkv")))
        XCTAssertEqual(low, 300, accuracy: 90, "\(low) kb/s")
        XCTAssertEqual(high, 900, accuracy: 270, "\(high) kb/s")
        XCTAssertEqual(high / low, 3, accuracy: 0.6, "\(low) → \(high) kb/s")
    }

    /// SVT-AV1 --two-pass on the same clip and chunks lands within ±5 % of the rate (-1.1 % to +0.9 % measured at
    /// preset 12 with 1 to 8 encoder threads), and each chunk within ±8 % of its share (-5.1 % to +3.7 %), where
    /// SVT-AV1's own multi-pass leaves them -11 % to +43 % off (the file +20.5 %) and one pass, unchanged, -56 % to
    /// +71 % (the file +25 %). Every frame is there at the source's time, and the passes' stats never reach TMP.
    func testSvtAv1TwoPassLandsWithinFivePercent() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let common = ["--bitrate", "600k", "--preset", "12", "--max-scene-length", "1", "--keep", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("two.mkv"), s.file("tmp-two"), "--two-pass"] + common)
        let kbps = try videoKbps(s.file("two.mkv"))
        XCTAssertEqual(kbps, 600, accuracy: 30, "\(kbps) kb/s")
        // Each chunk's frames are the next packets of OUTPUT; their bytes against the chunk's share.
        let sizes = try packetSizes(s.file("two.mkv"))
        XCTAssertEqual(sizes.count, Clips.cutFrames)
        let plan = try chunks(s.file("tmp-two"))
        XCTAssertGreaterThan(plan.count, 3)
        var misses: [String] = []
        for c in plan {
            let range = try XCTUnwrap(c["range"] as? [String: Int])
            let (start, end) = (range["start"]!, range["end"]!)
            let share = Double(try XCTUnwrap(c["bitRate"] as? Int)) * Double(end - start) / 25 / 8
            let bytes = Double(sizes[start..<end].reduce(0, +))
            misses.append(String(format: "%d-%d %+.1f%%", start, end, (bytes / share - 1) * 100))
            XCTAssertEqual(bytes / share, 1, accuracy: 0.08, "frames \(start)..<\(end): \(Int(bytes)) bytes for a share of \(Int(share))")
        }
        XCTAssertEqual(try Tool.frameTimes(s.file("two.mkv")), try Tool.frameTimes(clip), "every frame at the source's time")
        let left = try FileManager.default.contentsOfDirectory(atPath: s.file("tmp-two/chunks")).filter { !$0.hasSuffix(".chunk") }
        XCTAssertEqual(left, [], "nothing but chunks in TMP")

        // One pass is what it was: the same clip well over the rate, which the passes bring in.
        try Tool.mustRun(Tool.encoda, [clip, s.file("one.mkv"), s.file("tmp-one")] + common)
        let one = try videoKbps(s.file("one.mkv"))
        XCTAssertGreaterThan(one, 600 * 1.15, "one pass \(one) kb/s, two passes \(kbps) kb/s (\(misses))")
    }

    // MARK: film grain

    func testFilmGrainSetsTheSequenceHeaderFlagAndAutoGrainFindsTheNoisyShot() throws {
        let s = Scratch()
        // Two shots of two seconds (one chunk each): a clean test card and the same card under heavy temporal noise, losslessly kept.
        let clip = s.file("grain.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=24:d=2", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=24:d=2,noise=alls=14:allf=t",
                         "-filter_complex", "[0][1]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast",
                         "-pix_fmt", "yuv420p", clip])
        let common = ["--preset", "12", "--crf", "50", "--min-scene-length", "6", "--max-scene-length", "1", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("grain.ivf"), s.file("tmp1"), "--film-grain", "10"] + common)
        XCTAssertEqual(try filmGrainFlags(s.file("grain.ivf")), ["1"])
        try Tool.mustRun(Tool.encoda, [clip, s.file("plain.ivf"), s.file("tmp2")] + common)
        XCTAssertEqual(try filmGrainFlags(s.file("plain.ivf")), ["0"])

        try Tool.mustRun(Tool.encoda, [clip, s.file("auto.mkv"), s.file("tmp3"), "--auto-grain", "--keep"] + common)
        let levels = try chunks(s.file("tmp3")).map { c -> (start: Int, level: Int) in
            ((c["range"] as? [String: Int])?["start"] ?? -1, c["filmGrain"] as? Int ?? -1)
        }
        let clean = try XCTUnwrap(levels.first { $0.start == 0 }).level
        let noisy = levels.filter { $0.start >= 40 }.map(\.level)
        XCTAssertFalse(noisy.isEmpty, "\(levels)")
        XCTAssertGreaterThan(noisy.min() ?? 0, clean, "\(levels)")
        XCTAssertGreaterThanOrEqual(noisy.min() ?? 0, 8, "\(levels)")
        // The clean chunk at the lowest level, not off: every sequence header of the file carries the flag, and every
        // frame decodes.
        XCTAssertEqual(clean, 1, "\(levels)")
        XCTAssertEqual(try Tool.frameHashes(s.file("auto.mkv")).count, 96)
        XCTAssertEqual(try filmGrainFlags(s.file("auto.mkv")), ["1"])
    }
}
