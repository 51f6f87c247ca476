import ArgumentParser
import EncodaJobs
import EncodaModel
import Foundation

struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean", abstract: "Remove a finished or abandoned job's state from TMP.",
        discussion: "Refuses while a worker's claim or heartbeat is fresh (by the file server's clock), unless --force. Only encoda's own files and folders are removed; anything else in TMP stays.")
    @Argument(help: "The job's work folder.") var tmp: String
    @Flag(name: .long, help: "Only clear quarantine and failure records, so quarantined chunks are retried on the next run.") var quarantine = false
    @Flag(name: .long, help: "Clean even while workers hold fresh claims.") var force = false

    func run() throws {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        guard FileManager.default.fileExists(atPath: dir.manifest) || FileManager.default.fileExists(atPath: dir.sceneCache) else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no encoda job; nothing to clean")
        }
        if quarantine {
            var n = 0
            for sub in [dir.quarantine, dir.failures] {
                for name in dir.list(sub) where PathSafety.isPlainFileName(name) { if unlink(sub + "/" + name) == 0 { n += 1 } }
            }
            print("cleared \(n) quarantine and failure record(s) in \(dir.root); the next run retries those chunks")
            return
        }
        if !force {
            let lease = (try? JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest"))?.farmSettings.leaseSeconds
                ?? FarmSettings.defaultLeaseSeconds
            let clock = ServerClock(directory: dir, owner: "clean-\(HostName.current)-\(getpid())-\(Token.make())")
            let now = try clock.now()
            clock.remove()
            let fresh = dir.list(dir.leases).filter { $0.hasSuffix(".lock") }.filter {
                ((try? FileTimes.mtime(dir.leases + "/" + $0)).map { now - $0 < lease }) ?? false
            }
            let workers = dir.list(dir.workers).filter { $0.hasSuffix(".json") }.filter {
                ((try? FileTimes.mtime(dir.workers + "/" + $0)).map { now - $0 < lease }) ?? false
            }
            if !fresh.isEmpty || !workers.isEmpty {
                throw EncodaError(.workDirectory, "workers are still active in \(dir.root) (\(fresh.count) fresh claim(s), \(workers.count) live worker(s)); stop them first (SIGTERM lets them finish their chunk) or use --force")
            }
        }
        JobCleaner.discardJob(dir, keepSceneCache: false)
        for sub in WorkDirectory.subdirectories { rmdir(dir.root + "/" + sub) }
        print("removed the job state in \(dir.root)")
    }
}
