import EncodaJobs
import EncodaModel
import Foundation

/// Keeps the coordinator's local worker processes running until every chunk is done or quarantined,
/// and shows one progress line for the whole job (including chunks done by remote workers).
final class WorkerSupervisor {
    let directory: WorkDirectory
    let manifest: JobManifest
    let workers: Int
    let threads: Int
    let quiet: Bool
    private var processes: [Process] = []
    private var respawns = 0
    private let clock: ServerClock
    /// Signalled when a local worker exits, so that the job's end (the last worker leaves once nothing is left)
    /// is noticed at once rather than at the next poll.
    private let workerExited = DispatchSemaphore(value: 0)

    init(directory: WorkDirectory, manifest: JobManifest, workers: Int, threads: Int, quiet: Bool) {
        self.directory = directory; self.manifest = manifest; self.workers = workers; self.threads = threads; self.quiet = quiet
        clock = ServerClock(directory: directory, owner: "coordinator-\(HostName.current)-\(getpid())")
    }

    deinit { clock.remove() }

    private func spawn(_ slot: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SelfExecutable.path)
        // Logs go to TMP/logs (who encoded what). Local workers look for work often: polling a local folder is cheap,
        // and a worker idling a full second at the end of a job is a second on the wall clock.
        p.arguments = ["worker", directory.root, "--threads", String(threads), "--poll-seconds", "0.2"]
        let logPath = directory.logs + "/worker-\(HostName.current)-\(getpid())-\(slot)-\(respawns).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        let exited = workerExited
        p.terminationHandler = { _ in exited.signal() }
        do { try p.run() } catch {
            throw EncodaError(.internalError, "cannot start a worker process (\(SelfExecutable.path)): \(error)")
        }
        return p
    }

    private func lastLine(_ p: Process) -> String {
        let logs = directory.list(directory.logs).filter { $0.hasPrefix("worker-\(HostName.current)-\(getpid())-") }
        for name in logs {
            guard let text = try? String(contentsOfFile: directory.logs + "/" + name, encoding: .utf8) else { continue }
            if let line = text.split(separator: "\n").last(where: { $0.contains("error:") }) { return String(line) }
        }
        return "worker exited with status \(p.terminationStatus)"
    }

    /// Returns the final state once every chunk is done or quarantined.
    /// - Parameter stopWhen: polled with the job state; an error it returns stops the job (workers finish their
    ///   current chunk) and is thrown, e.g. the audio preparation beside the video failed.
    func runUntilFinished(stopWhen: () -> Error? = { nil }) throws -> JobState {
        let interrupted = SignalWatcherFlag()
        SignalWatcher.shared.install { n in
            interrupted.set(n)
            if n == 1 { Diagnostics.note("interrupted: workers finish their current chunk, then stop (Ctrl-C again to stop now)") }
        }
        let startState = JobState.scan(directory, manifest: manifest)
        // A finished job (a re-run after the last chunk was published) goes straight to the join.
        if manifest.chunks.allSatisfy({ startState.isFinished($0.id) }) { return startState }
        for slot in 0..<workers { processes.append(try spawn(slot)) }
        let progress = ProgressLine(directory: directory, manifest: manifest, quiet: quiet)
        progress.start(framesAlreadyDone: startState.framesDone(manifest))
        defer { progress.finish() }
        while true {
            let state = JobState.scan(directory, manifest: manifest)
            let alive = processes.filter(\.isRunning).count + remoteWorkers()
            progress.update(state: state, workers: alive)
            if manifest.chunks.allSatisfy({ state.isFinished($0.id) }) {
                // Nothing is left: idle workers would notice on their next look; ask them to leave now (a worker
                // still encoding can only be redoing a published chunk, so it is not waited for long).
                for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
                waitForWorkers(timeout: 3)
                return state
            }
            if let reason = stopWhen() {
                for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
                waitForWorkers(timeout: 3600)
                throw reason
            }
            if interrupted.value > 0 {
                waitForWorkers(timeout: interrupted.value > 1 ? 2 : 3600)
                throw EncodaError(.interrupted, "stopped; \(state.done.count) of \(manifest.chunks.count) chunks are done and kept in TMP. Re-run the same command to resume")
            }
            for (i, p) in processes.enumerated() where !p.isRunning {
                if p.terminationReason == .exit && p.terminationStatus != 0 && p.terminationStatus != 130 {
                    let message = lastLine(p)
                    terminateAll()
                    throw EncodaError(.chunkFailed, "a worker stopped: \(message)")
                }
                let now = JobState.scan(directory, manifest: manifest)
                if manifest.chunks.allSatisfy({ now.isFinished($0.id) }) { continue }
                respawns += 1
                if respawns > 10 * max(1, workers) {
                    terminateAll()
                    throw EncodaError(.chunkFailed, "workers keep crashing (\(respawns) restarts); see the logs in \(directory.logs)")
                }
                processes[i] = try spawn(i)
            }
            _ = workerExited.wait(timeout: .now() + 0.2)
        }
    }

    /// Workers seen in TMP/workers that are not ours and whose heartbeat is fresh by the file server's clock.
    private func remoteWorkers() -> Int {
        let ours = Set(processes.filter(\.isRunning).map { $0.processIdentifier })
        return WorkerRecords.alive(directory, within: manifest.farmSettings.leaseSeconds, clock: clock)
            .filter { !($0.host == HostName.current && ours.contains($0.pid)) }.count
    }

    private func waitForWorkers(timeout: Double = 30) {
        let deadline = Date().addingTimeInterval(timeout)
        while processes.contains(where: \.isRunning) && Date() < deadline { _ = workerExited.wait(timeout: .now() + 0.2) }
        terminateAll()
    }

    private func terminateAll() {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in processes { p.waitUntilExit() }
    }
}

final class SignalWatcherFlag: @unchecked Sendable { // guarded by lock
    private let lock = NSLock()
    private var n = 0
    func set(_ v: Int) { lock.lock(); n = v; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
