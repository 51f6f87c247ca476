import EncodaModel
import EncodaSystem
import Foundation
import Synchronization

/// Pulls analysis segments from TMP/analysis until every one is published or quarantined: claim, analyse, fence,
/// publish, release. The same protocol as `Worker`'s for chunks, through the same code: leases (`LeaseBook`, renewed
/// by a `Heartbeat`, stale ones taken over by the server's clock), the choice of what to claim (`ClaimPolicy`, the
/// segments in frame order so the analysed prefix grows), attempts and quarantine (`FailureLedger`), records
/// published first-writer-wins and announced in a journal (`ResultJournal`, followed by a `SegmentView`), debris
/// (`Debris`) — all rooted at TMP/analysis (`WorkDirectory.analysis`).
///
/// A worker runs it before its chunk loop while analysis.json has segments left: analysis comes first, as the plan
/// (job.json) is made from it.
public final class SegmentWorker: Sendable {
    /// TMP, and TMP/analysis where the segments' protocol lives.
    public let directory: WorkDirectory
    public let analysis: WorkDirectory
    public let manifest: AnalysisManifest
    public let identity: WorkerIdentity
    let analyser: SegmentAnalysing
    let options: WorkerOptions
    public let leases: LeaseBook
    let heartbeat: Heartbeat
    struct Shared {
        var current: Int?
        /// Changed with every change of `current` (see `Worker.Shared.claimNumber`).
        var claimNumber = 0
        var lostLease = false
        var analysed: [Int] = []
        var tally = WorkerTally()
    }
    let shared = Mutex(Shared())
    let pulse = Mutex(Pulse())
    private let logger = Mutex<@Sendable (String) -> Void>({ _ in })

    /// `options.farm` should be `manifest.farmSettings`.
    public init(directory: WorkDirectory, manifest: AnalysisManifest, analyser: SegmentAnalysing, identity: WorkerIdentity,
                options: WorkerOptions) {
        self.directory = directory; self.manifest = manifest; self.analyser = analyser; self.identity = identity; self.options = options
        analysis = directory.analysis
        leases = LeaseBook(directory: analysis, jobID: manifest.jobID, me: identity, leaseSeconds: options.farm.leaseSeconds)
        heartbeat = Heartbeat(tick: min(max(0.2, options.farm.heartbeatSeconds), 1))
    }

    public var log: @Sendable (String) -> Void {
        get { logger.withLock { $0 } }
        set { logger.withLock { $0 = newValue } }
    }

    /// The segments this worker analysed and published.
    public var analysed: [Int] { shared.withLock { $0.analysed } }
    public var tally: WorkerTally { shared.withLock { $0.tally } }
    /// The segment being analysed now, if any.
    public var currentSegment: Int? { shared.withLock { $0.current } }

    /// Ask the worker to finish its current segment and leave.
    public func drain() { options.drain.request() }

    /// Stop now: give up the current lease (from a signal handler, before exiting); the heartbeat is joined first.
    public func abandon() {
        heartbeat.stop()
        if let s = currentSegment { leases.release(s) }
        unlink(workerRecord)
        leases.clock.remove()
    }

    var workerRecord: String { directory.workerRecord(identity.token) }
    private var ledger: FailureLedger {
        FailureLedger(directory: analysis, jobID: manifest.jobID, maxAttempts: options.farm.maxAttempts, units: manifest.segments.count)
    }
    private var journal: ResultJournal { ResultJournal(directory: analysis, token: identity.token) }

    private var steps: ClaimSteps {
        ClaimSteps(unit: "segment", directory: analysis, leases: leases, ledger: ledger, journal: journal, identity: identity,
                   count: { [self] k in shared.withLock { $0.tally[keyPath: k] += 1 } }, log: { [self] in log($0) })
    }

