import EncodaModel
import EncodaSystem
import Foundation
import Synchronization

/// Pulls chunks from TMP until the job is finished: claim, encode, fence, publish, release.
///
/// Which chunk to claim and what to do with a claim is `ClaimPolicy`'s (pure); attempts and quarantine are the
/// `FailureLedger`'s; the lease renewal and the worker record are the beat of a `Heartbeat` (`Worker+Heartbeat`).
/// What the encoding thread shares with the heartbeat thread and with a signal handler's `abandon` is in `shared`.
public final class Worker: Sendable {
    public let directory: WorkDirectory
    public let manifest: JobManifest
    public let identity: WorkerIdentity
    let encoder: ChunkEncoding
    let options: WorkerOptions
    public let leases: LeaseBook
    let heartbeat: Heartbeat
    /// State of the run that other threads read or change.
    struct Shared {
        /// The chunk being encoded now, if any.
        var current: Int?
        /// Changed with every change of `current`: a heartbeat that renewed a lease during a change is not
        /// mistaken for one whose lease was taken away.
        var claimNumber = 0
        /// The heartbeat found the lease of `current` gone (reported once).
        var lostLease = false
        var encoded: [Int] = []
        var tally = WorkerTally()
    }
    let shared = Mutex(Shared())
    /// Frames of `current` the encoder has put out (reported in the worker record).
    let framesEncoded = FrameCounter()
    /// What the heartbeat thread remembers between beats (only it uses this).
    let pulse = Mutex(Pulse())
    private let logger = Mutex<@Sendable (String) -> Void>({ _ in })

    public init(directory: WorkDirectory, manifest: JobManifest, encoder: ChunkEncoding, identity: WorkerIdentity, options: WorkerOptions) {
        self.directory = directory; self.manifest = manifest; self.encoder = encoder; self.identity = identity; self.options = options
        leases = LeaseBook(directory: directory, jobID: manifest.jobID, me: identity, leaseSeconds: options.farm.leaseSeconds)
        heartbeat = Heartbeat(tick: min(max(0.2, options.farm.heartbeatSeconds), 1))
    }

    /// Where the worker's log lines go (called from the encoding and the heartbeat thread).
    public var log: @Sendable (String) -> Void {
        get { logger.withLock { $0 } }
        set { logger.withLock { $0 = newValue } }
    }

    /// The chunks this worker encoded and published.
    public var encoded: [Int] { shared.withLock { $0.encoded } }
    public var tally: WorkerTally { shared.withLock { $0.tally } }

    /// Ask the worker to finish its current chunk and leave.
    public func drain() { options.drain.request() }
    var isDraining: Bool { options.drain.isRequested }

    /// The chunk being encoded now, if any.
    public var currentChunk: Int? { shared.withLock { $0.current } }

    /// Stop now: give up the current lease (called from a signal handler queue before exiting). The heartbeat is
    /// stopped first and joined, so no record is written after it is removed.
    public func abandon() {
        heartbeat.stop()
        if let c = currentChunk { leases.release(c) }
        try? FileSystem.unlink(workerRecord)
        leases.clock.remove()
    }

    var workerRecord: String { directory.workerRecord(identity.token) }

    private var ledger: FailureLedger { FailureLedger(directory: directory, manifest: manifest) }

    private var journal: ResultJournal { ResultJournal(directory: directory, token: identity.token) }

    private var steps: ClaimSteps {
        ClaimSteps(unit: "chunk", directory: directory, leases: leases, ledger: ledger, journal: journal, identity: identity,
                   count: { [self] k in shared.withLock { $0.tally[keyPath: k] += 1 } }, log: { [self] in log($0) })
    }

