import Foundation
import XCTest

/// The plan that streams (`--segmented-analysis`): job.json is written before any segment is measured, the chunks
/// are published one by one in TMP/plan as the segments make them final, and workers encode them while the analysis
/// goes on. Checked as a post house would: the same OUTPUT, plan and scenes as the whole pass, chunks encoded before
/// the last segment is measured, a kill during the analysis redoing nothing published, and `status` saying so.
final class StreamingPlanTests: XCTestCase {
    /// 320x240, 25 fps, 500 frames, ten shots (the cut clip twice), a keyframe at least every 25 frames: 8 segments
    /// for 2 workers, 16 for the 4 a `--workers 0` coordinator assumes.
    static func clip() throws -> String {
        try made("streaming-g25.mp4") { out in
            var args: [String] = []
            var graph = ""
            let shots = Clips.cutSegments + Clips.cutSegments
            for (i, s) in shots.enumerated() {
                args += ["-f", "lavfi", "-i", s.0]
                graph += "[\(i):v]trim=end_frame=\(s.1),setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v\(i)];"
            }
            graph += shots.indices.map { "[v\($0)]" }.joined() + "concat=n=\(shots.count):v=1:a=0[out]"
            try Tool.ffmpeg(args + ["-filter_complex", graph, "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
                                    "-g", "25", "-pix_fmt", "yuv420p", out])
        }
    }
    static let frames = 2 * Clips.cutFrames

    /// The same shots letterboxed (320x160 picture in 320x240), a keyframe every 25 frames.
    static func letterboxed() throws -> String {
        let source = try clip()
        return try made("streaming-letterbox-g25.mp4") { out in
            try Tool.ffmpeg(["-i", source, "-vf", "scale=320:160,setsar=1,pad=320:240:0:40:black", "-c:v", "libx264",
                             "-preset", "veryfast", "-crf", "16", "-g", "25", "-pix_fmt", "yuv420p", out])
        }
    }

    private static func made(_ name: String, _ build: (String) throws -> Void) throws -> String {
        let path = Clips.dir + "/" + name
        if FileManager.default.fileExists(atPath: path) { return path }
        let temp = Clips.dir + "/.tmp-\(getpid())-" + name
        try build(temp)
        try FileManager.default.moveItem(atPath: temp, toPath: path)
        return path
    }

    static let lossless = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--keep", "--quiet"]

    // MARK: a. the same job as the whole pass

    func testTheStreamedPlanGivesTheWholePasssOutputPlanAndScenes() throws {
        let s = Scratch()
        let clip = try Self.clip()
        let common = Self.lossless + ["--workers", "2"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("whole.mkv"), s.file("tmp-whole"), "--no-segmented-analysis"] + common)
        try Tool.mustRun(Tool.encoda, [clip, s.file("streamed.mkv"), s.file("tmp-seg"), "--segmented-analysis"] + common)

        let source = try Tool.frameHashes(clip)
        XCTAssertEqual(source.count, Self.frames)
        XCTAssertEqual(try Tool.frameHashes(s.file("streamed.mkv")), source, "lossless: the source's frames, every one")
        XCTAssertEqual(try Tool.frameHashes(s.file("whole.mkv")), source)
        let packets = try Self.packets(s.file("streamed.mkv"))
        XCTAssertEqual(packets.count, Self.frames)
        XCTAssertEqual(packets, try Self.packets(s.file("whole.mkv")), "the same packets: pts, dts, duration, size, flags")

