import Foundation
import XCTest

/// Workers as a scheduler runs them: under a CPU quota or an affinity mask they default to the CPUs granted (not the
/// host's cores), the first SIGTERM drains them (exit 0), and with nothing to do they leave at once with 0. The job
/// they serve still comes out frame-exact, and every result record names the task that encoded its chunk.
final class GrantedCPUTests: XCTestCase {
    func testWorkersTakeTheGrantedCPUsDrainOnSIGTERMAndLeaveWhenIdle() throws {
        guard let host = Int(try Tool.run("nproc", ["--all"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)), host > 1 else {
            throw XCTSkip("this machine has one CPU: a one-CPU grant cannot be told from the host's count here")
        }
        // A real-time test process would hand its policy to the worker, which a CPU quota does not limit.
        XCTAssertEqual(sched_getscheduler(0), SCHED_OTHER, "the test process runs SCHED_OTHER, as the worker must")
        let group: CPUQuotaGroup
        do { group = try CPUQuotaGroup(cpus: 1) } catch { throw XCTSkip("cannot make a cgroup with a CPU quota here (\(error)); needs root and a writable cgroup v2 or v1 cpu hierarchy") }
        defer { group.remove() }

        let s = Scratch()
        let clip = try Clips.cuts()
        let tmp = s.file("tmp"), out = s.file("out.mkv")
        // The coordinator only plans and joins (--workers 0); --keep so TMP can be read afterwards.
        let coordinator = try Background(Tool.encoda, [clip, out, tmp, "--workers", "0", "--encoder", "h264", "--lossless",
                                                       "--preset", "ultrafast", "--max-scene-length", "1", "--keep", "--quiet"], log: s.file("coordinator.log"))
        defer { coordinator.stop() }
        try waitUntil("the job to be planned (\(s.file("coordinator.log")))") { FileManager.default.fileExists(atPath: tmp + "/job.json") }

        // A worker inside the quota: no --workers, no --threads.
        let quota = try Background("/bin/sh", ["-c", "echo $$ > \"$1\" && shift && exec \"$@\"", "sh", group.procs, Tool.encoda, "worker", tmp],
                                   log: s.file("quota.log"), environment: ["ENCODA_WORKER_NAME": "quota-worker"])
        defer { quota.stop() }
        // SIGTERM while it holds a chunk: stopped (SIGSTOP) when its log says it is encoding, so the signal lands
        // before the chunk is published whatever the machine's speed.
        try waitUntil("the quota worker to start a chunk", log: { "\(quota.output) | coordinator: \(coordinator.output)" }) {
            quota.output.contains("encoding frames") || !quota.process.isRunning
        }
        if !quota.output.contains("encoding frames") {
            // The shell could not move itself into the group. Seen when this test process ran real-time: SVT-AV1 run
            // as root made the thread that opened an encoder SCHED_FIFO 99, its children inherited it, and a real-time
            // task may not join a group without real-time runtime (dash says "echo: I/O error" for that EINVAL).
            // encoda now keeps its policy (ThreadSchedulingTests); a refusal here is a failure, not a skip.
            XCTFail("the quota worker ended before it started a chunk (exit \(quota.wait())): \(quota.output)")
            return
        }
        kill(quota.pid, SIGSTOP)
        let encoding = quota.output.components(separatedBy: "encoding frames").count - 1
        XCTAssertFalse(quota.output.contains("leaving;"), "the worker had finished the whole job before it could be drained")
        // `status` says which task holds the chunk, in text and JSON.
        let status = try Tool.encoda(["status", tmp])
        XCTAssertTrue(status.stdout.contains(" [quota-worker] "), status.stdout)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(Tool.encoda(["status", tmp, "--json"]).stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["running"] as? [[String: Any]])?.compactMap { $0["task"] as? String }, ["quota-worker"], "\(json)")
        kill(quota.pid, SIGTERM)
        kill(quota.pid, SIGCONT)
        XCTAssertEqual(quota.wait(), 0, quota.output)
        let log = quota.output
        XCTAssertTrue(log.contains("[quota-worker]: joining job "), log)
        XCTAssertTrue(log.contains("with 1 encoder thread(s) (the CPUs granted: 1, by cgroup CPU quota)"), log)
        XCTAssertTrue(log.contains("draining: finishing the current chunk"), log)
        // Chunks only: while the plan streams, the worker may have published analysis segments too ("segment N: published").
        let chunksPublished = log.split(separator: "\n").filter { $0.contains(": chunk ") && $0.contains(": published (") }.count
        XCTAssertEqual(chunksPublished, encoding, "the chunk it held was finished and published: \(log)")
        XCTAssertTrue(log.contains("leaving; encoded \(encoding) chunk(s)"), log)

        // A worker on one CPU of its affinity mask does the rest and leaves when nothing is left (exit 0).
        let pinned = try Tool.run("taskset", ["-c", "0", Tool.encoda, "worker", tmp, "--exit-when-idle", "--log-stdout"],
                                  environment: ["ENCODA_WORKER_NAME": "pinned-worker"])
        XCTAssertEqual(pinned.status, 0, pinned.stderr)
        XCTAssertTrue(pinned.stdout.contains("with 1 encoder thread(s) (the CPUs granted: 1, by affinity mask)"), pinned.stdout)
        XCTAssertEqual(pinned.stderr, "", "--log-stdout: the log is on stdout")
        XCTAssertEqual(coordinator.wait(), 0, coordinator.output)

        // Frame-exact: lossless x264 decodes to INPUT's frames, with INPUT's timestamps.
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip))
        XCTAssertEqual(try Tool.frameTimes(out), try Tool.frameTimes(clip))
        let results = try FileManager.default.contentsOfDirectory(atPath: tmp + "/results").sorted()
        let chunks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as? [String: Any])["chunks"] as? [Any]
        XCTAssertEqual(results.count, chunks?.count)
        var byTask: [String: Int] = [:]
        for name in results {
            let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + name))) as? [String: Any])
            let task = (r["worker"] as? [String: Any])?["task"] as? String ?? "none"
            byTask[task, default: 0] += 1
        }
        XCTAssertEqual(byTask, ["quota-worker": encoding, "pinned-worker": results.count - encoding])

        // Nothing to do: a finished job, and a folder without a job, end at once with 0.
        let late = try Tool.encoda(["worker", tmp, "--exit-when-idle"])
        XCTAssertEqual(late.status, 0, late.stderr)
        XCTAssertTrue(late.stderr.contains("leaving; encoded 0 chunk(s)"), late.stderr)
        let empty = try Tool.encoda(["worker", s.file("no-job"), "--exit-when-idle"])
        XCTAssertEqual(empty.status, 0, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("nothing to do: no job in"), empty.stderr)
    }

    /// `log`: what to show when the wait gives up (a process's output so far), so a failure says why.
    private func waitUntil(_ what: String, log: () -> String = { "" }, _ condition: () -> Bool) throws {
        // A bound against hanging forever, not a measurement: the test never asserts how long anything takes.
        for _ in 0..<6000 { if condition() { return }; usleep(20_000) }
        let said = log()
        XCTFail("gave up waiting for \(what)" + (said.isEmpty ? "" : "; its log: " + said.suffix(1500)))
        throw XCTSkip("gave up waiting for \(what)")
    }
}