    /// Runs until every chunk is done or quarantined (or drained, or idle with `exitWhenIdle`), once per worker.
    /// Returns the chunks this worker encoded and published.
    /// - Parameter following: the results as the caller already follows them (a worker taking one chunk at a time
    ///   keeps one view across its runs, so each claim reads only what is new); grown to this worker's plan.
    public func run(following given: ResultView? = nil) throws -> [Int] {
        try AtomicFile.writeJSON(WorkerRecord(identity: identity, jobID: manifest.jobID), to: workerRecord, staging: directory.staging)
        startHeartbeat()
        defer {
            encoder.releaseKeptState()
            heartbeat.stop()
            if !options.keepsWorkerRecord { try? FileSystem.unlink(workerRecord) }
            leases.clock.remove()
        }
        pruneDebris()
        let policy = ClaimPolicy(order: ChunkPlanner.workOrder(manifest.chunks, costs: options.chunkCosts), costs: options.chunkCosts,
                                 seat: Int(identity.pid.magnitude), maxAttempts: options.farm.maxAttempts)
        // The results as they are published (one listing now, then only the journals' new lines): a claim costs
        // the same at the first chunk and the thousandth.
        let view = given ?? ResultView(directory: directory, manifest: manifest, readsRecords: false)
        if given != nil { view.grow(manifest) }
        var failedHere: Set<Int> = []
        var waiting = false
        var confirmed = false
        var units = 0
        func look() -> ClaimPolicy.Look {
            let state = JobState.scan(directory, manifest: manifest, view: view)
            return ClaimPolicy.Look(published: state.published, quarantined: Set(state.quarantined.keys), leased: state.leased,
                                    failedHere: failedHere, cheapStart: encoder.cheapStart())
        }
        while !isDraining {
            var seen = look()
            var next = policy.next(seen, confirmed: confirmed)
            if next == .lookAgainFresh {
                view.relist()
                confirmed = true
                seen = look()
                next = policy.next(seen, confirmed: true)
            }
            guard case .tryClaims(let candidates) = next else { break }
            confirmed = false
            var claimed: Chunk? = nil
            for c in candidates where !view.published.contains(c.id) {
                if try steps.claim(c, policy: policy, listedLeased: seen.leased.contains(c.id), view: view) {
                    claimed = c
                    break
                }
            }
            guard let chunk = claimed else {
                // Leaving: the deferred release gives the kept state up.
                guard case .wait(let beginning) = ClaimPolicy.idle(exitWhenIdle: options.exitWhenIdle, alreadyWaiting: waiting) else { break }
                if beginning { waiting = true; pruneDebris(); encoder.releaseKeptState(); options.whenIdle?() }
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
            shared.withLock { $0.current = chunk.id; $0.claimNumber += 1; $0.lostLease = false }
            if try !process(chunk) { failedHere.insert(chunk.id) }
            shared.withLock { $0.current = nil; $0.claimNumber += 1 }
            units += 1
            if let most = options.maxUnits, units >= most { break }
        }
        return encoded
    }

    /// Encodes, checks and publishes one claimed chunk. A failure of the chunk is recorded and the loop goes on;
    /// a full TMP (or one that refuses the failure record) is the job's problem, not the chunk's, and is thrown.
    /// Returns false when the chunk failed here.
    private func process(_ chunk: Chunk) throws -> Bool {
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
                try? FileSystem.unlink(path)
                shared.withLock { $0.tally.discarded += 1 }
                log("chunk \(chunk.name): lost the lease while encoding; result discarded")
                return true
            }
            var result = ChunkResult(jobID: manifest.jobID, chunk: chunk.id, file: name, frames: out.frames, bytes: out.bytes,
                                     crc32: out.crc32, worker: identity, startedAt: started, finishedAt: Date().timeIntervalSince1970,
                                     seekSeconds: out.seekSeconds, framesSkipped: out.framesSkipped)
            result.quality = out.quality
            if try AtomicFile.publishJSONExclusive(result, to: directory.result(chunk.id), staging: directory.staging) {
                shared.withLock { $0.encoded.append(chunk.id) }
                // Before the lease is given back, so the next claimant reads it. The record is what counts: a line
                // that cannot be written (TMP full) is only found later (`ResultJournal`).
                do { try journal.append(chunk.id) } catch { log("chunk \(chunk.name): \(error)") }
                log("chunk \(chunk.name): published (\(out.frames) frames, \(out.bytes) bytes, \(String(format: "%.1f", Date().timeIntervalSince1970 - started)) s)")
            } else {
                try? FileSystem.unlink(path)
                shared.withLock { $0.tally.discarded += 1 }
                log("chunk \(chunk.name): another worker published it first; ours discarded")
            }
            giveBack(chunk.id)
            return true
        } catch {
            let message = (error as? EncodaError)?.description ?? "\(error)"
            // Judge the space before the partial chunk file is removed: removing it may free just enough.
            if StorageExhaustion.isExhausted(directory, message: message) {
                try? FileSystem.unlink(path)
                giveBack(chunk.id)
                log("chunk \(chunk.name): stopped: TMP is full (\(message))")
                throw StorageExhaustion.fullError(directory)
            }
            try? FileSystem.unlink(path)
            shared.withLock { $0.tally.failed += 1 }
            log("chunk \(chunk.name): failed: \(message)")
            do {
                try ledger.record(chunk.id, error: message, by: identity, at: (try? leases.clock.now()) ?? Date().timeIntervalSince1970)
            } catch {
                giveBack(chunk.id)
                log("chunk \(chunk.name): cannot record the failure: \(error)")
                throw StorageExhaustion.probeFails(directory) ? StorageExhaustion.fullError(directory) : error
            }
            steps.quarantineIfNeeded(chunk.id)
            giveBack(chunk.id)
            return false
        }
    }

    /// Clears `current` (so the heartbeat no longer renews it), then releases its lease.
    private func giveBack(_ id: Int) {
        shared.withLock { $0.current = nil; $0.claimNumber += 1 }
        leases.release(id)
    }
}
