import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// Removing a job's state from TMP, always by the names encoda gives its files (`OwnNames`): a file a user put
/// into TMP stays wherever it is, and is listed.
public enum JobCleaner {
    /// `--restart`: removes the job manifest and all work state. The scene cache stays: it is keyed by the input's
    /// fingerprint and saves a decode on the next job of the same input. The folders stay for the new job.
    static func discardJob(_ dir: WorkDirectory, quiet: Bool) throws {
        let r = OwnFiles.remove(dir, folders: WorkDirectory.ownFolders, topLevel: ["job.json", "analysis.json"], removeEmptyFolders: false, listForeign: false)
        if !r.failed.isEmpty {
            throw EncodaError(.workDirectory, "--restart cannot remove the previous job's files in \(dir.root): \(r.failed.joined(separator: ", "))")
        }
        if !quiet && !r.kept.isEmpty { Report.note("--restart kept what encoda did not make in TMP: \(r.kept.joined(separator: ", "))") }
    }

    /// After OUTPUT is written and verified: removes the chunks and every record of the job, the plan (job.json and
    /// analysis.json) included, so that TMP holds no second copy of the video and a re-run plans a new job from the analysis
    /// cache (scenes.json) instead of "resuming" a job with no chunks. The worker logs stay.
    ///
    /// Workers on other machines leave once they see every chunk published; one still in its work loop would take
    /// the vanished results for open chunks. So the plan goes first (no worker takes the job up any more), then
    /// the chunks wait until no worker's heartbeat is fresh, for at most one lease time (a worker that stops
    /// renewing counts as gone after it, as everywhere in the protocol).
    static func removeChunkData(_ dir: WorkDirectory, manifest: JobManifest, quiet: Bool) {
        var r = OwnFiles.remove(dir, folders: [], topLevel: ["job.json", "analysis.json"], removeEmptyFolders: false, listForeign: false)
        let me = WorkerIdentity(host: HostName.current, pid: getpid(), token: "coordinator", locality: ProcessLiveness.currentLocality)
        let clock = ServerClock(directory: dir, owner: "coordinator-\(HostName.current)-\(getpid())-finish")
        let debris = Debris(directory: dir, leaseSeconds: manifest.farmSettings.leaseSeconds, judge: me, clock: clock)
        let deadline = Date().addingTimeInterval(manifest.farmSettings.leaseSeconds)
        var said = false
        while case let n = debris.liveWorkers(), n > 0, Date() < deadline {
            if !said && !quiet { Report.note("waiting for \(n) worker(s) to leave before removing the chunks from TMP") }
            said = true
            usleep(200_000)
        }
        clock.remove()
        let rest = OwnFiles.remove(dir, folders: WorkDirectory.ownFolders.filter { $0 != "logs" }, topLevel: [],
                                   removeEmptyFolders: true, listForeign: false)
        r.files += rest.files; r.bytes += rest.bytes; r.failed += rest.failed
        if !r.failed.isEmpty { Report.warn("could not remove from TMP: \(r.failed.joined(separator: ", "))") }
        if !quiet { Report.note("removed the chunks from TMP: \(size(r.bytes)) freed; --keep keeps them") }
    }

    /// Before the join: removes what killed workers left in TMP (`Debris`) and partial outputs that earlier
    /// coordinators on this machine, now dead, left beside OUTPUT.
    static func pruneBeforeJoin(_ dir: WorkDirectory, manifest: JobManifest, output: String, quiet: Bool) {
        let me = WorkerIdentity(host: HostName.current, pid: getpid(), token: "coordinator", locality: ProcessLiveness.currentLocality)
        let clock = ServerClock(directory: dir, owner: "coordinator-\(HostName.current)-\(getpid())-prune")
        let t = Debris(directory: dir, leaseSeconds: manifest.farmSettings.leaseSeconds, judge: me, clock: clock).prune()
        clock.remove()
        let partials = PartialOutput.removeDead(output: output, encoder: manifest.settings.encoder)
        guard !quiet else { return }
        if t.files > 0 { Report.note("removed debris of killed workers from TMP: \(t.summary)") }
        for p in partials { Report.note("removed \(p), a partial OUTPUT left by an earlier run that was killed") }
    }

    /// Fresh claims or worker heartbeats (by the file server's clock) mean a job is running in TMP.
    public static func refuseWhileWorkersAreActive(_ dir: WorkDirectory) throws {
        let leases = dir.list(dir.leases).filter { OwnNames.leaseID($0) != nil }
        let records = dir.list(dir.workers).filter { OwnNames.isOwn($0, in: "workers") }
        guard !leases.isEmpty || !records.isEmpty else { return }
        let lease = (try? JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest"))?.farmSettings.leaseSeconds
            ?? FarmSettings.defaultLeaseSeconds
        try? FileSystem.mkdir(dir.clock)
        let clock = ServerClock(directory: dir, owner: "clean-\(HostName.current)-\(getpid())-\(Token.make())")
        let now = try clock.now()
        clock.remove()
        func fresh(_ path: String) -> Bool { ((try? FileTimes.mtime(path)).map { now - $0 < lease }) ?? false }
        let claims = leases.filter { fresh(dir.leases + "/" + $0) }
        let workers = records.filter { fresh(dir.workers + "/" + $0) }
        if !claims.isEmpty || !workers.isEmpty {
            throw EncodaError(.workDirectory, "workers are still active in \(dir.root) (\(claims.count) fresh claim(s), \(workers.count) live worker(s)); stop them first (SIGTERM lets them finish their chunk) or use --force")
        }
    }

    public static func size(_ bytes: Int64) -> String {
        bytes >= 1_000_000_000 ? String(format: "%.2f GB", Double(bytes) / 1e9)
            : bytes >= 100_000 ? String(format: "%.1f MB", Double(bytes) / 1e6) : String(format: "%.1f kB", Double(bytes) / 1e3)
    }
}
