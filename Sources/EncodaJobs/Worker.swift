import EncodaModel
import Foundation

/// What encoding one chunk produced, as reported by the codec layer.
public struct EncodedChunk: Sendable {
    public var frames: Int
    public var bytes: Int64
    public var crc32: UInt32
    public var seekSeconds: Double
    public var framesSkipped: Int
    /// With `--target-quality`: what the chunk's CRF search chose (goes into its result record).
    public var quality: ChunkQuality? = nil
    public init(frames: Int, bytes: Int64, crc32: UInt32, seekSeconds: Double, framesSkipped: Int) {
        self.frames = frames; self.bytes = bytes; self.crc32 = crc32; self.seekSeconds = seekSeconds; self.framesSkipped = framesSkipped
    }
}

/// The codec side of a worker, injected so the protocol can be tested with a fake encoder.
public protocol ChunkEncoding: Sendable {
    func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk
    /// As `encode(chunk:outputPath:)`, calling `progress` with the number of frames put out so far (cheap, on
    /// the encoding thread; the worker's heartbeat reports it).
    func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk
    /// The first frame of a chunk this encoder could start more cheaply than the others (its decoder already
    /// stands there, and reaching that frame by seeking would mean decoding source frames only to discard them),
    /// or nil.
    func cheapStart() -> Int?
    /// Gives up state kept between chunks (a waiting worker should hold no more memory than it needs).
    func releaseKeptState()
}

extension ChunkEncoding {
    /// An encoder that cannot tell its progress reports none until the chunk is done.
    public func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        try encode(chunk: chunk, outputPath: outputPath)
    }
    public func cheapStart() -> Int? { nil }
    public func releaseKeptState() {}
}

/// A drain request that outlives one `Worker` (a watching worker serves several jobs in turn).
public final class DrainRequest: @unchecked Sendable { // `requested` guarded by `lock`
    private let lock = NSLock()
    private var requested = false
    public init() {}
    /// Requests the drain; `then` runs under the same lock, so nothing `unlessRequested` does can come after it.
    public func request(then: () -> Void = {}) { lock.lock(); requested = true; then(); lock.unlock() }
    /// Runs `body` and returns true unless a drain was requested, atomically with `request`.
    public func unlessRequested(_ body: () -> Void) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if requested { return false }
        body()
        return true
    }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
}

public struct WorkerOptions: Sendable {
    /// Lease time and retry limit; take them from the job's plan (`JobManifest.farmSettings`).
    public var farm = FarmSettings()
    public var pollSeconds: Double = 1
    /// Leave when nothing is claimable now instead of waiting for leases held by others to finish or go stale.
    public var exitWhenIdle = false
    public var drain = DrainRequest()
    /// Relative encode cost of each chunk by id (`ChunkPlanner.estimatedCosts`): chunks are taken most expensive
    /// first. Nil: longest first.
    public var chunkCosts: [Double]? = nil
    /// Called once each time the worker starts waiting for claimable work (to give back memory, say).
    public var whenIdle: (@Sendable () -> Void)? = nil
    public init() {}
}

/// Counts that let tests and logs show what happened to the claims of one worker.
public struct WorkerTally: Sendable, Equatable {
    /// Claims won (fresh or stolen) that led to an encode.
    public var claimed = 0
    /// Claims taken over from a stale lease.
    public var stolen = 0
    /// Exclusive creates that another worker won although the chunk was unclaimed when listed: lost races.
    public var racesLost = 0
    /// Encodes whose result was discarded (lease lost, or another result published first).
    public var discarded = 0
    public var failed = 0
}

/// Pulls chunks from TMP until the job is finished: claim, encode, fence, publish, release.
public final class Worker: @unchecked Sendable { // state shared with the heartbeat thread is guarded by `lock`
    public let directory: WorkDirectory
    public let manifest: JobManifest
    public let identity: WorkerIdentity
    let encoder: ChunkEncoding
    let options: WorkerOptions
    public let leases: LeaseBook
    private let lock = NSLock()
    private var current: Int?
    /// Frames of `current` the encoder has put out (reported in the worker record).
    private let framesEncoded = FrameCounter()
    private var heartbeatRunning = false
    private var lostLease = false
    private var failedHere: Set<Int> = []
    public private(set) var encoded: [Int] = []
    public private(set) var tally = WorkerTally()
    public var log: (String) -> Void = { _ in }

