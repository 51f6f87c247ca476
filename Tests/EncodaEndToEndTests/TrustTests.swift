import Foundation
import XCTest

/// The mistakes people make, each with the behaviour encoda promises: OUTPUT that is INPUT, an existing OUTPUT,
/// Ctrl-C once and twice, the worker holding a chunk killed again and again, a full TMP.
final class TrustTests: XCTestCase {

    // MARK: never destroy a file

    func testOutputThatIsInputIsRefusedWhateverTheFlags() throws {
        let s = Scratch()
        let src = s.file("src.mp4")
        try FileManager.default.copyItem(atPath: try Clips.singleShot(), toPath: src)
        let before = try Tool.md5(src)
        try FileManager.default.createSymbolicLink(atPath: s.file("link.mp4"), withDestinationPath: src)
        link(src, s.file("hard.mp4"))
        let h264 = ["--encoder", "h264", "--preset", "ultrafast"]
        for (input, output) in [(src, src), (src, s.file("link.mp4")), (s.file("hard.mp4"), src), (s.file("link.mp4"), s.file("hard.mp4"))] {
            for extra in [[], ["-y"], ["--overwrite", "--restart"]] {
                let r = try Tool.encoda([input, output, s.file("tmp")] + h264 + extra)
                XCTAssertEqual(r.status, 64, "\(input) → \(output) \(extra): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("is INPUT"), r.stderr)
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                XCTAssertEqual(try Tool.md5(src), before, "INPUT untouched after \(input) → \(output) \(extra)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/scenes.json")), "refused before any work")
        // A file encoda keeps in TMP is never an OUTPUT either.
        try Tool.mustRun(Tool.encoda, [src, s.file("out.mkv"), s.file("tmp2"), "--keep", "--quiet"] + h264)
        let chunk = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: s.file("tmp2/chunks")).first)
        let r = try Tool.encoda([src, s.file("tmp2/chunks/" + chunk + ".mkv"), s.file("tmp2"), "-y"] + h264)
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("encoda's own files"), r.stderr)
    }

    func testAnExistingOutputIsKeptWithoutYesAndReplacedWithIt() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        let out = s.file("out.mkv")
        try Tool.mustRun(Tool.encoda, [clip, out, s.file("tmp1"), "--encoder", "h264", "--preset", "ultrafast", "--quiet"])
        let first = try Tool.md5(out)
        // Swapped arguments: the earlier OUTPUT given as INPUT, the source as OUTPUT. Refused; the source is kept.
        let source = s.file("source.mp4")
        try FileManager.default.copyItem(atPath: clip, toPath: source)
        let sourceMD5 = try Tool.md5(source)
        let swapped = try Tool.encoda([out, source, s.file("tmp2"), "--encoder", "h264", "--preset", "ultrafast"])
        XCTAssertEqual(swapped.status, 73, swapped.stderr)
        XCTAssertTrue(swapped.stderr.contains("exists; add -y"), swapped.stderr)
        XCTAssertEqual(try Tool.md5(source), sourceMD5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp2/scenes.json")), "refused before the scene pass")
        // The same command again: OUTPUT exists, so it is refused without -y, and OUTPUT is unchanged.
        let again = try Tool.encoda([clip, out, s.file("tmp3"), "--encoder", "h264", "--preset", "ultrafast", "--crf", "40"])
        XCTAssertEqual(again.status, 73, again.stderr)
        XCTAssertEqual(try Tool.md5(out), first)
        try Tool.mustRun(Tool.encoda, [clip, out, s.file("tmp3"), "--encoder", "h264", "--preset", "ultrafast", "--crf", "40", "-y", "--quiet"])
        XCTAssertNotEqual(try Tool.md5(out), first, "replaced with -y")
        XCTAssertEqual(try Tool.frameTimes(out).count, 100)
    }

    // MARK: Ctrl-C

    /// SIGINT to the coordinator's process group, as a terminal sends it, in the middle of a many-chunk job: the
    /// workers finish their chunk and claim nothing after it, the coordinator exits 130 with the true count, no
    /// encoda process is left, and the re-run is frame-exact. Then two SIGINTs: everything is gone at once.
    func testCtrlCDrainsThenASecondStopsEverything() throws {
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp")
        let args = [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--lossless", "--preset", "veryfast",
                    "--max-scene-length", "0.5", "--workers", "2", "--threads", "1", "--keep"]
        let (p, errFile) = try Self.startInOwnGroup(args)
        try Self.waitUntil("two published chunks", 300) { Self.published(tmp).count >= 2 || !p.isRunning }
        XCTAssertTrue(p.isRunning, "the job was still running when interrupted")
        kill(-p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        let (chunks, streaming) = try Self.plan(tmp)
        let done = Self.published(tmp).count
        if done < chunks || streaming {
            XCTAssertEqual(p.terminationStatus, 130, stderr)
            XCTAssertTrue(stderr.contains(streaming ? "stopped while INPUT was analysed; \(done) of the \(chunks) chunks planned so far are done"
                                                    : "stopped; \(done) of \(chunks) chunks are done"), stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
        } else {
            XCTAssertEqual(p.terminationStatus, 0, "every chunk was done when the workers had drained: joined. \(stderr)")
        }
        XCTAssertFalse(stderr.contains("%  \u{1B}") || stderr.contains("MBencoda:"), "no message glued to a progress line: \(stderr)")
        // Each worker got the drain once and claimed nothing after it.
        let logs = try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs").filter { $0.hasSuffix(".log") }
        XCTAssertEqual(logs.count, 2, "no worker was restarted: \(logs)")
        var pids: [Int32] = []
        for name in logs {
            let lines = try String(contentsOfFile: tmp + "/logs/" + name, encoding: .utf8).split(separator: "\n")
            let drained = try XCTUnwrap(lines.firstIndex { $0.contains("draining") }, "\(name) got the drain: \(lines)")
            XCTAssertFalse(lines[drained...].contains { $0.contains("encoding frames") }, "\(name) claimed a chunk after the drain: \(lines)")
            XCTAssertTrue(lines.last?.contains("leaving") == true, "\(name) left by itself: \(lines.last ?? "")")
            pids += lines.compactMap { Self.workerPID($0) }
        }
        for pid in Set(pids) { XCTAssertEqual(kill(pid, 0), -1, "worker \(pid) is gone") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp + "/leases").filter { $0.hasSuffix(".lock") }, [], "no claim left")

        // Two SIGINTs: stop now. Every local worker is gone and its claim released within 5 s (a safety bound).
        if done < chunks || streaming {
            let (q, errFile2) = try Self.startInOwnGroup(args)
            try Self.waitUntil("a worker inside a chunk", 300) { Self.leases(tmp).count >= 1 || !q.isRunning }
            kill(-q.processIdentifier, SIGINT)
            usleep(100_000)
            kill(-q.processIdentifier, SIGINT)
            let sent = Date()
            q.waitUntilExit()
            let stderr2 = (try? String(contentsOfFile: errFile2, encoding: .utf8)) ?? ""
            XCTAssertLessThan(Date().timeIntervalSince(sent), 5, "the coordinator left at once")
            XCTAssertTrue([130, 0].contains(q.terminationStatus), stderr2)
            let workerPIDs = try Self.logPIDs(tmp).subtracting(pids)
            XCTAssertFalse(workerPIDs.isEmpty)
            for pid in workerPIDs { XCTAssertEqual(kill(pid, 0), -1, "worker \(pid) is gone: \(stderr2)") }
            XCTAssertEqual(Self.leases(tmp), [], "claims released")
        }
        // The re-run resumes and is frame-exact.
        let rerun = try Tool.mustRun(Tool.encoda, args)
        XCTAssertTrue(rerun.stderr.contains("resuming job") || done == chunks, rerun.stderr)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip))
    }

    /// kill -9 of whichever worker holds the same chunk, three times (what --max-attempts 3 would have counted):
    /// takeovers are not failures, so the job still finishes, and frame-exactly.
    func testKillingTheWorkerThatHoldsAChunkThreeTimesDoesNotQuarantineIt() throws {
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp")
        let args = [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--lossless", "--preset", "veryfast",
                    "--max-scene-length", "0.5", "--workers", "1", "--threads", "1", "--max-attempts", "3", "--keep"]
        let (p, errFile) = try Self.startInOwnGroup(args)
        defer { if p.isRunning { kill(-p.processIdentifier, SIGKILL) } }
        var victim: Int? = nil
        var killed: Set<Int32> = []
        while killed.count < 3 && p.isRunning {
            // The lease of the victim chunk held by a worker not killed yet.
            guard let (chunk, pid) = Self.leaseOwners(tmp).first(where: { (victim == nil || $0.chunk == victim) && !killed.contains($0.pid) }),
                  kill(pid, 0) == 0 else { usleep(2_000); continue }
            victim = chunk
            kill(pid, SIGKILL)
            killed.insert(pid)
        }
        XCTAssertEqual(killed.count, 3, "three owners of chunk \(victim ?? -1) were killed")
        p.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp + "/quarantine"), [])
        let failures = try FileManager.default.contentsOfDirectory(atPath: tmp + "/failures").filter { $0.hasPrefix(String(format: "%05d-", victim ?? 0)) }
        XCTAssertEqual(failures, [], "kills are not failures of the chunk")
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip))
    }

    // MARK: a standalone worker

    /// `encoda worker TMP --workers 2` started before the job exists waits for it, then runs two worker processes
    /// that share the job with each other (a coordinator with --workers 0 only plans and joins).
    func testAStandaloneWorkerWaitsForTheJobAndRunsSeveralProcesses() throws {
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp")
        let (w, werr) = try Self.startInOwnGroup(["worker", tmp, "--workers", "2", "--threads", "1", "--poll-seconds", "0.2"])
        defer { if w.isRunning { kill(-w.processIdentifier, SIGKILL) } }
        try Self.waitUntil("the worker to wait for a job", 60) {
            ((try? String(contentsOfFile: werr, encoding: .utf8)) ?? "").contains("waiting for a job") || !w.isRunning
        }
        XCTAssertTrue(w.isRunning, "a worker started before the job waits instead of leaving")
        try Tool.mustRun(Tool.encoda, [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--lossless", "--preset", "veryfast",
                                       "--max-scene-length", "0.5", "--workers", "0", "--keep", "--quiet"])
        w.waitUntilExit()
        let log = (try? String(contentsOfFile: werr, encoding: .utf8)) ?? ""
        XCTAssertEqual(w.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("starting 2 worker processes with 1 encoder thread(s) each"), log)
        var pids = Set<Int>()
        for name in Self.published(tmp) {
            let r = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + name))) as! [String: Any]
            pids.insert((r["worker"] as! [String: Any])["pid"] as! Int)
        }
        XCTAssertEqual(pids.count, 2, "both worker processes encoded chunks: \(pids)")
        XCTAssertFalse(pids.contains(Int(w.processIdentifier)), "the parent only supervises")
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip))
    }

    // MARK: a full TMP

    /// TMP on a tmpfs too small for the chunks: the job stops with exit 74 and one clear line, no process is
    /// left, every published chunk is kept; once the tmpfs is enlarged, the same command resumes frame-exactly.
    func testAFullTMPStopsCleanlyAndResumesOnceThereIsSpace() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try Tool.mustRun("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", tmp])
        defer { _ = try? Tool.run("/usr/bin/umount", ["-l", tmp]) }
        let args = [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--lossless", "--preset", "veryfast",
                    "--max-scene-length", "0.5", "--workers", "2", "--threads", "1", "--keep"]
        let (p, errFile) = try Self.startInOwnGroup(args)
        defer { if p.isRunning { kill(-p.processIdentifier, SIGKILL) } }
        try Self.waitUntil("the coordinator to stop", 60) { !p.isRunning }
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationStatus, 74, stderr)
        let errors = stderr.split(separator: "\n").filter { $0.contains("error:") }
        XCTAssertEqual(errors.count, 1, stderr)
        XCTAssertTrue(errors.first?.contains("is full") == true, stderr)
        let pids = try Self.logPIDs(tmp)
        XCTAssertFalse(pids.isEmpty)
        usleep(200_000)
        for pid in pids { XCTAssertEqual(kill(pid, 0), -1, "worker \(pid) is gone") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
        let kept = Self.published(tmp)
        XCTAssertLessThan(kept.count, try Self.chunkCount(tmp))
        var before: [String: Data] = [:]
        for name in kept { before[name] = try Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + name)) }

        try Tool.mustRun("/usr/bin/mount", ["-o", "remount,size=200m", tmp])
        let rerun = try Tool.mustRun(Tool.encoda, args)
        XCTAssertTrue(rerun.stderr.contains("resuming job"), rerun.stderr)
        for (name, data) in before {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + name)), data, "chunk \(name) kept")
        }
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip))
    }

    // MARK: helpers

    /// Starts the coordinator, stderr to a file. Foundation starts a child as the leader of its own process group
    /// (as a shell starts a terminal's foreground job), so `kill(-pid, SIGINT)` is what a Ctrl-C sends.
    static func startInOwnGroup(_ args: [String]) throws -> (Process, String) {
        let errFile = NSTemporaryDirectory() + "encoda-trust-\(UUID().uuidString).err"
        FileManager.default.createFile(atPath: errFile, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        p.standardInput = FileHandle.nullDevice
        try p.run()
        XCTAssertEqual(getpgid(p.processIdentifier), p.processIdentifier, "the coordinator leads its own process group")
        return (p, errFile)
    }

    static func waitUntil(_ what: String, _ seconds: Double, _ cond: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() {
            guard Date() < deadline else { throw NSError(domain: "wait", code: 1, userInfo: [NSLocalizedDescriptionKey: "gave up waiting for \(what)"]) }
            usleep(2_000)
        }
    }

    static func published(_ tmp: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/results")) ?? []).filter { $0.hasSuffix(".json") && $0.count == 10 }
    }

    static func leases(_ tmp: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/leases")) ?? []).filter { $0.hasSuffix(".lock") }
    }

    static func leaseOwners(_ tmp: String) -> [(chunk: Int, pid: Int32)] {
        leases(tmp).compactMap { name in
            guard let d = FileManager.default.contents(atPath: tmp + "/leases/" + name),
                  let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any],
                  let w = o["worker"] as? [String: Any], let pid = w["pid"] as? Int, let chunk = o["chunk"] as? Int else { return nil }
            return (chunk, Int32(pid))
        }
    }

    /// The chunks planned so far (`Tool.plannedChunks`), and whether the plan still streams.
    static func plan(_ tmp: String) throws -> (chunks: Int, streaming: Bool) {
        let (chunks, streaming) = try Tool.plannedChunks(tmp)
        return (chunks.count, streaming)
    }

    static func chunkCount(_ tmp: String) throws -> Int { try plan(tmp).chunks }

    /// "encoda worker HOST:PID: ..." → PID.
    static func workerPID<S: StringProtocol>(_ line: S) -> Int32? {
        guard line.hasPrefix("encoda worker "), let colon = line.dropFirst(14).firstIndex(of: ":") else { return nil }
        let rest = line[line.index(after: colon)...]
        return Int32(rest.prefix { $0.isNumber })
    }

    static func logPIDs(_ tmp: String) throws -> Set<Int32> {
        var pids = Set<Int32>()
        for name in try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs") where name.hasSuffix(".log") {
            let text = (try? String(contentsOfFile: tmp + "/logs/" + name, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") { if let p = workerPID(line) { pids.insert(p) } }
        }
        return pids
    }
}
