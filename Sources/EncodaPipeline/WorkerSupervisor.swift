import EncodaJobs
import EncodaModel
import Foundation
import Synchronization

/// Keeps the coordinator's local worker processes running until every chunk is done or quarantined,
/// and feeds one progress view for the whole job (including chunks done by remote workers).
///
/// Signals (SIGINT from the terminal, SIGTERM): the first is forwarded to every local worker as a drain (finish
/// and publish the current chunk, claim nothing new), the progress keeps moving, and once they have left the
/// job is joined if every chunk is done by then, else the coordinator stops with the count of chunks done. The
/// second is forwarded too (the workers release their claims and exit at once); whatever still runs after
/// 1.5 s is killed and its claims released. Remote workers are never signalled: they belong to the farm.
final class WorkerSupervisor {
    let directory: WorkDirectory
    /// The plan; one that streams grows on each poll (`runUntilFinished`'s `grow`).
    private(set) var manifest: JobManifest
    let workers: Int
    let threads: Int
    /// Makes the progress view of one run of the workers.
    private let makeProgress: () -> JobProgressView
    private let pool = LocalWorkerPool()
    private var slots: [Process?] = []
    private var respawns = 0
    /// Each local worker's log, by process id.
    private var logs: [Int32: String] = [:]
    /// Per slot: restarts after a crash in a row, for the back-off before the next one.
    private var crashesInARow: [Int] = []
    private var notBefore: [Date] = []
    private let clock: ServerClock
    /// The results as published: each record is read once, each poll reads only the journals' new lines.
    private let results: ResultView
    private let identity = WorkerIdentity(host: HostName.current, pid: getpid(), token: "coordinator\(getpid())", locality: ProcessLiveness.currentLocality)

    init(directory: WorkDirectory, manifest: JobManifest, workers: Int, threads: Int, progress: @escaping () -> JobProgressView) {
        self.directory = directory; self.manifest = manifest; self.workers = workers; self.threads = threads; self.makeProgress = progress
        clock = ServerClock(directory: directory, owner: "coordinator-\(HostName.current)-\(getpid())")
        results = ResultView(directory: directory, manifest: manifest, readsRecords: true)
    }

    /// The record of chunk `id` was moved aside (it did not match its chunk): the chunk is open again.
    func forget(_ id: Int) { results.forget(id) }

    private func scan() -> JobState { JobState.scan(directory, manifest: manifest, view: results) }

    /// Every chunk of the whole plan is done or quarantined (never while the plan still streams).
    private func finished(_ state: JobState) -> Bool {
        manifest.planStreaming != true && manifest.chunks.allSatisfy { state.isFinished($0.id) }
    }

    deinit { clock.remove() }

    private func spawn(_ slot: Int) throws -> Process {
        // Logs go to TMP/logs (who encoded what). Local workers look for work often: polling a local folder is cheap,
        // and a worker idling a full second at the end of a job is a second on the wall clock.
        let logPath = directory.logs + "/worker-\(HostName.current)-\(getpid())-\(slot)-\(respawns).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
        let p = try pool.spawn(arguments: [directory.root, "--workers", "1", "--threads", String(threads), "--poll-seconds", "0.2", "--no-overrides"], log: log)
        logs[p.processIdentifier] = logPath
        return p
    }

    /// The last error line in worker `p`'s log: found by the log it was given, since a worker that fails before its
    /// first line of work writes only "encoda: error: …", without its pid.
    private func lastLine(_ p: Process) -> String? {
        guard let path = logs[p.processIdentifier], let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").last(where: { $0.contains("error:") || $0.contains("failed:") || $0.contains("stopped:") }).map(String.init)
    }