    public init(directory: WorkDirectory, manifest: JobManifest, encoder: ChunkEncoding, identity: WorkerIdentity, options: WorkerOptions) {
        self.directory = directory; self.manifest = manifest; self.encoder = encoder; self.identity = identity; self.options = options
        leases = LeaseBook(directory: directory, jobID: manifest.jobID, me: identity, leaseSeconds: options.farm.leaseSeconds)
    }

    /// Ask the worker to finish its current chunk and leave.
    public func drain() { options.drain.request() }
    var isDraining: Bool { options.drain.isRequested }

    /// The chunk being encoded now, if any.
    public var currentChunk: Int? { lock.lock(); defer { lock.unlock() }; return current }

    /// Stop now: give up the current lease (called from a signal handler queue before exiting).
    public func abandon() {
        lock.lock(); let c = current; heartbeatRunning = false; lock.unlock()
        if let c { leases.release(c) }
        unlink(workerRecord)
        leases.clock.remove()
    }

    private var workerRecord: String { directory.workers + "/\(identity.token).json" }

    /// Runs until every chunk is done or quarantined (or drained, or idle with `exitWhenIdle`).
    /// Returns the chunks this worker encoded and published.
    public func run() throws -> [Int] {
        try AtomicFile.writeJSON(WorkerRecord(identity: identity, jobID: manifest.jobID), to: workerRecord, staging: directory.staging)
        startHeartbeat()
        defer {
            encoder.releaseKeptState()
            stopHeartbeat()
            unlink(workerRecord)
            leases.clock.remove()
        }
        pruneDebris()
        let order = ChunkPlanner.workOrder(manifest.chunks, costs: options.chunkCosts)
        // The results as they are published (one listing now, then only the journals' new lines): a claim costs
        // the same at the first chunk and the thousandth.
        let view = ResultView(directory: directory, manifest: manifest, readsRecords: false)
        var waiting = false
        var confirmed = false
        while !isDraining {
            var state = JobState.scan(directory, manifest: manifest, view: view)
            var open = order.filter { state.isOpen($0.id) }
            if open.isEmpty && !confirmed {
                // Before leaving, one fresh listing: a record moved aside since (it did not check out) is open again.
                view.relist()
                confirmed = true
                state = JobState.scan(directory, manifest: manifest, view: view)
                open = order.filter { state.isOpen($0.id) }
            }
            if open.isEmpty { break }
            confirmed = false
            // Unclaimed chunks first, then claimed ones (their leases may be stale); chunks that already
            // failed here last, so another worker gets to retry them first.
            var free = open.filter { !state.leased.contains($0.id) && !failedHere.contains($0.id) }
            if let next = followOn(free: free, busyElsewhere: state.leased.count) ?? spread(free: free, busyElsewhere: state.leased.count) {
                free.removeAll { $0.id == next.id }
                free.insert(next, at: 0)
            }
            let held = open.filter { state.leased.contains($0.id) && !failedHere.contains($0.id) }
            let retry = open.filter { failedHere.contains($0.id) }
            var claimed: Chunk? = nil
            for c in free + held + retry where !view.published.contains(c.id) {
                let r = try leases.acquire(c.id)
                if r == .heldByOther {
                    if !state.leased.contains(c.id) { tally.racesLost += 1 }
                    continue
                }
                if case .stolen(let prev) = r {
                    // Not a failure of the chunk: its owner was killed, frozen or cut off from the share. Counting
                    // it would let a few kills quarantine a healthy chunk (a crash is counted by whoever saw it).
                    tally.stolen += 1
                    log("chunk \(c.name): took over the stale lease of \(prev.host) pid \(prev.pid)")
                }
                // A result may have appeared since the journals were read: the claim was made on the server, so a
                // fresh look at this one name settles it (`exists` opens results/ first). Then the journals are
                // read again, so that the next candidates are not published ones; a record no journal names (its
                // worker was killed before writing the line) gets its line from here.
                if directory.exists(directory.result(c.id), in: directory.results) {
                    leases.release(c.id)
                    view.refresh()
                    if !view.published.contains(c.id) { try? journal.append(c.id); view.note(c.id) }
                    continue
                }
                if directory.chunkIDs(in: directory.quarantine, suffix: ".json").contains(c.id) {
                    leases.release(c.id); continue
                }
                if ledger.count(c.id) >= options.farm.maxAttempts { quarantineIfNeeded(c.id); leases.release(c.id); continue }
                claimed = c
                tally.claimed += 1
                break
            }
            guard let chunk = claimed else {
                if options.exitWhenIdle { break } // leaving: the deferred release gives the kept state up
                if !waiting { waiting = true; pruneDebris(); encoder.releaseKeptState(); options.whenIdle?() }
                Thread.sleep(forTimeInterval: options.pollSeconds)
                continue
            }
            waiting = false
            // The last look at the drain: a claim made while it was being requested is given back unencoded.
            guard options.drain.unlessRequested({ log("chunk \(chunk.name): encoding frames \(chunk.range)") }) else {
                leases.release(chunk.id)
                break
            }
            framesEncoded.set(0)
            lock.lock(); current = chunk.id; lostLease = false; lock.unlock()
            try process(chunk)
            lock.lock(); current = nil; lock.unlock()
        }
        return encoded
    }