/// A cgroup made for the test with a CPU quota of `cpus` (cgroup v2 `cpu.max`, else the v1 `cpu` hierarchy's CFS
/// quota); a process joins it by writing its pid to `procs`.
private struct CPUQuotaGroup {
    let path: String
    var procs: String { path + "/cgroup.procs" }

    init(cpus: Int) throws {
        let fm = FileManager.default
        let name = "encoda-test-\(getpid())-\(UUID().uuidString.prefix(6))"
        if fm.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") { // v2 alone
            let control = "/sys/fs/cgroup/cgroup.subtree_control"
            if !((try? String(contentsOfFile: control, encoding: .utf8)) ?? "").contains("cpu") { try Self.write("+cpu", control) }
            path = "/sys/fs/cgroup/" + name
            try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            try Self.write("\(cpus * 100_000) 100000", path + "/cpu.max")
        } else if fm.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us") { // v1 (or hybrid)
            path = "/sys/fs/cgroup/cpu/" + name
            try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            try Self.write("100000", path + "/cpu.cfs_period_us")
            try Self.write("\(cpus * 100_000)", path + "/cpu.cfs_quota_us")
        } else {
            throw NSError(domain: "cgroup", code: 1, userInfo: [NSLocalizedDescriptionKey: "no cgroup v2 root and no v1 cpu hierarchy under /sys/fs/cgroup"])
        }
    }

    private static func write(_ s: String, _ file: String) throws {
        guard let h = FileHandle(forWritingAtPath: file) else { throw NSError(domain: "cgroup", code: 2, userInfo: [NSLocalizedDescriptionKey: "cannot open \(file)"]) }
        defer { try? h.close() }
        try h.write(contentsOf: Data(s.utf8))
    }

    func remove() { rmdir(path) }
}