    /// Returns the final state once every chunk is done or quarantined.
    /// - Parameter stopWhen: polled with the job state; an error it returns stops the job (workers finish their
    ///   current chunk) and is thrown, e.g. the audio preparation beside the video failed.
    /// - Parameter grow: for a plan that streams, polled while it does: the plan with the chunks published since,
    ///   nil when none was.
    func runUntilFinished(grow: () throws -> JobManifest? = { nil }, stopWhen: (JobState) -> Error? = { _ in nil }) throws -> JobState {
        let signals = SignalWatcherFlag()
        let pool = pool
        SignalWatcher.shared.install { n in
            signals.set(n)
            // Forwarded at once, from the signal queue, so no worker claims a chunk after the signal.
            pool.signalAll(SIGTERM)
            if n == 1 { Report.warn("interrupted: workers finish their current chunk, then stop (Ctrl-C again to stop now)") }
            else if n == 2 { Report.warn("stopping now: workers give up their chunks") }
        }
        let startState = scan()
        if signals.value > 0 && CancelMark.isMarked(directory) { throw interrupted(startState) }
        // A finished job (a re-run after the last chunk was published) goes straight to the join.
        if finished(startState) { return startState }
        if signals.value > 0 { throw interrupted(startState) }
        for slot in 0..<workers { slots.append(try spawn(slot)); crashesInARow.append(0); notBefore.append(.distantPast) }
        let progress = makeProgress()
        progress.start(framesAlreadyDone: startState.framesDone(manifest))
        defer { progress.finish() }
        var stopDeadline: Date? = nil
        while true {
            if manifest.planStreaming == true, signals.value == 0 {
                // A plan that cannot go on (INPUT damaged, a segment quarantined) stops the workers now.
                let grown: JobManifest?
                do { grown = try grow() } catch { stopAllNow(); throw error }
                if let grown {
                    manifest = grown
                    results.grow(grown)
                }
            }
            let state = scan()
            let alive = pool.running.count + remoteWorkers()
            progress.update(state: state, workers: alive)
            let sig = signals.value
            // A cancelled job (`CancelMark`) is never joined: a signal stops it however many chunks are done.
            let cancelled = sig > 0 && CancelMark.isMarked(directory)
            if finished(state) && sig < 2 && !cancelled {
                // Nothing is left: idle workers would notice on their next look; ask them to leave now (a worker
                // still encoding can only be redoing a published chunk, so it is not waited for long).
                pool.signalAll(SIGTERM)
                if !pool.waitAll(timeout: 3) { releaseLeases(of: pool.killAll()) }
                return state
            }
            if let reason = stopWhen(state) {
                pool.signalAll(SIGTERM)
                pool.waitAll(timeout: 3600)
                releaseLeases(of: pool.killAll())
                throw reason
            }
            if sig >= 2 {
                let deadline = stopDeadline ?? Date().addingTimeInterval(1.5)
                stopDeadline = deadline
                if pool.running.isEmpty || Date() >= deadline {
                    releaseLeases(of: pool.killAll())
                    throw interrupted(scan())
                }
            } else if sig == 1 {
                if pool.running.isEmpty {
                    // Drained. The count is read now, after the last chunk was published.
                    let final = scan()
                    if finished(final) && !cancelled { return final }
                    throw interrupted(final)
                }
            } else {
                try replaceExitedWorkers()
            }
            _ = pool.exited.wait(timeout: .now() + 0.2)
        }
    }

    private func interrupted(_ state: JobState) -> EncodaError {
        if CancelMark.isMarked(directory) {
            return EncodaError(.interrupted, "cancelled (\(CancelMark.fileName) in TMP) with \(state.done.count) of \(manifest.chunks.count) chunks done; OUTPUT was not written")
        }
        return manifest.planStreaming == true
            ? EncodaError(.interrupted, "stopped while INPUT was analysed; \(state.done.count) of the \(manifest.chunks.count) chunks planned so far are done and kept in TMP, with the analysis measured so far. Re-run the same command to resume")
            : EncodaError(.interrupted, "stopped; \(state.done.count) of \(manifest.chunks.count) chunks are done and kept in TMP. Re-run the same command to resume")
    }

