import EncodaModel
import EncodaSystem
import Foundation

/// Removes, while a job runs, what killed or crashed processes left in TMP: chunk files nobody will publish,
/// temps in staging/, lease files moved aside by stealers or releasers that died before putting them back,
/// stale leases of chunks that are already published, and records (workers/) and clock probes (clock/) of
/// workers that are gone.
///
/// TMP may be shared by many hosts over NFS, so nothing a live worker might still use is removed. A file is
/// judged by its owner's liveness, as the lease protocol judges it: a worker is alive while its record in
/// workers/ or its lease has a heartbeat younger than the lease time by the file server's clock (`ServerClock`),
/// unless it is provably dead (same machine, its process gone: `ProcessLiveness`). Files whose owner cannot be
/// told from their name are judged by their own age on the server's clock. A published chunk file (the one its
/// result record names) is never touched.
public struct Debris: Sendable {
    public let directory: WorkDirectory
    public let leaseSeconds: Double
    /// Who prunes: its own files are never pruned, and it judges same-machine liveness.
    public let judge: WorkerIdentity
    public let clock: ServerClock

    public init(directory: WorkDirectory, leaseSeconds: Double, judge: WorkerIdentity, clock: ServerClock) {
        self.directory = directory; self.leaseSeconds = leaseSeconds; self.judge = judge; self.clock = clock
    }

    /// What one pruning pass removed.
    public struct Tally: Sendable, Equatable {
        public var orphanChunks = 0
        public var stagingTemps = 0
        public var leaseAsides = 0
        public var publishedLeases = 0
        public var workerRecords = 0
        public var clockProbes = 0
        public var bytes: Int64 = 0
        public init() {}
        public var files: Int { orphanChunks + stagingTemps + leaseAsides + publishedLeases + workerRecords + clockProbes }
        public var summary: String {
            var parts: [String] = []
            if orphanChunks > 0 { parts.append("\(orphanChunks) orphan chunk file(s)") }
            if stagingTemps > 0 { parts.append("\(stagingTemps) stale temp(s) in staging") }
            if leaseAsides > 0 { parts.append("\(leaseAsides) lease(s) left aside") }
            if publishedLeases > 0 { parts.append("\(publishedLeases) stale lease(s) of published chunks") }
            if workerRecords > 0 { parts.append("\(workerRecords) record(s) of gone workers") }
            if clockProbes > 0 { parts.append("\(clockProbes) old clock probe(s)") }
            return parts.joined(separator: ", ") + String(format: "; %.1f MB", Double(bytes) / 1e6)
        }
    }

    /// One pass over TMP. Does nothing when the server's clock cannot be read (nothing can be judged then).
    @discardableResult
    public func prune() -> Tally {
        var t = Tally()
        guard let now = try? clock.now() else { return t }
        func isOld(_ time: Double?) -> Bool { time.map { now - $0 > leaseSeconds } ?? false }

        // Workers: alive by a fresh record, gone by a stale one or a provably dead process.
        var live = Set<String>()
        var dead = Set<String>()
        for name in directory.list(directory.workers) where OwnNames.isOwn(name, in: "workers") {
            let token = String(name.dropLast(5))
            let path = directory.workers + "/" + name
            guard let m = try? FileTimes.mtime(path) else { continue } // gone meanwhile
            let who = try? JSONCoding.read(WorkerIdentity.self, from: path, what: "worker record")
            if let who, ProcessLiveness.isProvablyDead(who, judgedBy: judge) {
                dead.insert(token)
            } else if !isOld(m) {
                live.insert(token)
                continue
            }
            if token != judge.token, remove(path, &t.bytes) { t.workerRecords += 1 }
        }

        // Leases: a fresh one keeps its owner alive; a stale one of a published chunk is garbage.
        let published = directory.chunkIDs(in: directory.results, suffix: ".json")
        var asides: [(name: String, token: String)] = []
        for name in directory.list(directory.leases) {
            if let a = OwnNames.asideName(name) { asides.append((name, a.token)); continue }
            guard let id = OwnNames.leaseID(name) else { continue }
            let path = directory.leases + "/" + name
            let owner = try? JSONCoding.read(LeaseOwner.self, from: path, what: "lease")
            let ownerDead = owner.map { ProcessLiveness.isProvablyDead($0.worker, judgedBy: judge) } ?? false
            let stale = isOld(try? FileTimes.mtime(path)) || ownerDead
            if !stale { if let owner { live.insert(owner.worker.token) }; continue } // torn but fresh: being written now
            if let owner, ownerDead { dead.insert(owner.worker.token) }
            if published.contains(id), removeStaleLease(id, path: path, owner: owner?.worker, ownerDead: ownerDead, now: now, &t.bytes) {
                t.publishedLeases += 1
            }
        }
        // Aside names live for a moment inside a steal or a release; one whose worker is gone and that was moved
        // aside (its ctime) longer than a lease time ago, or whose worker is provably dead, is left over.
        for a in asides where a.token != judge.token && !live.contains(a.token) {
            let path = directory.leases + "/" + a.name
            if dead.contains(a.token) || isOld(Self.ctime(path)), remove(path, &t.bytes) { t.leaseAsides += 1 }
        }

        // Chunk files: the published one stays; another worker's is garbage once that worker is gone. A published
        // chunk with a single file needs no look at its record (that file is the one it names, or the record is
        // invalid and the next scan sets it aside, after which the file counts as unpublished).
        let files = directory.list(directory.chunks).compactMap { n in OwnNames.chunkFile(n).map { (name: n, chunk: $0.chunk, token: $0.token) } }
        var filesPerChunk: [Int: Int] = [:]
        for f in files { filesPerChunk[f.chunk, default: 0] += 1 }
        var records: [Int: String?] = [:]
        for c in files where c.token != judge.token && !live.contains(c.token) {
            let name = c.name
            let path = directory.chunks + "/" + name
            if published.contains(c.chunk) {
                if filesPerChunk[c.chunk] == 1 { continue }
                if records[c.chunk] == nil {
                    records[c.chunk] = .some((try? JSONCoding.read(ChunkResult.self, from: directory.result(c.chunk), what: "result record"))?.file)
                }
                // The published file, or a record that cannot be read now (judged on a later pass): kept.
                guard let named = records[c.chunk] ?? nil, named != name else { continue }
            } else if !dead.contains(c.token) && !isOld(try? FileTimes.mtime(path)) {
                continue
            }
            if remove(path, &t.bytes) { t.orphanChunks += 1 }
        }

        // Temps and probes live for a moment (a write, a clock reading): old ones were left by a killed process.
        for name in directory.list(directory.staging) where OwnNames.isOwn(name, in: "staging") {
            let path = directory.staging + "/" + name
            if isOld(try? FileTimes.mtime(path)), remove(path, &t.bytes) { t.stagingTemps += 1 }
        }
        for name in directory.list(directory.clock) where OwnNames.isOwn(name, in: "clock") {
            let path = directory.clock + "/" + name
            if path != clock.probe, isOld(try? FileTimes.mtime(path)), remove(path, &t.bytes) { t.clockProbes += 1 }
        }
        return t
    }