        try Self.checkPlan(streamed: s.file("tmp-seg"), whole: s.file("tmp-whole"))
        let whole = try Self.json(s.file("tmp-whole/scenes.json")), streamed = try Self.json(s.file("tmp-seg/scenes.json"))
        XCTAssertEqual(streamed["cuts"] as? [Int], whole["cuts"] as? [Int])
        XCTAssertEqual(streamed["changes"] as? [Double], whole["changes"] as? [Double], "the whole pass's measurements")
        XCTAssertGreaterThanOrEqual((whole["cuts"] as? [Int])?.count ?? 0, 9, "every shot change is a cut")
        let segments = try XCTUnwrap(try Self.json(s.file("tmp-seg/analysis.json"))["segments"] as? [Any])
        XCTAssertGreaterThanOrEqual(segments.count, 6, "the analysis was leased work in many segments")
    }

    func testTheStreamedPlanWithAutocropGivesTheWholePasssCrop() throws {
        let s = Scratch()
        let clip = try Self.letterboxed()
        let common = Self.lossless + ["--workers", "2", "--autocrop"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("whole.mkv"), s.file("tmp-whole"), "--no-segmented-analysis"] + common)
        try Tool.mustRun(Tool.encoda, [clip, s.file("streamed.mkv"), s.file("tmp-seg"), "--segmented-analysis"] + common)
        XCTAssertEqual(try Tool.videoField(s.file("streamed.mkv"), "height"), "160")
        let cropped = try Tool.frameHashes(clip, filter: "crop=320:160:0:40")
        XCTAssertEqual(cropped.count, Self.frames)
        XCTAssertEqual(try Tool.frameHashes(s.file("streamed.mkv")), cropped, "the source's frames, cropped")
        XCTAssertEqual(try Tool.frameHashes(s.file("whole.mkv")), cropped)
        XCTAssertEqual(try Self.packets(s.file("streamed.mkv")), try Self.packets(s.file("whole.mkv")))
        try Self.checkPlan(streamed: s.file("tmp-seg"), whole: s.file("tmp-whole"))
    }

    /// A streamed job's TMP (--keep) against the whole pass's: TMP/plan holding one record per chunk of the whole
    /// pass's plan (chunk, frame index slice, cost; the last one says so), job.json replaced at the end by the whole
    /// plan, the same as the whole pass's, and one result per chunk.
    static func checkPlan(streamed: String, whole: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let job = try json(streamed + "/job.json")
        XCTAssertNil(job["planStreaming"], "job.json holds the whole plan once it is complete", file: file, line: line)
        let plan = try json(whole + "/job.json")
        XCTAssertEqual(try canonical(job["chunks"]), try canonical(plan["chunks"]), "the whole pass's chunks", file: file, line: line)
        XCTAssertEqual(try canonical(job["plan"]), try canonical(plan["plan"]), "the whole pass's decisions: slices, costs, claim order", file: file, line: line)
        let chunks = try XCTUnwrap(plan["chunks"] as? [[String: Any]], file: file, line: line)
        let decisions = try XCTUnwrap(plan["plan"] as? [String: Any], file: file, line: line)
        let slices = try XCTUnwrap(decisions["slices"] as? [[String: Any]], file: file, line: line)
        let costs = decisions["costs"] as? [Double]
        XCTAssertGreaterThan(chunks.count, 2, file: file, line: line)
        let names = try FileManager.default.contentsOfDirectory(atPath: streamed + "/plan").sorted()
        XCTAssertEqual(names, chunks.indices.map { String(format: "%05d.json", $0) }, "one record per chunk", file: file, line: line)
        for (i, name) in names.enumerated() where i < chunks.count {
            let r = try json(streamed + "/plan/" + name)
            XCTAssertEqual(r["jobID"] as? String, job["jobID"] as? String, file: file, line: line)
            XCTAssertEqual(try canonical(r["chunk"]), try canonical(chunks[i]), "chunk \(i) as the whole pass planned it", file: file, line: line)
            XCTAssertEqual(try canonical(r["slice"]), try canonical(slices[i]), "chunk \(i)'s frame index slice", file: file, line: line)
            XCTAssertEqual(r["cost"] as? Double, costs?[i], "chunk \(i)'s cost", file: file, line: line)
            XCTAssertEqual(r["last"] as? Bool, i == chunks.count - 1, file: file, line: line)
        }
        let results = try FileManager.default.contentsOfDirectory(atPath: streamed + "/results").filter { $0.hasSuffix(".json") }
        XCTAssertEqual(results.count, chunks.count, "every chunk encoded once", file: file, line: line)
    }

    // MARK: b. chunks encoded while the analysis runs

    /// A `--workers 0` coordinator and one `encoda worker TMP` started before it: the worker analyses and encodes
    /// everything, and its records show chunks started before the last segment was measured.
    func testARemoteWorkerEncodesChunksBeforeTheLastSegmentIsAnalysed() throws {
        let s = Scratch()
        let clip = try Self.clip()
        let tmp = s.file("tmp")
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: Tool.encoda)
        worker.arguments = ["worker", tmp, "--workers", "1", "--poll-seconds", "0.2"]
        worker.standardInput = FileHandle.nullDevice
        let log = s.file("worker.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try worker.run()
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() } }

        let r = try Tool.run(Tool.encoda, [clip, s.file("out.mkv"), tmp, "--segmented-analysis", "--workers", "0"] + Self.lossless)
        XCTAssertEqual(r.status, 0, r.stderr)
        if worker.isRunning { kill(worker.processIdentifier, SIGTERM) } // drain, should it wait for more work
        worker.waitUntilExit()
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "frame-exact")

        let segments = try Self.records(tmp + "/analysis/results")
        let chunks = try Self.records(tmp + "/results")
        XCTAssertGreaterThanOrEqual(segments.count, 12, "cut for the 4 workers a --workers 0 coordinator assumes")
        XCTAssertEqual(chunks.count, try FileManager.default.contentsOfDirectory(atPath: tmp + "/plan").count)
        // The coordinator ran no worker: every chunk was encoded by that one process, every segment measured on its host.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs"), [], "no local worker")
        let identities = chunks.values.compactMap { $0["worker"] as? [String: Any] }
        XCTAssertEqual(identities.count, chunks.count)
        XCTAssertEqual(Set(identities.compactMap { $0["pid"] as? Int }), [Int(worker.processIdentifier)])
        XCTAssertEqual(Set(segments.values.compactMap { $0["host"] as? String }), Set(identities.compactMap { $0["host"] as? String }))
        // Following the plan as it streams, it took segments and chunks under one identity.
        let segmentTokens = Set(segments.values.compactMap { $0["worker"] as? String })
        XCTAssertFalse(segmentTokens.isDisjoint(with: identities.compactMap { $0["token"] as? String }), said)
        let lastSegment = try XCTUnwrap(segments.values.compactMap { $0["finishedAt"] as? Double }.max())
        let firstChunk = try XCTUnwrap(chunks.values.compactMap { $0["startedAt"] as? Double }.min())
        let before = chunks.values.compactMap { $0["startedAt"] as? Double }.filter { $0 < lastSegment }.count
        XCTAssertLessThan(firstChunk, lastSegment,
                          "a chunk started (\(firstChunk)) before the last segment was measured (\(lastSegment)); worker said:\n\(said)")
        XCTAssertGreaterThan(before, 0)
        XCTAssertTrue(said.contains("while it is analysed"), said)
    }

    // MARK: c. killed during the analysis, run again

    func testAKillDuringTheAnalysisThenARerunRedoesNothingPublished() throws {
        let s = Scratch()
        let clip = try Self.clip()
        let tmp = s.file("tmp")
        let args = [clip, s.file("out.mkv"), tmp, "--segmented-analysis", "--workers", "2"] + Self.lossless
        // The window (a chunk planned, a segment still open) lasts a second or so on this clip: a run that
        // finished its analysis before it was looked at, or before its kill landed, is started over (nothing
        // about it is asserted).
        var caught = false
        for _ in 0..<5 where !caught {
            let p = try StatusTests.startCoordinator(args)
            while p.isRunning && !caught {
                caught = Self.midAnalysis(tmp)
                if !caught { usleep(2_000) }
            }
            StatusTests.killTree(p)
            // The workers may publish the last segments between the look and the kill: then the run is no
            // kill during the analysis, and it is started over like one never caught.
            if caught && !Self.midAnalysis(tmp) { caught = false }
            if !caught {
                try? FileManager.default.removeItem(atPath: tmp)
                try? FileManager.default.removeItem(atPath: s.file("out.mkv"))
            }
        }
        XCTAssertTrue(caught, "the job was caught with some segments and some chunks planned, its analysis not complete")
        XCTAssertTrue(Self.midAnalysis(tmp), "still so once everything is killed")

        let kept = try Self.published(tmp)
        let segmentsBefore = Set(kept.keys.filter { $0.hasPrefix("analysis/results/") })
        XCTAssertFalse(segmentsBefore.isEmpty)
        XCTAssertFalse(kept.keys.filter { $0.hasPrefix("plan/") }.isEmpty)
        let logsBefore = Set(try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs"))

        let r = try Tool.run(Tool.encoda, args)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "frame-exact after the re-run")
        XCTAssertEqual(try Tool.frameTimes(s.file("out.mkv")).count, Self.frames)
        let now = try Self.published(tmp)
        for (name, stamp) in kept.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(now[name], stamp, "\(name) was published before the kill: kept as it was, not published again")
        }
        // The re-run's workers log each segment they take: none of them one published before the kill.
        let published = Set(segmentsBefore.map { String($0.dropFirst("analysis/results/".count).prefix(5)) })
        var analysedAgain: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs") where !logsBefore.contains(name) {
            let text = try String(contentsOfFile: tmp + "/logs/" + name, encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard let r = line.range(of: "segment "), line[r.upperBound...].contains(": analysing frames"),
                      published.contains(String(line[r.upperBound...].prefix(5))) else { continue }
                analysedAgain.append(String(line))
            }
        }
        XCTAssertEqual(analysedAgain, [], "segments published before the kill analysed again")
        // The segments left open were measured by the re-run's workers (whose records name other workers).
        let segments = try Self.records(tmp + "/analysis/results")
        let firstRun = Set(segmentsBefore.compactMap { try? Self.json(tmp + "/" + $0)["worker"] as? String })
        let all = try XCTUnwrap(try Self.json(tmp + "/analysis.json")["segments"] as? [Any]).count
        XCTAssertEqual(segments.count, all)
        XCTAssertLessThan(published.count, all, "the kill left segments to analyse")
        for (name, r) in segments where !published.contains(String(name.prefix(5))) {
            XCTAssertFalse(firstRun.contains(r["worker"] as? String ?? ""), "segment \(name) measured by the re-run")
        }
        try Self.checkPlanIsWhole(tmp)
    }

    /// Some segment records and some plan records published, some segments not, the plan not complete (no record
    /// says it is the last).
    static func midAnalysis(_ tmp: String) -> Bool {
        let fm = FileManager.default
        let segments = ((try? fm.contentsOfDirectory(atPath: tmp + "/analysis/results")) ?? []).filter { $0.hasSuffix(".json") }
        let plan = ((try? fm.contentsOfDirectory(atPath: tmp + "/plan")) ?? []).filter { $0.hasSuffix(".json") }
        guard !segments.isEmpty, !plan.isEmpty, let all = (try? json(tmp + "/analysis.json"))?["segments"] as? [Any],
              segments.count < all.count else { return false }
        for name in plan {
            guard let r = try? json(tmp + "/plan/" + name) else { return false }
            if r["last"] as? Bool == true { return false }
        }
        return true
    }

    /// Every published file a re-run must not redo (segment records, plan records, chunk results and the chunk files
    /// they name), by path under TMP, with inode and modification time.
    static func published(_ tmp: String) throws -> [String: String] {
        var out: [String: String] = [:]
        func stamp(_ rel: String) {
            var st = stat()
            guard stat(tmp + "/" + rel, &st) == 0 else { return }
            out[rel] = "inode \(st.st_ino) mtime \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
        for folder in ["analysis/results", "plan", "results"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: tmp + "/" + folder) where name.hasSuffix(".json") {
                stamp(folder + "/" + name)
                if folder == "results", let file = try json(tmp + "/results/" + name)["file"] as? String { stamp("chunks/" + file) }
            }
        }
        return out
    }

    /// TMP/plan of a finished job: records 0…N-1, in order, the last one last, covering every frame.
    static func checkPlanIsWhole(_ tmp: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: tmp + "/plan").sorted()
        XCTAssertEqual(names, names.indices.map { String(format: "%05d.json", $0) }, file: file, line: line)
        var next = 0
        for (i, name) in names.enumerated() {
            let r = try json(tmp + "/plan/" + name)
            let range = try XCTUnwrap((r["chunk"] as? [String: Any])?["range"] as? [String: Any], file: file, line: line)
            XCTAssertEqual(range["start"] as? Int, next, "record \(name) continues the plan", file: file, line: line)
            next = range["end"] as? Int ?? -1
            XCTAssertEqual(r["last"] as? Bool, i == names.count - 1, file: file, line: line)
        }
        XCTAssertEqual(next, frames, file: file, line: line)
    }

    // MARK: d. status while the plan streams

    func testStatusSaysPlanningWhileThePlanStreamsAndNotOnceFinished() throws {
        let s = Scratch()
        let clip = try Self.clip()
        let tmp = s.file("tmp")
        let p = try StatusTests.startCoordinator([clip, s.file("out.mkv"), tmp, "--segmented-analysis", "--workers", "2"] + Self.lossless)
        defer { if p.isRunning { StatusTests.killTree(p) } }
        var planning: [Int] = [] // chunks planned so far, at each poll that said planning
        var polls = 0
        while p.isRunning {
            if FileManager.default.fileExists(atPath: tmp + "/job.json") {
                let st = try StatusTests.status(tmp)
                polls += 1
                if st["planning"] as? Bool == true {
                    planning.append(st["chunks"] as? Int ?? -1)
                    XCTAssertNotEqual(st["state"] as? String, "finished")
                }
            }
            usleep(100_000)
        }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertFalse(planning.isEmpty, "some poll (of \(polls)) said planning: true")
        XCTAssertEqual(planning, planning.sorted(), "chunks planned so far only grow: \(planning)")
        let last = try StatusTests.status(tmp)
        XCTAssertEqual(last["state"] as? String, "finished")
        XCTAssertNotEqual(last["planning"] as? Bool, true)
        let chunks = try FileManager.default.contentsOfDirectory(atPath: tmp + "/plan").count
        XCTAssertEqual(last["chunks"] as? Int, chunks, "the whole plan")
        XCTAssertEqual(last["chunksDone"] as? Int, chunks)
        XCTAssertEqual(last["framesDone"] as? Int, Self.frames)
        XCTAssertLessThan(planning.max() ?? 0, chunks + 1)
        let text = try Tool.mustRun(Tool.encoda, ["status", tmp]).stdout
        XCTAssertFalse(text.contains("planned so far"), text)
    }

    // MARK: helpers

    static func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], path)
    }

    /// A JSON value written with sorted keys, to compare values read from two files.
    static func canonical(_ value: Any?) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: try XCTUnwrap(value), options: [.sortedKeys]), as: UTF8.self)
    }

    /// The JSON records in `folder` (NNNNN.json), by name.
    static func records(_ folder: String) throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".json") {
            out[name] = try json(folder + "/" + name)
        }
        return out
    }

    /// Every video packet in file order: pts, dts, duration, size, flags.
    static func packets(_ file: String) throws -> [String] {
        let r = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts,duration,size,flags",
                                         "-of", "csv=p=0", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").map(String.init)
    }
}

