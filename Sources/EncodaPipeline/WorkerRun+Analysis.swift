import EncodaJobs
import EncodaModel
import Foundation

extension WorkerRun {
    /// Waits for job.json, as a worker started before the plan does; while analysis.json has segments left, it
    /// analyses them first (`SegmentWorker`): the plan is made from them. A worker that joins while the analysis runs
    /// so takes analysis work at once. Returns false if asked to leave (or, with `exitWhenIdle`, when there is no
    /// job.json once its part of the analysis is done).
    func waitForJobAnalysing(_ dir: WorkDirectory, log: WorkerLog, drain: DrainRequest, current: CurrentWorker, threads: Int) throws -> Bool {
        var analysed: String? = nil // the analysis whose open segments this worker has gone through
        return try waitInTMP(dir, log: log, drain: drain) { names in
            if names.contains("job.json") { return .ready }
            if names.contains("analysis.json"), let m = try dir.readAnalysisManifest(), m.jobID != analysed {
                try analyse(m, dir, log: log, drain: drain, current: current, threads: threads)
                analysed = m.jobID
                return .worked
            }
            return .nothing
        }
    }

    /// Waits for job.json or analysis.json (a pool's processes analyse or encode, whichever comes first). Returns false
    /// if asked to leave, or with `exitWhenIdle` when there is neither.
    func waitForJobOrAnalysis(_ dir: WorkDirectory, log: WorkerLog, drain: DrainRequest) -> Bool {
        waitInTMP(dir, log: log, drain: drain) { $0.contains("job.json") || $0.contains("analysis.json") ? .ready : .nothing }
    }

    /// What one look at TMP found, for `waitInTMP`.
    enum Look { case ready, worked, nothing }

    /// Looks at TMP's names until `look` finds what the worker waits for (true), or the worker is asked to leave, or,
    /// with `exitWhenIdle`, a look finds nothing to do (false). Says once that it waits, and looks again at once after
    /// a look that did some work.
    func waitInTMP(_ dir: WorkDirectory, log: WorkerLog, drain: DrainRequest, _ look: ([String]) throws -> Look) rethrows -> Bool {
        var said = false
        while !drain.isRequested {
            switch try look(dir.list(dir.root)) {
            case .ready: return true
            case .worked: continue
            case .nothing: break
            }
            if exitWhenIdle {
                log.line("nothing to do: no job in \(dir.root) (no job.json: not planned yet, or finished and cleaned up); leaving")
                return false
            }
            if !said { log.line("waiting for a job in \(dir.root) (no job.json yet; start one with `encoda INPUT OUTPUT \(dir.root)`)"); said = true }
            Thread.sleep(forTimeInterval: min(max(pollSeconds, 0.2), 2))
        }
        return false
    }

    /// Analyses the open segments of `manifest` until none is left or job.json appears.
    private func analyse(_ manifest: AnalysisManifest, _ dir: WorkDirectory, log: WorkerLog, drain: DrainRequest, current: CurrentWorker,
                         threads: Int) throws {
        let inputPath = try JobContext.resolveInput(manifest.input, jobID: manifest.jobID, dir, input: input, inputRoot: inputRoot)
        let identity = WorkerIdentity(host: HostName.current, pid: getpid(), token: Token.make(), locality: ProcessLiveness.currentLocality,
                                      task: SchedulerTask.current)
        var options = WorkerOptions()
        options.farm = manifest.farmSettings
        options.exitWhenIdle = exitWhenIdle
        options.pollSeconds = pollSeconds
        options.drain = drain
        let worker = SegmentWorker(directory: dir, manifest: manifest, analyser: MediaSegmentAnalysing(input: inputPath, manifest: manifest, threads: threads),
                                   identity: identity, options: options)
        worker.log = { log.line($0) }
        log.line("analysing job \(manifest.jobID) (\(manifest.segments.count) segments) with \(threads) decoder thread(s)")
        current.set(analysing: worker)
        defer { current.set(analysing: nil) }
        // Looked up after opening TMP (`WorkDirectory.exists`): a plain lookup could answer from the "not found" NFS
        // cached when the wait began, for ~30 s, and the worker would miss a plan that streams while it analyses.
        let done = try worker.run(stopWaiting: { dir.exists(dir.manifest, in: dir.root) })
        log.line("analysed \(done.count) segment(s)")
    }
}