    /// Runs until every segment is published or quarantined (or drained, or idle with `exitWhenIdle`), or until
    /// `stopWaiting`, asked after each segment and when idle, says there is other work (job.json has appeared: a plan
    /// that streams is written while segments are open, and its worker chooses between them and chunks). Returns the
    /// segments this worker published. `following`: the records as the caller already follows them (kept across
    /// runs that take one segment each).
    @discardableResult
    public func run(stopWaiting: @escaping @Sendable () -> Bool = { false }, following given: SegmentView? = nil) throws -> [Int] {
        try directory.prepare()
        try directory.prepareAnalysis()
        try AtomicFile.writeJSON(WorkerRecord(identity: identity, jobID: manifest.jobID), to: workerRecord, staging: directory.staging)
        startHeartbeat()
        defer {
            heartbeat.stop()
            if !options.keepsWorkerRecord { unlink(workerRecord) }
            leases.clock.remove()
        }
        pruneDebris()
        let order = manifest.segments.map { Chunk(id: $0.segment.id, range: $0.segment.frames, shotStarts: [$0.segment.frames.start]) }
        let policy = ClaimPolicy(order: order, costs: nil, seat: Int(identity.pid.magnitude), maxAttempts: options.farm.maxAttempts)
        let view = given ?? SegmentView(analysis: analysis, segments: manifest.segments.count)
        var failedHere: Set<Int> = []
        var waiting = false
        var confirmed = false
        var units = 0
        func look() -> ClaimPolicy.Look {
            view.refresh()
            let leased = Set(analysis.list(analysis.leases).compactMap(OwnNames.leaseID))
            let quarantined = analysis.chunkIDs(in: analysis.quarantine, suffix: ".json")
            return ClaimPolicy.Look(published: view.published, quarantined: quarantined, leased: leased, failedHere: failedHere)
        }
        while !options.drain.isRequested {
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
            var claimed: AnalysisManifest.Entry? = nil
            for c in candidates where !view.published.contains(c.id) {
                if try steps.claim(c, policy: policy, listedLeased: seen.leased.contains(c.id), view: view) {
                    claimed = manifest.segments[c.id]
                    break
                }
            }
            guard let entry = claimed else {
                if stopWaiting() { break }
                guard case .wait(let beginning) = ClaimPolicy.idle(exitWhenIdle: options.exitWhenIdle, alreadyWaiting: waiting) else { break }
                if beginning { waiting = true; pruneDebris() }
                Thread.sleep(forTimeInterval: options.pollSeconds)
                continue
            }
            waiting = false
            let segment = entry.segment
            guard options.drain.unlessRequested({ log("segment \(segment.name): analysing frames \(segment.frames)") }) else {
                leases.release(segment.id)
                break
            }
            shared.withLock { $0.current = segment.id; $0.claimNumber += 1; $0.lostLease = false }
            if try !process(entry, view: view) { failedHere.insert(segment.id) }
            shared.withLock { $0.current = nil; $0.claimNumber += 1 }
            units += 1
            if let most = options.maxUnits, units >= most { break }
            if stopWaiting() { break }
        }
        return analysed
    }