    /// A worker that left although chunks are open is started again; one that crashed has its chunk's attempt
    /// counted (a crash on a chunk is that chunk's failure, a kill is not) and is restarted after a back-off.
    private func replaceExitedWorkers() throws {
        for slot in slots.indices {
            guard let p = slots[slot], !p.isRunning else { continue }
            if p.terminationReason == .exit && p.terminationStatus == 74 {
                let why = lastLine(p)
                stopAllNow()
                if StorageExhaustion.probeFails(directory) || (why.map { $0.contains("is full") } ?? true) {
                    throw StorageExhaustion.fullError(directory)
                }
                throw EncodaError(.workDirectory, "a worker cannot use TMP: \(why ?? "exit status 74")")
            }
            if p.terminationReason == .exit && p.terminationStatus != 0 && p.terminationStatus != 130 {
                let message = lastLine(p) ?? "worker exited with status \(p.terminationStatus)"
                stopAllNow()
                throw EncodaError(.chunkFailed, "a worker stopped: \(message)")
            }
            if p.terminationReason == .uncaughtSignal {
                crashesInARow[slot] += 1
                recordCrash(p)
            } else {
                crashesInARow[slot] = 0
            }
            pool.remove(p)
            slots[slot] = nil
            // A worker leaves when it sees every chunk published: list results/ afresh (a record no journal
            // names yet is found here), so that it is not started again for nothing.
            results.relist()
            let now = scan()
            if finished(now) { continue }
            respawns += 1
            if respawns > 10 * max(1, workers) {
                stopAllNow()
                throw EncodaError(.chunkFailed, "workers keep crashing (\(respawns) restarts); see the logs in \(directory.logs)")
            }
            // 0, 0.5, 1, 2, 4, 8 s after crashes in a row: a crash loop must not become a respawn storm.
            let k = crashesInARow[slot]
            notBefore[slot] = Date().addingTimeInterval(k == 0 ? 0 : min(8, 0.25 * pow(2, Double(k))))
        }
        for slot in slots.indices where slots[slot] == nil && Date() >= notBefore[slot] {
            slots[slot] = try spawn(slot)
        }
    }

    /// A local worker died of a signal. If it was a crash (not a kill), the chunk it held failed: count it, so
    /// that a chunk which crashes the encoder is quarantined after `--max-attempts` instead of looping.
    private func recordCrash(_ p: Process) {
        let sig = p.terminationStatus
        let crash: Set<Int32> = [SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP, SIGSYS]
        guard crash.contains(sig) else { return }
        let ledger = FailureLedger(directory: directory, manifest: manifest)
        for (id, owner) in leases(heldBy: [p.processIdentifier]) {
            let time = (try? clock.now()) ?? Date().timeIntervalSince1970
            try? ledger.record(id, error: "worker pid \(p.processIdentifier) crashed (signal \(sig)) while encoding it", by: owner, at: time)
            ledger.quarantineIfNeeded(id, by: identity, at: time)
            Report.warn("a worker crashed (signal \(sig)) on chunk \(Chunk.name(id)); counted as a failed attempt")
        }
    }

    private func stopAllNow() {
        pool.signalAll(SIGTERM) // the first signal: drain; `stop(now:)` sends the second: stop now
        releaseLeases(of: pool.stop(now: true))
    }

    private var leaseBook: LeaseBook {
        LeaseBook(directory: directory, jobID: manifest.jobID, me: identity, leaseSeconds: manifest.farmSettings.leaseSeconds)
    }

    /// The claims in TMP held by this coordinator's local workers with these process ids (same host and PID namespace).
    private func leases(heldBy pids: Set<Int32>) -> [(chunk: Int, owner: WorkerIdentity)] {
        guard !pids.isEmpty else { return [] }
        let book = leaseBook
        return directory.chunkIDs(in: directory.leases, suffix: ".lock").sorted().compactMap { id in
            guard let o = try? book.readOwner(directory.lease(id)), pids.contains(o.worker.pid), o.worker.host == identity.host,
                  o.worker.locality == identity.locality else { return nil }
            return (id, o.worker)
        }
    }

    /// Removes the claims of local workers that were killed, so neither a re-run nor another host waits out
    /// their lease time.
    private func releaseLeases(of pids: Set<Int32>) {
        let book = leaseBook
        for (id, owner) in leases(heldBy: pids) where ProcessLiveness.isProvablyDead(owner, judgedBy: identity) {
            book.release(id, ifHeldBy: owner)
        }
    }

    /// Workers seen in TMP/workers that are not ours and whose heartbeat is fresh by the file server's clock.
    private func remoteWorkers() -> Int {
        let ours = pool.runningPIDs
        return WorkerRecords.alive(directory, within: manifest.farmSettings.leaseSeconds, clock: clock)
            .filter { !($0.host == HostName.current && ours.contains($0.pid)) }.count
    }
}

/// The last signal count seen, set from the signal queue and read by the polling loop.
final class SignalWatcherFlag: Sendable {
    private let n = Atomic<Int>(0)
    func set(_ v: Int) { n.store(v, ordering: .sequentiallyConsistent) }
    var value: Int { n.load(ordering: .sequentiallyConsistent) }
}
