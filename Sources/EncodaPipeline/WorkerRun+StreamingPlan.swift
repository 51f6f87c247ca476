import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

extension WorkerRun {
    /// A job whose plan streams (`JobManifest.planStreaming`): while its analysis runs, the worker takes one unit of
    /// work at a time, an analysis segment or a chunk planned so far, and chooses before each (`StreamingChoice`):
    /// analysis first while the planned chunks nobody holds are fewer than the workers busy with the job (so no
    /// worker waits for a chunk to be planned), chunks otherwise. Returns the job with its whole plan once the
    /// coordinator has published the last chunk, or nil when asked to leave (or, with `exitWhenIdle`, when there is
    /// nothing to take now), with the chunks encoded and the segments analysed meanwhile.
    /// `identity`: this worker's for the job, kept for the chunks after the plan is whole (one journal per process).
    func followStreamingPlan(_ start: JobContext, drain: DrainRequest, current: CurrentWorker, log: WorkerLog, threads: Int,
                             identity: WorkerIdentity, prefix: String = "") throws -> (job: JobContext?, encoded: Int, analysed: Int) {
        var job = start
        let dir = job.directory
        guard let analysis = try dir.readAnalysisManifest() else {
            throw EncodaError(.stateCorrupt, "job \(job.manifest.jobID) plans while its analysis runs, but TMP \(dir.root) holds no analysis.json; re-run the coordinator with --restart")
        }
        let segments = SegmentView(analysis: dir.analysis, segments: analysis.segments.count)
        let results = ResultView(directory: dir, manifest: job.manifest, readsRecords: false)
        let analyser = MediaSegmentAnalysing(input: job.inputPath, manifest: analysis, threads: threads)
        var said = false
        var encoded = 0, analysed = 0
        // This worker's record stays in TMP/workers for its whole stay (each unit's run keeps it fresh, and so does
        // every turn here), so others count it among the job's workers even between units: counting only leases
        // missed a worker that had just published a segment and was choosing its next unit.
        let record = dir.workerRecord(identity.token)
        let clock = ServerClock(directory: dir, worker: identity)
        defer {
            try? FileSystem.unlink(record)
            clock.remove()
        }
        // With --exit-when-idle, a worker with nothing to take leaves only once the plan has not grown for a lease
        // period: while others analyse, or the coordinator is about to publish the last chunks, work is coming (a
        // task that left then would be capacity lost to the job). Past a lease period their holders are gone.
        var progress = (planned: -1, segments: -1), lastProgress = Date()
        while !drain.isRequested {
            job = try job.extended()
            if job.manifest.planStreaming != true {
                log.line(prefix + "the plan is complete (\(job.manifest.chunks.count) chunks); \(analysed) segment(s) analysed and \(encoded) chunk(s) encoded while it was made")
                return (job, encoded, analysed)
            }
            results.grow(job.manifest)
            let state = JobState.scan(dir, manifest: job.manifest, view: results)
            segments.refresh()
            if progress != (job.manifest.chunks.count, segments.published.count) {
                progress = (job.manifest.chunks.count, segments.published.count)
                lastProgress = Date()
            }
            if (try? AtomicFile.writeJSON(WorkerRecord(identity: identity, jobID: job.manifest.jobID), to: record, staging: dir.staging)) == nil {
                _ = FileTimes.touch(record) // TMP full: keep the heartbeat, with the older content
            }
            let holders = state.leased.count + dir.analysis.list(dir.analysis.leases).compactMap(OwnNames.leaseID).count + 1
            let present = (try? clock.now()).map { now in
                WorkerRecord.count(dir, now: now, within: job.manifest.farmSettings.leaseSeconds, jobIDs: [job.manifest.jobID, analysis.jobID])
            } ?? 0
            let choice = StreamingChoice(
                freeChunks: job.manifest.chunks.filter { state.isOpen($0.id) && !state.leased.contains($0.id) }.count,
                busyWorkers: max(holders, present),
                segmentsOpen: segments.published.count < analysis.segments.count)
            if !said {
                let first = choice.order.first == .segment ? "analysis first" : "chunks first"
                log.line(prefix + "joining job \(job.manifest.jobID) while it is analysed (\(analysis.segments.count) segments, \(job.manifest.chunks.count) chunk(s) planned so far, \(choice.freeChunks) free for the \(choice.busyWorkers) worker(s) in the job: \(first))")
                said = true
            }
            var worked = false
            for unit in choice.order {
                switch unit {
                case .segment:
                    var options = unitOptions(job, drain: drain)
                    options.farm = analysis.farmSettings
                    let w = SegmentWorker(directory: dir, manifest: analysis, analyser: analyser, identity: identity, options: options)
                    w.log = { log.line(prefix + $0) }
                    current.set(analysing: w)
                    let done = try w.run(following: segments)
                    current.set(analysing: nil)
                    analysed += done.count
                    worked = !done.isEmpty
                case .chunk:
                    let w = makeWorker(job, drain: drain, exitWhenIdle: true, log: log, threads: threads, identity: identity, maxUnits: 1)
                    current.set(w)
                    let done = try w.run(following: results)
                    current.set(nil)
                    encoded += done.count
                    worked = w.tally.claimed > 0
                }
                if worked { break }
            }
            if !worked {
                if exitWhenIdle && Date().timeIntervalSince(lastProgress) > job.manifest.farmSettings.leaseSeconds {
                    log.line(prefix + "nothing to take in job \(job.manifest.jobID), and its plan has not grown for \(Int(job.manifest.farmSettings.leaseSeconds)) s")
                    return (nil, encoded, analysed)
                }
                Thread.sleep(forTimeInterval: min(max(pollSeconds, 0.2), 1))
            }
        }
        return (nil, encoded, analysed)
    }

    private func unitOptions(_ job: JobContext, drain: DrainRequest) -> WorkerOptions {
        var options = WorkerOptions()
        options.farm = job.manifest.farmSettings
        options.exitWhenIdle = true
        options.pollSeconds = pollSeconds
        options.drain = drain
        options.maxUnits = 1
        options.keepsWorkerRecord = true // the loop keeps the record between units
        return options
    }
}

/// Which work a worker following a plan that streams tries first (pure, table-tested).
struct StreamingChoice: Equatable {
    enum Unit: Equatable { case segment, chunk }
    /// Planned chunks not published, not quarantined and not leased.
    var freeChunks: Int
    /// Workers in the job now, this one included: those with a fresh record in TMP/workers (a worker following the
    /// plan keeps its record between units), and at least the holders of leases of chunks and segments plus one.
    var busyWorkers: Int
    /// Some analysis segment is not published yet.
    var segmentsOpen: Bool

    /// Analysis first whenever the free chunks run short of one per busy worker: the plan grows only as segments
    /// are measured, and a worker that finds no chunk would otherwise wait. Then the other kind, so that a worker
    /// never idles while there is work of either.
    var order: [Unit] {
        guard segmentsOpen else { return [.chunk] }
        return freeChunks < busyWorkers ? [.segment, .chunk] : [.chunk, .segment]
    }
}