    /// Workers other than the judge whose record in workers/ has a fresh heartbeat by the server's clock and that are
    /// not provably dead: they may still be inside their work loop, reading TMP.
    public func liveWorkers() -> Int {
        guard let now = try? clock.now() else { return 0 }
        var n = 0
        for name in directory.list(directory.workers) where OwnNames.isOwn(name, in: "workers") && name != judge.token + ".json" {
            let path = directory.workers + "/" + name
            guard let m = try? FileTimes.mtime(path), now - m <= leaseSeconds else { continue }
            if let who = try? JSONCoding.read(WorkerIdentity.self, from: path, what: "worker record"),
               ProcessLiveness.isProvablyDead(who, judgedBy: judge) { continue }
            n += 1
        }
        return n
    }

    /// Removes the stale lease of a published chunk as a stealer would take it: move it aside to a name only the
    /// judge uses, check that what was moved is still the stale lease that was judged, and put it back otherwise.
    private func removeStaleLease(_ id: Int, path: String, owner: WorkerIdentity?, ownerDead: Bool, now: Double, _ bytes: inout Int64) -> Bool {
        let aside = directory.leases + "/\(Chunk.name(id)).stale-\(judge.token)"
        guard (try? FileSystem.rename(path, to: aside)) != nil else { return false }
        let moved = try? JSONCoding.read(LeaseOwner.self, from: aside, what: "lease")
        let stillStale = ownerDead
            ? moved.map { ProcessLiveness.isProvablyDead($0.worker, judgedBy: judge) } ?? false
            : ((try? FileTimes.mtime(aside)).map { now - $0 > leaseSeconds } ?? true)
        if moved?.worker != owner || !stillStale {
            _ = try? FileSystem.linkUnlessTaken(aside, to: path) // renewed or replaced since it was judged: put it back
            try? FileSystem.unlink(aside)
            return false
        }
        return remove(aside, &bytes)
    }

    private func remove(_ path: String, _ bytes: inout Int64) -> Bool {
        guard let st = try? FileSystem.unlinkEntry(path, if: { !$0.isFolder }) else { return false }
        bytes += Int64(st.st_size)
        return true
    }

    /// The status-change time: when a file was last renamed, as the server reports it.
    static func ctime(_ path: String) -> Double? {
        guard let st = try? FileSystem.stat(path, followLink: false) else { return nil }
        return Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9
    }
}

extension Worker {
    /// Prunes TMP's debris (see `Debris`); called rarely: when the worker starts and when it begins to wait.
    func pruneDebris() {
        let t = Debris(directory: directory, leaseSeconds: options.farm.leaseSeconds, judge: identity, clock: leases.clock).prune()
        if t.files > 0 { log("removed debris of earlier workers: \(t.summary)") }
    }
}
