import ArgumentParser
import EncodaJobs
import EncodaModel
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a job's progress: chunks done, running, failed, quarantined; workers alive.")
    @Argument(help: "The job's work folder.") var tmp: String
    @Flag(name: .long, help: "Machine-readable output.") var json = false

    struct Report: Codable {
        var jobID: String
        var frames: Int
        var framesDone: Int
        var chunks: Int
        var done: [Int]
        var running: [Running]
        var failedAttempts: [String: Int]
        var quarantined: [String: String]
        var workersAlive: Int
        struct Running: Codable { var chunk: Int; var host: String; var pid: Int32; var heartbeatAgeSeconds: Double }
    }

    func run() throws {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        guard FileManager.default.fileExists(atPath: dir.manifest) else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no job (no job.json)")
        }
        let m = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
        try m.validate()
        let state = JobState.scan(dir, manifest: m)
        let clock = ServerClock(directory: dir, owner: "status-\(HostName.current)-\(getpid())")
        defer { clock.remove() }
        let now = (try? clock.now()) ?? Date().timeIntervalSince1970
        var running: [Report.Running] = []
        let book = LeaseBook(directory: dir, jobID: m.jobID, me: WorkerIdentity(host: "", pid: 0, token: ""), leaseSeconds: 60)
        for id in state.leased.sorted() where id < m.chunks.count {
            guard let o = try? book.readOwner(dir.lease(id)), let t = try? FileTimes.mtime(dir.lease(id)) else { continue }
            running.append(.init(chunk: id, host: o.worker.host, pid: o.worker.pid, heartbeatAgeSeconds: max(0, now - t)))
        }
        var alive = 0
        for name in dir.list(dir.workers) where name.hasSuffix(".json") {
            if let t = try? FileTimes.mtime(dir.workers + "/" + name), now - t < 120 { alive += 1 }
        }
        let report = Report(jobID: m.jobID, frames: m.frameCount, framesDone: state.framesDone(m), chunks: m.chunks.count,
                            done: state.done.keys.sorted(), running: running,
                            failedAttempts: Dictionary(uniqueKeysWithValues: state.failures.map { (Chunk.name($0.key), $0.value) }),
                            quarantined: Dictionary(uniqueKeysWithValues: state.quarantined.map { (Chunk.name($0.key), $0.value) }),
                            workersAlive: alive)
        if json {
            print(String(decoding: try JSONCoding.encode(report), as: UTF8.self))
            return
        }
        print("job \(m.jobID): \(report.framesDone)/\(m.frameCount) frames, \(report.done.count)/\(m.chunks.count) chunks done, \(alive) worker(s) alive")
        for r in running { print(String(format: "  running  %@ on %@ pid %d (heartbeat %.0f s ago)", Chunk.name(r.chunk), r.host, r.pid, r.heartbeatAgeSeconds)) }
        for (k, v) in report.failedAttempts.sorted(by: { $0.key < $1.key }) { print("  failed   \(k): \(v) attempt(s)") }
        for (k, v) in report.quarantined.sorted(by: { $0.key < $1.key }) { print("  quarantined \(k): \(v)") }
    }
}

struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clean", abstract: "Remove a finished or abandoned job's state from TMP.")
    @Argument(help: "The job's work folder.") var tmp: String
    @Flag(name: .long, help: "Only clear quarantine and failure records, so quarantined chunks are retried on the next run.") var quarantine = false
    @Flag(name: .long, help: "Clean even while workers hold fresh claims.") var force = false

    func run() throws {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        guard FileManager.default.fileExists(atPath: dir.manifest) || FileManager.default.fileExists(atPath: dir.sceneCache) else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no encoda job; nothing to clean")
        }
        if quarantine {
            for sub in [dir.quarantine, dir.failures] { for n in dir.list(sub) { unlink(sub + "/" + n) } }
            print("cleared quarantine and failure records in \(dir.root)")
            return
        }
        if !force {
            let clock = ServerClock(directory: dir, owner: "clean-\(HostName.current)-\(getpid())")
            defer { clock.remove() }
            let now = (try? clock.now()) ?? Date().timeIntervalSince1970
            let fresh = dir.list(dir.leases).filter { $0.hasSuffix(".lock") }.filter {
                ((try? FileTimes.mtime(dir.leases + "/" + $0)).map { now - $0 < 60 }) ?? false
            }
            if !fresh.isEmpty {
                throw EncodaError(.workDirectory, "workers are still encoding in \(dir.root) (\(fresh.count) fresh claim(s)); stop them first or use --force")
            }
        }
        JobCleaner.discardJob(dir, keepSceneCache: false)
        for sub in WorkDirectory.subdirectories { rmdir(dir.root + "/" + sub) }
        print("removed the job state in \(dir.root)")
    }
}
