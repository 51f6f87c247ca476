import ArgumentParser
import EncodaJobs
import EncodaModel
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a job's progress: chunks done, running (by whom, since when), failed, quarantined; workers alive.")
    @Argument(help: "The job's work folder.") var tmp: String
    @Flag(name: .long, help: "Machine-readable output (one JSON object).") var json = false

    struct Report: Codable {
        var formatVersion = 1
        var jobID: String
        var frames: Int
        var framesDone: Int
        var percentDone: Double
        var chunks: Int
        var chunksDone: Int
        var done: [Int]
        var running: [Running]
        var failedAttempts: [String: Int]
        var quarantined: [String: String]
        var workersAlive: Int
        var workers: [Worker]
        var leaseSeconds: Double
        var maxAttempts: Int
        var finished: Bool
        struct Running: Codable {
            var chunk: Int; var host: String; var pid: Int32
            /// Seconds since the claim was made, by the file server's clock (nil for leases that do not say).
            var runningSeconds: Double?
            var heartbeatAgeSeconds: Double
            var stale: Bool
        }
        struct Worker: Codable { var host: String; var pid: Int32; var heartbeatAgeSeconds: Double }
    }

    func run() throws {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        guard FileManager.default.fileExists(atPath: dir.manifest) else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no job (no job.json)")
        }
        let m = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
        try m.validate()
        let farm = m.farmSettings
        let state = JobState.scan(dir, manifest: m)
        let clock = ServerClock(directory: dir, owner: "status-\(HostName.current)-\(getpid())-\(Token.make())")
        defer { clock.remove() }
        let now = try clock.now()
        var running: [Report.Running] = []
        let book = LeaseBook(directory: dir, jobID: m.jobID, me: WorkerIdentity(host: "", pid: 0, token: ""), leaseSeconds: farm.leaseSeconds)
        for id in state.leased.sorted() where id < m.chunks.count && !state.published.contains(id) {
            guard let o = try? book.readOwner(dir.lease(id)), let t = try? FileTimes.mtime(dir.lease(id)) else { continue }
            let age = max(0, now - t)
            running.append(.init(chunk: id, host: o.worker.host, pid: o.worker.pid, runningSeconds: o.claimedAt.map { max(0, now - $0) },
                                 heartbeatAgeSeconds: age, stale: age > farm.leaseSeconds))
        }
        let alive = WorkerRecords.alive(dir, within: farm.leaseSeconds, clock: clock)
        let framesDone = state.framesDone(m)
        let report = Report(jobID: m.jobID, frames: m.frameCount, framesDone: framesDone,
                            percentDone: (1000 * Double(framesDone) / Double(m.frameCount)).rounded() / 10,
                            chunks: m.chunks.count, chunksDone: state.done.count,
                            done: state.done.keys.sorted(), running: running,
                            failedAttempts: Dictionary(uniqueKeysWithValues: state.failures.map { (Chunk.name($0.key), $0.value) }),
                            quarantined: Dictionary(uniqueKeysWithValues: state.quarantined.map { (Chunk.name($0.key), $0.value) }),
                            workersAlive: alive.count,
                            workers: alive.map { .init(host: $0.host, pid: $0.pid, heartbeatAgeSeconds: $0.heartbeatAgeSeconds) },
                            leaseSeconds: farm.leaseSeconds, maxAttempts: farm.maxAttempts,
                            finished: m.chunks.allSatisfy { state.isFinished($0.id) })
        if json {
            print(String(decoding: try JSONCoding.encode(report), as: UTF8.self))
            return
        }
        print("job \(m.jobID): \(framesDone)/\(m.frameCount) frames (\(report.percentDone)%), \(report.chunksDone)/\(m.chunks.count) chunks done, \(alive.count) worker(s) alive")
        for r in running {
            let since = r.runningSeconds.map { String(format: " for %.0f s", $0) } ?? ""
            print(String(format: "  running     %@ on %@ pid %d%@ (heartbeat %.0f s ago%@)", Chunk.name(r.chunk), r.host, r.pid, since,
                         r.heartbeatAgeSeconds, r.stale ? ", stale: another worker will take it over" : ""))
        }
        for (k, v) in report.failedAttempts.sorted(by: { $0.key < $1.key }) where report.quarantined[k] == nil {
            print("  failed      \(k): \(v) attempt(s) of \(farm.maxAttempts)")
        }
        for (k, v) in report.quarantined.sorted(by: { $0.key < $1.key }) { print("  quarantined \(k): \(v)") }
        for w in alive { print(String(format: "  worker      %@ pid %d (heartbeat %.0f s ago)", w.host, w.pid, w.heartbeatAgeSeconds)) }
        if report.finished && report.quarantined.isEmpty { print("  all chunks done") }
    }
}

/// The workers that announced themselves in TMP/workers.
enum WorkerRecords {
    struct Alive { var host: String; var pid: Int32; var heartbeatAgeSeconds: Double }

    /// Records whose heartbeat (mtime) is younger than `within` seconds by the file server's clock.
    static func alive(_ dir: WorkDirectory, within: Double, clock: ServerClock) -> [Alive] {
        guard let now = try? clock.now() else { return [] }
        var found: [Alive] = []
        for name in dir.list(dir.workers) where name.hasSuffix(".json") && PathSafety.isPlainFileName(name) {
            let path = dir.workers + "/" + name
            guard let w = try? JSONCoding.read(WorkerIdentity.self, from: path, what: "worker record"),
                  let m = try? FileTimes.mtime(path), now - m < within else { continue }
            found.append(Alive(host: w.host, pid: w.pid, heartbeatAgeSeconds: max(0, now - m)))
        }
        return found.sorted { ($0.host, $0.pid) < ($1.host, $1.pid) }
    }
}
