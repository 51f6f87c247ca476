import Foundation
import XCTest

/// `--target-quality`: usage errors before any work; the search converges on the real SSIMULACRA 2, checked against
/// PyPI's ssimulacra2; probes recorded in TMP survive a kill and are not redone;
/// a target outside the CRF range ends at the range's end, named in the summary, and the job succeeds. The output
/// is checked with ffprobe (frame count, timestamps) and x264's own record of its settings in the stream.
final class QualityTargetTests: XCTestCase {
    private func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// The bytes and modification time of each of `names` in `dir`, to tell later that they were left alone.
    private func snapshot(_ dir: String, _ names: [String]) throws -> [String: (Data, Date)] {
        var out: [String: (Data, Date)] = [:]
        for name in names {
            let path = dir + "/" + name
            out[name] = (try Data(contentsOf: URL(fileURLWithPath: path)),
                         try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date)
        }
        return out
    }

    /// Every file of `before` is still there with the same bytes and modification time.
    private func assertUnchanged(_ dir: String, _ before: [String: (Data, Date)], file: StaticString = #filePath, line: UInt = #line) throws {
        for (name, (data, mtime)) in before {
            let path = dir + "/" + name
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), data, name, file: file, line: line)
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, mtime, name, file: file, line: line)
        }
    }

    private func names(_ dir: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    func testUsageErrorsComeBeforeAnyWork() throws {
        let s = Scratch()
        let input = try Clips.singleShot()
        let cases: [([String], String)] = [
            (["--target-quality", "150"], "outside ssimulacra2's scale"),
            (["--target-quality", "101", "--metric", "vmaf"], "outside vmaf's scale"),
            (["--target-quality", "80", "--crf", "30"], "--crf and --target-quality exclude each other"),
            (["--target-quality", "80", "--encoder", "h264", "--crf-range", "10:60"], "--crf-range 10:60 is not a range h264 accepts"),
            (["--target-quality", "80", "--crf-range", "0:40"], "--crf-range 0:40 is not a range av1 accepts"),
            (["--target-quality", "80", "--crf-range", "45:20"], "--crf-range 45:20 is not a range av1 accepts"),
            (["--target-quality", "80", "--crf-range", "twenty"], "--crf-range twenty is not LO:HI"),
            (["--target-quality", "80", "--encoder", "h264", "--lossless"], "--lossless and --target-quality exclude each other"),
            (["--metric", "vmaf"], "--metric applies to --target-quality"),
            (["--encoder", "h264", "--probe-preset", "ultrafast"], "--probe-preset applies to --target-quality"),
            (["--target-quality", "80", "--encoder", "h264", "--preset", "medium", "--probe-preset", "slow"],
             "--probe-preset slow is slower than --preset medium"),
            (["--target-quality", "80", "--encoder", "h264", "--probe-preset", "quick"], "--probe-preset quick is not an x264 preset"),
            (["--target-quality", "80", "--preset", "6", "--probe-preset", "4"], "--probe-preset 4 is slower than --preset 6"),
            (["--target-quality", "80", "--probe-preset", "ultrafast"], "--probe-preset ultrafast is not an SVT-AV1 preset"),
            // Debian's ffmpeg has no libvmaf.
            (["--target-quality", "93", "--metric", "vmaf", "--vmaf-ffmpeg", "/usr/bin/ffmpeg"], "vmaf"),
        ]
        for (i, (options, message)) in cases.enumerated() {
            let tmp = s.file("tmp\(i)")
            let r = try Tool.encoda([input, s.file("out\(i).mkv"), tmp] + options)
            XCTAssertEqual(r.status, 64, "\(options): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(options): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp), "no work before the error: \(options)")
        }
    }

    func testKilledJobResumesWithoutProbingAgain() throws {
        let s = Scratch()
        let input = try Clips.cuts()
        let tmp = s.file("tmp")
        let args = [input, s.file("out.mkv"), tmp, "--encoder", "h264", "--preset", "ultrafast", "--target-quality", "40",
                    "--max-scene-length", "1", "--workers", "1", "--threads", "1", "--keep"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args + ["--quiet"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && p.isRunning && names(tmp + "/probes", suffix: ".json").count < 3 { usleep(5_000) }
        Tool.killJob(p, tmp: tmp)

        let (planned, streaming) = try Tool.plannedChunks(tmp)
        let results = names(tmp + "/results", suffix: ".json")
        XCTAssertTrue(streaming || results.count < planned.count, "the kill came before the job finished")
        let recorded = names(tmp + "/probes", suffix: ".json")
        XCTAssertGreaterThanOrEqual(recorded.count, 3, "probes were recorded before the kill")
        let before = try snapshot(tmp + "/probes", recorded)
        let oldLogs = Set(names(tmp + "/logs", suffix: ".log"))

        try Tool.mustRun(Tool.encoda, args)
        let chunkCount = (try json(tmp + "/job.json")["chunks"] as! [Any]).count
        // Every probe recorded before the kill is untouched, and no worker of the second run encoded it again.
        try assertUnchanged(tmp + "/probes", before)
        let newLog = try names(tmp + "/logs", suffix: ".log").filter { !oldLogs.contains($0) }
            .map { try String(contentsOfFile: tmp + "/logs/" + $0, encoding: .utf8) }.joined()
        var reused = 0
        for name in before.keys {
            let parts = name.dropLast(5).split(separator: "-") // NNNNN-CRF.json
            XCTAssertFalse(newLog.contains("chunk \(parts[0]): probe crf \(parts[1]):"), "\(name) was probed again:\n\(newLog)")
            let chunkDone = results.contains("\(parts[0]).json")
            if !chunkDone {
                XCTAssertTrue(newLog.contains("chunk \(parts[0]): "), "chunk \(parts[0]) was resumed")
                reused += 1
            }
        }
        XCTAssertGreaterThan(reused, 0, "some recorded probes belonged to chunks left unfinished by the kill")
        XCTAssertTrue(newLog.contains("probe(s) recorded earlier"), newLog)
        // Each chunk's result holds its chosen CRF and score, and the probes the killed run made are among its own.
        for name in before.keys {
            let parts = name.dropLast(5).split(separator: "-")
            let q = try json(tmp + "/results/\(parts[0]).json")["quality"] as! [String: Any]
            let probes = (q["probes"] as! [[String: Any]]).map { $0["crf"] as! Int }
            XCTAssertTrue(probes.contains(Int(parts[1])!), "\(name) in \(probes)")
            XCTAssertTrue((10...46).contains(q["crf"] as! Int))
            XCTAssertNotNil(q["score"] as? Double)
        }

        // Frame-exact: every frame, with INPUT's timestamps.
        let times = try Tool.frameTimes(s.file("out.mkv"))
        XCTAssertEqual(times.count, Clips.cutFrames)
        XCTAssertEqual(times, try Tool.frameTimes(input))

        // The summary: one row per chunk, in TMP and in `encoda status` (text and JSON).
        let summary = try json(tmp + "/summary.json")
        let rows = summary["chunks"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["chunk"] as! Int }, Array(0..<chunkCount))
        XCTAssertEqual(rows.reduce(0) { $0 + ($1["frames"] as! Int) }, Clips.cutFrames)
        let status = try Tool.mustRun(Tool.encoda, ["status", tmp, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8))
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: Tool.packageRoot.appendingPathComponent("docs/status.schema.json"))) as! [String: Any]
        XCTAssertEqual(SchemaCheck(root: schema).check(report, against: schema, at: "$"), [], status.stdout)
        let reported = (report as! [String: Any])["summary"] as! [String: Any]
        XCTAssertEqual((reported["chunks"] as! [[String: Any]]).count, chunkCount)
        XCTAssertEqual(reported["target"] as? Double, 40)
        let text = try Tool.mustRun(Tool.encoda, ["status", tmp]).stdout
        XCTAssertTrue(text.contains("summary (ssimulacra2 target 40"), text)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("    000") }.count, chunkCount, text)
    }

    /// The search converges on the real SSIMULACRA 2: each chunk's chosen score, measured again by PyPI's ssimulacra2
    /// on the same frames of OUTPUT and INPUT (turned to PNG by ffmpeg), agrees with the score encoda recorded and
    /// lies within the search's tolerance above the target, or the next CRF up was probed and misses it; and x264's
    /// record of its settings in each chunk of OUTPUT names the chosen CRF.
    func testSearchConvergesOnTheRealSsimulacra2() throws {
        let s = Scratch()
        // Two shots: a moving test pattern and a zooming fractal, 70 frames, nearly lossless, tagged BT.709 (as HD
        // sources are; the probes must convert both pictures of a pair to RGB with the same matrix).
        let input = s.file("in.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1.6", "-f", "lavfi", "-i", "mandelbrot=s=320x240:r=25",
                         "-filter_complex", "[1:v]trim=end_frame=30,setpts=PTS-STARTPTS[m];[0:v][m]concat=n=2:v=1,format=yuv420p",
                         "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
                         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", input])
        XCTAssertEqual(try Tool.run("ffprobe", ["-v", "error", "-show_entries", "stream=color_space", "-of", "csv=p=0", input])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines), "bt709")
        let tmp = s.file("tmp"), output = s.file("out.mp4")
        let target = 75.0, rate = 5
        try Tool.mustRun(Tool.encoda, [input, output, tmp, "--encoder", "h264", "--preset", "ultrafast", "--target-quality", "75",
                                       "--metric", "ssimulacra2", "--probe-rate", "\(rate)", "--max-scene-length", "1", "--workers", "1", "--keep"])
        let chunks = try json(tmp + "/job.json")["chunks"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(chunks.count, 2, "a chunk per shot at least")
        XCTAssertEqual(try Tool.frameTimes(output), try Tool.frameTimes(input))
        // x264 writes its settings into each chunk's stream, in order.
        let stream = String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
        let written = stream.components(separatedBy: " crf=").dropFirst().compactMap { Double($0.prefix { $0 != " " }) }

        let flags = ["-sws_flags", "bicubic+full_chroma_int+accurate_rnd"]
        for (i, chunk) in chunks.enumerated() {
            let range = chunk["range"] as! [String: Int]
            let (a, b) = (range["start"]!, range["end"]!)
            let q = try json(tmp + "/results/\(String(format: "%05d", i)).json")["quality"] as! [String: Any]
            let crf = q["crf"] as! Int, score = q["score"] as! Double, outcome = q["outcome"] as! String
            let probes = (q["probes"] as! [[String: Any]]).map { ($0["crf"] as! Int, $0["score"] as! Double) }
            let label = "chunk \(i): crf \(crf), score \(score), \(outcome), probes \(probes)"
            XCTAssertEqual(outcome, "reached", label)
            XCTAssertLessThanOrEqual(probes.count, 4, label)
            XCTAssertEqual(written.count > i ? written[i] : nil, Double(crf), "x264's record in OUTPUT: \(written)")
            // The frames the probes scored: every 5th of the chunk, from OUTPUT and from INPUT.
            let select = "select=between(n\\,\(a)\\,\(b - 1))*not(mod(n-\(a)\\,\(rate)))"
            for (name, file) in [("d", output), ("r", input)] {
                try Tool.ffmpeg(["-i", file] + flags + ["-vf", select, "-fps_mode", "passthrough", "-pix_fmt", "rgb24",
                                 s.file("c\(i)-\(name)%02d.png")])
            }
            let n = (b - a + rate - 1) / rate
            let pairs = (1...n).map { (s.file(String(format: "c\(i)-r%02d.png", $0)), s.file(String(format: "c\(i)-d%02d.png", $0))) }
            let again = try PyPISsimulacra2.scores(pairs)
            XCTAssertEqual(again.count, n, label)
            let mean = again.reduce(0, +) / Double(max(1, again.count))
            print(String(format: "chunk %d: crf %d, encoda %.3f, PyPI ssimulacra2 %.3f on %d frames, target %.0f; probes %@",
                         i, crf, score, mean, n, target, probes.map { "\($0.0):\(String(format: "%.2f", $0.1))" }.joined(separator: " ")))
            XCTAssertEqual(mean, score, accuracy: 0.5, "the recorded score is the chunk's: \(label)")
            XCTAssertGreaterThanOrEqual(mean, target - 0.5, "meets the target: \(label)")
            // Converged: within the search's tolerance (1) above the target, or one CRF more already misses it.
            let nextMisses = probes.contains { $0.0 == crf + 1 && $0.1 < target }
            XCTAssertTrue(mean <= target + 1.5 || nextMisses, "converged: \(label)")
        }
    }

    /// `--probe-preset`: probes at x264's ultrafast, each chunk's chosen CRF encoded once more at medium and scored;
    /// the chunk is that encode (x264's record of its settings in OUTPUT says medium's), its recorded score is the
    /// one `encoda score` measures again on OUTPUT's frames, and each chunk was encoded at the CRF its probes chose
    /// less the mean CRF shift measured on the chunks finished before it. The final encodes are recorded in TMP/probes, and a job killed after one was
    /// recorded resumes without encoding it again.
    func testProbePresetKeepsTheFinalEncodeAndItsMeasuredScore() throws {
        let s = Scratch()
        let input = try Clips.singleShot()
        let tmp = s.file("tmp"), output = s.file("out.mp4")
        let rate = 3
        let args = [input, output, tmp, "--encoder", "h264", "--preset", "medium", "--probe-preset", "ultrafast",
                    "--target-quality", "75", "--probe-rate", "\(rate)", "--max-scene-length", "1", "--workers", "1", "--threads", "1", "--keep"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args + ["--quiet"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && p.isRunning && names(tmp + "/probes", suffix: "-final.json").isEmpty { usleep(5_000) }
        Tool.killJob(p, tmp: tmp)
        let first = names(tmp + "/probes", suffix: "-final.json")
        XCTAssertFalse(first.isEmpty, "a final encode was recorded before the kill")
        let before = try snapshot(tmp + "/probes", first)
        let oldLogs = Set(names(tmp + "/logs", suffix: ".log"))

        try Tool.mustRun(Tool.encoda, args)
        let chunks = try json(tmp + "/job.json")["chunks"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(chunks.count, 3, "chunks enough to measure a shift and use it")
        XCTAssertEqual(try Tool.frameTimes(output), try Tool.frameTimes(input))
        // Not encoded again after the kill: the records stand untouched and no new log line made them.
        let newLog = try names(tmp + "/logs", suffix: ".log").filter { !oldLogs.contains($0) }
            .map { try String(contentsOfFile: tmp + "/logs/" + $0, encoding: .utf8) }.joined()
        try assertUnchanged(tmp + "/probes", before)
        for name in before.keys {
            XCTAssertFalse(newLog.contains("chunk \(name.prefix(5)): final encode at preset"), "\(name) was encoded again:\n\(newLog)")
        }
        // One final encode per chunk; in the order they were made (one worker), each was encoded at the CRF its
        // probes chose less the rounded mean of the CRF shifts measured by those before it (0 for the first), and,
        // where that missed the target by more than 1, once more at a better CRF, its own shift.
        let finals = try names(tmp + "/probes", suffix: "-final.json").map { name -> ([String: Any], Date) in
            let path = tmp + "/probes/" + name
            return (try json(path), try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date)
        }.sorted { $0.1 < $1.1 }.map(\.0)
        XCTAssertEqual(finals.map { $0["chunk"] as! Int }.sorted(), Array(0..<chunks.count))
        var measured: [Double] = []
        for f in finals {
            let expected = measured.isEmpty ? 0 : Int((measured.reduce(0, +) / Double(measured.count)).rounded())
            let label = "chunk \(f["chunk"]!): \(f)"
            let probeCRF = f["probeCRF"] as! Int, crf = f["crf"] as! Int, used = f["shiftUsed"] as! Int
            XCTAssertEqual(crf, min(46, max(10, probeCRF - used)), label)
            if let firstCRF = f["firstCRF"] as? Int {
                XCTAssertEqual(firstCRF, min(46, max(10, probeCRF - expected)), label)
                XCTAssertLessThan(f["firstScore"] as! Double, 74, label)
                XCTAssertLessThan(crf, firstCRF, label)
            } else {
                XCTAssertEqual(used, expected, label)
            }
            if let shift = f["shift"] as? Double { measured.append(shift) }
        }
        print("CRF shifts measured, in order: \(measured)")
        XCTAssertTrue(measured.contains { abs($0) >= 1 }, "the presets differ by a CRF step or more: \(measured)")

        // x264 records its settings in each chunk's stream: medium's (subme=7), never ultrafast's (subme=0).
        let stream = String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
        XCTAssertEqual(stream.components(separatedBy: " subme=7 ").count - 1, chunks.count)
        XCTAssertFalse(stream.contains(" subme=0 "))
        let written = stream.components(separatedBy: " crf=").dropFirst().compactMap { Double($0.prefix { $0 != " " }) }

        for (i, chunk) in chunks.enumerated() {
            let range = chunk["range"] as! [String: Int]
            let (a, b) = (range["start"]!, range["end"]!)
            let q = try json(tmp + "/results/\(String(format: "%05d", i)).json")["quality"] as! [String: Any]
            let final = try json(tmp + "/probes/\(String(format: "%05d", i))-final.json")
            let crf = q["crf"] as! Int, score = q["score"] as! Double
            XCTAssertEqual(crf, final["crf"] as? Int)
            XCTAssertEqual(score, final["score"] as! Double, "the chunk's score is the final encode's")
            XCTAssertEqual(q["probePreset"] as? String, "ultrafast")
            XCTAssertEqual(q["crfShift"] as? Int, (final["probeCRF"] as! Int) - crf)
            XCTAssertEqual(written.count > i ? written[i] : nil, Double(crf), "x264's record in OUTPUT: \(written)")
            // Measured again: the chunk's frames cut losslessly from OUTPUT and INPUT, scored by `encoda score`.
            let select = "select=between(n\\,\(a)\\,\(b - 1)),setpts=N/25/TB"
            for (name, file) in [("d", output), ("r", input)] {
                try Tool.ffmpeg(["-i", file, "-vf", select, "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", s.file("c\(i)-\(name).mkv")])
            }
            let again = try Tool.encoda(["score", s.file("c\(i)-d.mkv"), s.file("c\(i)-r.mkv"), "--metric", "ssimulacra2",
                                         "--every", "\(rate)", "--json"])
            XCTAssertEqual(again.status, 0, again.stderr)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
            let probeCRF = final["probeCRF"] as! Int
            let probeScore = try json(tmp + "/probes/\(String(format: "%05d", i))-\(probeCRF).json")["score"] as! Double
            XCTAssertEqual(final["probeScore"] as? Double, probeScore)
            print(String(format: "chunk %d: final (medium) crf %d %.3f, measured again %.3f; probe chosen (ultrafast) crf %d %.3f; shift used %d%@",
                         i, crf, score, report["score"] as? Double ?? .nan, probeCRF, probeScore, final["shiftUsed"] as! Int,
                         (final["firstCRF"] as? Int).map { ", first final encode at crf \($0): \(String(format: "%.3f", final["firstScore"] as! Double))" } ?? ""))
            XCTAssertEqual(report["score"] as? Double ?? .nan, score, accuracy: 0.01, "chunk \(i)")
        }
        let rows = try json(tmp + "/summary.json")["chunks"] as! [[String: Any]]
        XCTAssertEqual(rows.compactMap { $0["crfShift"] as? Int }.count, chunks.count)
    }

    /// A VMAF probe scored every 5th frame scores what a full-rate libvmaf run gives those frames: the frames in
    /// between reach libvmaf's motion feature too (before, they did not, and the probes read 3–4.5 points high).
    /// One chunk, so OUTPUT is the probe kept; checked against the imageio-ffmpeg binary's libvmaf on every frame.
    func testVmafProbesAtAProbeRateScoreAsAFullRunDoes() throws {
        let r = try Tool.run("/usr/bin/env", ["python3", "-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"])
        guard r.status == 0 else { throw XCTSkip("imageio-ffmpeg is not installed (scripts/setup.sh installs it): \(r.stderr)") }
        let ffmpeg = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let s = Scratch()
        let input = try Clips.singleShot()
        let tmp = s.file("tmp"), output = s.file("out.mp4")
        try Tool.mustRun(Tool.encoda, [input, output, tmp, "--encoder", "h264", "--preset", "ultrafast", "--target-quality", "93",
                                       "--metric", "vmaf", "--probe-rate", "5", "--max-scene-length", "0", "--workers", "1",
                                       "--keep", "--vmaf-ffmpeg", ffmpeg])
        XCTAssertEqual((try json(tmp + "/job.json")["chunks"] as! [Any]).count, 1)
        let q = try json(tmp + "/results/00000.json")["quality"] as! [String: Any]
        let log = s.file("vmaf.json")
        try Tool.mustRun(ffmpeg, ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", output, "-i", input,
                                  "-lavfi", "[0:v][1:v]libvmaf=log_fmt=json:log_path=\(log)", "-f", "null", "-"])
        let frames = (try json(log)["frames"] as! [[String: Any]]).compactMap { ($0["metrics"] as? [String: Any])?["vmaf"] as? Double }
        XCTAssertEqual(frames.count, 100)
        let sampled = stride(from: 0, to: frames.count, by: 5).map { frames[$0] }
        let expected = sampled.reduce(0, +) / Double(sampled.count)
        let score = q["score"] as! Double
        print(String(format: "vmaf probe at crf %d, every 5th frame: encoda %.4f, libvmaf's full run at those frames %.4f", q["crf"] as! Int, score, expected))
        XCTAssertEqual(score, expected, accuracy: 0.05)
    }

    func testTargetsOutsideTheRangeEndAtItsEndsAndTheJobSucceeds() throws {
        let s = Scratch()
        let input = try Clips.singleShot()
        // 99 cannot be reached at crf 40 or better (the best end of 40…51): both chunks are encoded at 40.
        let tmp = s.file("tmp")
        let r = try Tool.mustRun(Tool.encoda, [input, s.file("low.mp4"), tmp, "--encoder", "h264", "--preset", "ultrafast",
                                               "--target-quality", "99", "--crf-range", "40:51", "--max-scene-length", "2",
                                               "--probe-rate", "3", "--workers", "1", "--keep"])
        let chunks = try json(tmp + "/job.json")["chunks"] as! [[String: Any]]
        let frames = chunks.map { ($0["range"] as! [String: Int])["end"]! - ($0["range"] as! [String: Int])["start"]! }
        XCTAssertGreaterThanOrEqual(chunks.count, 2)
        XCTAssertTrue(r.stderr.contains("\(chunks.count) chunk(s) could not be brought to ssimulacra2 99 inside --crf-range 40:51 and were encoded at its end: 00000 (crf 40"), r.stderr)
        let rows = try json(tmp + "/summary.json")["chunks"] as! [[String: Any]]
        XCTAssertEqual(rows.count, chunks.count)
        for row in rows {
            XCTAssertEqual(row["crf"] as? Double, 40)
            XCTAssertEqual(row["outcome"] as? String, "unreachable")
        }
        XCTAssertEqual(try Tool.frameTimes(s.file("low.mp4")).count, 100)
        // x264 writes its settings into the stream: every chunk says crf=40.0 (one SEI per chunk).
        let low = try String(decoding: Data(contentsOf: URL(fileURLWithPath: s.file("low.mp4"))), as: UTF8.self)
        XCTAssertEqual(low.components(separatedBy: "crf=40.0").count - 1, chunks.count)
        // --probe-rate 3: a chunk's probes scored its frames 0, 3, 6, …
        for name in names(tmp + "/probes", suffix: ".json") {
            let record = try json(tmp + "/probes/" + name)
            XCTAssertEqual(record["framesScored"] as? Int, (frames[record["chunk"] as! Int] + 2) / 3, name)
        }

        // A target every CRF of 10…20 exceeds: the worst end, 20, said as such; the job succeeds.
        let r2 = try Tool.mustRun(Tool.encoda, [input, s.file("high.mp4"), s.file("tmp2"), "--encoder", "h264", "--preset", "ultrafast",
                                                "--target-quality", "1", "--crf-range", "10:20", "--max-scene-length", "0", "--workers", "1"])
        XCTAssertTrue(r2.stderr.contains("above target at the range's worst end"), r2.stderr)
        let high = try String(decoding: Data(contentsOf: URL(fileURLWithPath: s.file("high.mp4"))), as: UTF8.self)
        XCTAssertEqual(high.components(separatedBy: "crf=20.0").count - 1, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.file("tmp2") + "/summary.json"), "the summary outlives the cleanup")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp2") + "/probes"), "the probes do not")
    }
}