    /// The free chunk this worker takes when it has no follow-on: among the first free chunks in work order, one
    /// per worker that may be choosing at the same moment (estimated as those holding leases, and this one), the
    /// one at this worker's place (its process id), so workers that look at the same moment spread over
    /// different chunks instead of racing for the first (a lost race costs a claim; a claim won after another
    /// worker published the chunk costs an encode's start). Alone, a worker takes the first.
    func spread(free: [Chunk], busyElsewhere: Int) -> Chunk? {
        let width = min(free.count, busyElsewhere + 1)
        guard width > 1 else { return nil }
        return free[Int(identity.pid.magnitude) % width]
    }

    /// The free chunk that starts where the encoder's decoder stands, when taking it ahead of the work order
    /// saves decoding and should not leave this worker busy alone at the end: the other free chunks must hold at
    /// least its cost for each worker that could run beside it (`busyElsewhere` hold leases now; one more may
    /// join). `free` is in work order, so its first chunk is the one the order would take anyway.
    func followOn(free: [Chunk], busyElsewhere: Int) -> Chunk? {
        guard let start = encoder.cheapStart(), let i = free.firstIndex(where: { $0.range.start == start }) else { return nil }
        if i == 0 { return free[0] }
        func cost(_ c: Chunk) -> Double {
            if let costs = options.chunkCosts, c.id >= 0, c.id < costs.count { return costs[c.id] }
            return Double(c.range.count)
        }
        let others = free.enumerated().reduce(0.0) { $0 + ($1.offset == i ? 0 : cost($1.element)) }
        return others >= Double(busyElsewhere + 1) * cost(free[i]) ? free[i] : nil
    }

    /// Encodes, checks and publishes one claimed chunk. A failure of the chunk is recorded and the loop goes on;
    /// a full TMP (or one that refuses the failure record) is the job's problem, not the chunk's, and is thrown.
    private func process(_ chunk: Chunk) throws {
        let name = directory.chunkFileName(chunk.id, token: identity.token)
        let path = directory.chunkFile(named: name)
        let started = Date().timeIntervalSince1970
        do {
            let counter = framesEncoded
            let out = try encoder.encode(chunk: chunk, outputPath: path, progress: { counter.set($0) })
            guard out.frames == chunk.range.count else {
                throw EncodaError(.encoder, "chunk \(chunk.name) produced \(out.frames) frames, expected \(chunk.range.count); it was discarded and will be re-encoded")
            }
            // The chunk file must be on the server's disk before a record vouches for it.
            do { try FileSystem.flush(path: path) } catch {
                throw EncodaError(.workDirectory, error.operation == .open ? "chunk file vanished after encoding" : "cannot flush the chunk file",
                                  error, advice: error.operation == .open ? nil : "check TMP")
            }
            // Fencing: publish only while the lease still names us.
            guard leases.stillHeld(chunk.id) else {
                unlink(path)
                tally.discarded += 1
                log("chunk \(chunk.name): lost the lease while encoding; result discarded")
                return
            }
            var result = ChunkResult(jobID: manifest.jobID, chunk: chunk.id, file: name, frames: out.frames, bytes: out.bytes,
                                     crc32: out.crc32, worker: identity, startedAt: started, finishedAt: Date().timeIntervalSince1970,
                                     seekSeconds: out.seekSeconds, framesSkipped: out.framesSkipped)
            result.quality = out.quality
            if try AtomicFile.publishJSONExclusive(result, to: directory.result(chunk.id), staging: directory.staging) {
                lock.lock(); encoded.append(chunk.id); lock.unlock()
                // Before the lease is given back, so the next claimant reads it. The record is what counts: a line
                // that cannot be written (TMP full) is only found later (`ResultJournal`).
                do { try journal.append(chunk.id) } catch { log("chunk \(chunk.name): \(error)") }
                log("chunk \(chunk.name): published (\(out.frames) frames, \(out.bytes) bytes, \(String(format: "%.1f", Date().timeIntervalSince1970 - started)) s)")
            } else {
                unlink(path)
                tally.discarded += 1
                log("chunk \(chunk.name): another worker published it first; ours discarded")
            }
            giveBack(chunk.id)
        } catch {
            let message = (error as? EncodaError)?.description ?? "\(error)"
            // Judge the space before the partial chunk file is removed: removing it may free just enough.
            if StorageExhaustion.isExhausted(directory, message: message) {
                unlink(path)
                giveBack(chunk.id)
                log("chunk \(chunk.name): stopped: TMP is full (\(message))")
                throw StorageExhaustion.fullError(directory)
            }
            unlink(path)
            tally.failed += 1
            failedHere.insert(chunk.id)
            log("chunk \(chunk.name): failed: \(message)")
            do {
                try ledger.record(chunk.id, error: message, by: identity, at: (try? leases.clock.now()) ?? Date().timeIntervalSince1970)
            } catch {
                giveBack(chunk.id)
                log("chunk \(chunk.name): cannot record the failure: \(error)")
                throw StorageExhaustion.probeFails(directory) ? StorageExhaustion.fullError(directory) : error
            }
            quarantineIfNeeded(chunk.id)
            giveBack(chunk.id)
        }
    }