    /// Analyses, checks and publishes one claimed segment. A failure of the segment is recorded and the loop goes
    /// on; a full TMP is the job's problem and is thrown. Returns false when the segment failed here.
    private func process(_ entry: AnalysisManifest.Entry, view: SegmentView) throws -> Bool {
        let segment = entry.segment
        let started = Date().timeIntervalSince1970
        do {
            let measured = try analyser.analyse(entry)
            let record = SegmentRecord(segment: segment, measurements: measured, worker: identity.token, host: identity.host,
                                       startedAt: started, finishedAt: Date().timeIntervalSince1970)
            guard manifest.accepts(record, for: segment.id) else {
                throw EncodaError(.internalError, "segment \(segment.name): the analysis measured frames \(measured.frames) with \(measured.changes.count) changes, \(measured.pts.count) timestamps and \(measured.durations.count) durations, expected one each for frames \(segment.frames); it was discarded and will be analysed again")
            }
            // Fencing: publish only while the lease still names us.
            guard leases.stillHeld(segment.id) else {
                shared.withLock { $0.tally.discarded += 1 }
                log("segment \(segment.name): lost the lease while analysing; measurements discarded")
                return true
            }
            if try AtomicFile.publishJSONExclusive(record, to: analysis.result(segment.id), staging: analysis.staging) {
                shared.withLock { $0.analysed.append(segment.id) }
                view.note(segment.id)
                do { try journal.append(segment.id) } catch { log("segment \(segment.name): \(error)") }
                log("segment \(segment.name): published (\(segment.frames.count) frames, \(String(format: "%.1f", record.finishedAt - started)) s)")
            } else {
                shared.withLock { $0.tally.discarded += 1 }
                log("segment \(segment.name): another worker published it first; ours discarded")
            }
            giveBack(segment.id)
            return true
        } catch {
            let message = (error as? EncodaError)?.description ?? "\(error)"
            if StorageExhaustion.isExhausted(directory, message: message) {
                giveBack(segment.id)
                log("segment \(segment.name): stopped: TMP is full (\(message))")
                throw StorageExhaustion.fullError(directory)
            }
            shared.withLock { $0.tally.failed += 1 }
            log("segment \(segment.name): failed: \(message)")
            do {
                try ledger.record(segment.id, error: message, by: identity, at: (try? leases.clock.now()) ?? Date().timeIntervalSince1970)
            } catch {
                giveBack(segment.id)
                log("segment \(segment.name): cannot record the failure: \(error)")
                throw StorageExhaustion.probeFails(directory) ? StorageExhaustion.fullError(directory) : error
            }
            steps.quarantineIfNeeded(segment.id)
            giveBack(segment.id)
            return false
        }
    }

    private func giveBack(_ id: Int) {
        shared.withLock { $0.current = nil; $0.claimNumber += 1 }
        leases.release(id)
    }

    private func pruneDebris() {
        let t = Debris(directory: analysis, leaseSeconds: options.farm.leaseSeconds, judge: identity, clock: leases.clock).prune()
        if t.files > 0 { log("removed debris of earlier analysis workers: \(t.summary)") }
    }

    // MARK: heartbeat

    /// Renews the lease of the segment being analysed every `heartbeatSeconds` and keeps the worker record
    /// (TMP/workers/T.json, its mtime the worker's heartbeat) fresh, as `Worker`'s heartbeat does.
    private func startHeartbeat() {
        let interval = max(0.2, options.farm.heartbeatSeconds)
        heartbeat.start { [self] in beat(interval: interval) }
    }

    private func beat(interval: Double) {
        let now = Date()
        let memory = pulse.withLock { $0 }
        let renewDue = now.timeIntervalSince(memory.lastRenewal) >= interval
        let (segment, claimNumber, lost) = shared.withLock { ($0.current, $0.claimNumber, $0.lostLease) }
        if renewDue, let s = segment, !lost, !leases.stillHeld(s) || !leases.renew(s) {
            let report = shared.withLock { st -> Bool in
                guard st.claimNumber == claimNumber, !st.lostLease else { return false }
                st.lostLease = true
                return true
            }
            if report { log("segment \(Chunk.name(s)): the lease is no longer ours (taken over as stale); the measurements will be discarded") }
        }
        var lastRecord = memory.lastRecord
        if renewDue {
            lastRecord = now
            if (try? AtomicFile.writeJSON(WorkerRecord(identity: identity, jobID: manifest.jobID), to: workerRecord, staging: directory.staging)) == nil {
                _ = FileTimes.touch(workerRecord)
            }
        }
        pulse.withLock { $0 = Pulse(lastRenewal: renewDue ? now : memory.lastRenewal, lastRecord: lastRecord, written: nil) }
    }
}