    /// Stops the heartbeat for `id`, then releases its lease.
    private func giveBack(_ id: Int) {
        lock.lock(); current = nil; lock.unlock()
        leases.release(id)
    }

    private var journal: ResultJournal { ResultJournal(directory: directory, token: identity.token) }

    private var ledger: FailureLedger { FailureLedger(directory: directory, manifest: manifest) }

    private func quarantineIfNeeded(_ id: Int) {
        if ledger.quarantineIfNeeded(id, by: identity, at: (try? leases.clock.now()) ?? Date().timeIntervalSince1970) {
            log("chunk \(Chunk.name(id)): quarantined after \(ledger.count(id)) failed attempts")
        }
    }

    // MARK: heartbeat

    /// The heartbeat thread: renews the lease of the chunk being encoded every `heartbeatSeconds`, and rewrites
    /// the worker record (its mtime is the worker's heartbeat) as often, or every second while the frames
    /// encoded so far change, so progress moves within a chunk.
    private func startHeartbeat() {
        lock.lock(); heartbeatRunning = true; lock.unlock()
        let interval = max(0.2, options.farm.heartbeatSeconds)
        let tick = min(interval, 1)
        // The first pass happens before any claim, so a renewal is never due right after a claim was made.
        let firstPass = DispatchSemaphore(value: 0)
        let t = Thread { [self] in
            var firstPassDone = false
            var lastRenewal = Date.distantPast
            var lastRecord = Date.distantPast
            var written: WorkerRecord? = nil
            while true {
                let now = Date()
                let renewDue = now.timeIntervalSince(lastRenewal) >= interval
                // Check and renew under the lock: the encode loop clears `current` (under the same lock) before it
                // releases a lease, so a lease given up on purpose is never mistaken for one taken away.
                lock.lock()
                let running = heartbeatRunning
                var lostChunk: Int? = nil
                if running, renewDue, let c = current, !lostLease, !leases.stillHeld(c) || !leases.renew(c) {
                    lostLease = true
                    lostChunk = c
                }
                if renewDue { lastRenewal = now }
                // The record is written under the lock too, so none is written after `stopHeartbeat` or `abandon`
                // (which remove it) have taken the lock.
                if running {
                    let c = current
                    let record = WorkerRecord(identity: identity, jobID: manifest.jobID, chunk: c,
                                              chunkFrames: c.map { manifest.chunks[$0].range.count },
                                              framesEncoded: c.map { _ in framesEncoded.value })
                    if record != written || now.timeIntervalSince(lastRecord) >= interval {
                        lastRecord = now
                        do {
                            try AtomicFile.writeJSON(record, to: workerRecord, staging: directory.staging)
                            written = record
                        } catch {
                            _ = FileTimes.touch(workerRecord) // TMP full: keep the heartbeat, with the older content
                        }
                    }
                }
                lock.unlock()
                if !firstPassDone { firstPassDone = true; firstPass.signal() }
                if !running { break }
                if let c = lostChunk {
                    log("chunk \(Chunk.name(c)): the lease is no longer ours (taken over as stale); the result will be discarded")
                }
                Thread.sleep(forTimeInterval: tick)
            }
        }
        t.start()
        firstPass.wait()
    }

    private func stopHeartbeat() { lock.lock(); heartbeatRunning = false; lock.unlock() }
}
