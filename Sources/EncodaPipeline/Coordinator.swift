import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// The coordinator: plans the job into TMP, keeps local workers running, joins the chunks. What it has to say goes
/// through `Report` and `observer`; `--dry-run` returns the plan instead of encoding.
public struct Coordinator {
    let request: EncodeRequest
    let observer: CoordinatorObserver

    public init(request: EncodeRequest, observer: CoordinatorObserver) {
        self.request = request; self.observer = observer
    }

    /// Encodes the request; returns the plan, and does nothing else, with `--dry-run`.
    @discardableResult
    public func run() throws -> DryRunPlan? {
        let phases = CoordinatorPhases(directory: WorkDirectory(JobSetup.absolute(request.tmp)), host: HostName.current,
                                       input: JobSetup.absolute(request.input), output: JobSetup.absolute(request.output),
                                       settings: request.encoding.asked)
        // TMP/coordinator.json says how the coordinator ended, for `encoda status`.
        do { return try runJob(phases) } catch { phases.ended(by: error); throw error }
    }

    private func runJob(_ phases: CoordinatorPhases) throws -> DryRunPlan? {
        let c = request
        let scene = c.scene
        let (inputPath, sequence) = try JobSetup.input(c.input)
        let sequenceRate = try JobSetup.sequenceRate(sequence, inputFps: c.inputFps, quiet: c.quiet)
        let (size, fingerprint) = try InputFingerprint.compute(path: inputPath)
        let dir = WorkDirectory(JobSetup.absolute(c.tmp))
        try dir.prepare()
        if c.restart { try JobCleaner.discardJob(dir, quiet: c.quiet) }
        if !c.dryRun { try phases.enter(.analysing) }

        var existing: JobManifest? = nil
        if FileManager.default.fileExists(atPath: dir.manifest) {
            let m = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
            try m.validate()
            existing = m
        }
        if let m = existing, m.input.fingerprint != fingerprint {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds a job for another input (\(m.input.absolutePath)); use --restart to discard it, or choose another TMP")
        }
        if let m = existing, let r = sequenceRate, m.video.frameRate != r {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds a job for this image sequence at \(FrameRateText.format(m.video.frameRate)) fps; re-run with --input-fps \(FrameRateText.format(m.video.frameRate)) to resume, add --restart to discard it, or choose another TMP")
        }

        // A plan that streams: the chunks published so far.
        if let m = existing, m.planStreaming == true { existing = try PlanStream.extend(m, in: dir) }

        // A trim or a timeline: only its frames are analysed, found in the packet index before any decode.
        let encoder = c.encoding.settings.encoder
        let partial = c.trim != nil || c.timeline != nil
        // Segmented by default; `asked` (--segmented-analysis given) says where it cannot be.
        let asked = c.segmentedAnalysis == true
        let segmentedAnalysis = c.segmentedAnalysis != false && !partial && sequenceRate == nil
        let cached = segmentedAnalysis ? SegmentedAnalysisStep.cached(dir: dir, fingerprint: fingerprint, needCrop: c.picture.needsCrop) : nil
        // --segmented-analysis: segments cut from the packet index (nil: its packets cannot number INPUT's frames), and
        // the plan streams unless it cannot (or the job in TMP was planned whole).
        let prepared = segmentedAnalysis && cached == nil
            ? try SegmentedAnalysisStep.prepare(input: inputPath, fingerprint: fingerprint, dir: dir, encoder: encoder, farm: c.farm,
                                                workers: c.workers, threads: c.threads, needCrop: c.picture.needsCrop, asked: asked, quiet: c.quiet) : nil
        var streams = false
        if let prepared, !c.dryRun, existing == nil || existing?.planStreaming == true {
            if let why = try PlanStreamer.obstacle(c, settings: c.encoding.settings, prepared: prepared, input: inputPath) {
                if asked && !c.quiet { Report.note("the plan waits for the whole analysis: \(why)") }
            } else {
                streams = true
            }
        }
        let segmented = try streams ? PlanStreamer.provisionalCache(prepared!, fingerprint: fingerprint, scene: scene)
            : cached ?? prepared.map { try SegmentedAnalysisStep.finish($0, input: inputPath, fingerprint: fingerprint, dir: dir, scene: scene, quiet: c.quiet) }
        var cache = try segmented ?? JobSetup.sceneCache(input: inputPath, fingerprint: fingerprint, dir: dir, scene: scene,
                                            encoder: encoder, quiet: c.quiet,
                                            needCrop: c.picture.needsCrop, frameRate: sequenceRate,
                                            ranges: partial ? { try Coordinator.encodedRanges(c, cache: $0) } : nil)
        try ScenePass.checkEncodable(cache.video, encoder: encoder)
        var (settings, cropNote) = try JobSetup.picture(settings: try c.encoding.settings(source: cache.video.pixelLayout),
                                                        request: c.picture, cache: cache, quiet: c.quiet)
        settings = try SourceMetadataStep.orient(settings: settings, output: c.output, noAutorotate: c.picture.noAutorotate,
                                                 quiet: c.quiet, video: cache.video)
        settings.quality = c.quality
        // Every change to INPUT's chroma, bit depth, RGB or alpha is said, one line each (and listed by --dry-run).
        let conversions = try c.encoding.pixelFormat(
            source: cache.video.pixelLayout, outputHeight: (try? OutputPicture.make(source: cache.video, settings: settings))?.height).conversions
        if !c.quiet { conversions.forEach(Report.note) }
        // The range is resolved against the frame index: before any encode, also when the scene pass just ran.
        let trim = try TrimStep.resolve(c.trim, keepTimestamps: c.keepTimestamps, cache: cache)
        if let trim, !c.quiet && !c.dryRun { Report.note("encoding " + TrimStep.describe(trim, cache: cache)) }
        // A plan that streams has no cut yet: its chunks are published as the segments are measured (`PlanStreamer`).
        let (cuts, cutSource) = streams ? ([], "detected") : try JobSetup.cuts(cache: cache, scene: scene, scenesJSON: c.scenesJSON, quiet: c.quiet,
                                                  within: partial ? try Coordinator.encodedRanges(c, cache: cache) : nil)
        let (shots, maxFrames) = streams ? ([], 0) : JobSetup.shots(cache: cache, cuts: cuts, scene: scene, range: trim?.range)
        // A timeline: one output per clip, every clip's chunks in one plan.
        let clipOutputs = try c.timeline.map { try TimelineStep.outputs($0, cache: cache) }
        if let t = c.timeline, !c.quiet, let note = TimelineStep.startNote(t, cache: cache) { Report.note(note) }
        // With --bitrate, each chunk's share of the bits is decided here, once (see BitAllocation).
        let chunks = streams ? [] : BitAllocation.assign(clipOutputs.map { TimelineStep.plan(cache: cache, cuts: cuts, scene: scene, outputs: $0) }
            ?? JobSetup.plan(cache: cache, shots: shots, maxFrames: maxFrames), index: cache.index, target: settings.bitRate)
        if !c.quiet { RateNotes.lines(settings: settings, chunks: chunks).forEach(Report.note) }
        let (workers, threads) = WorkerBudget.choose(requestedWorkers: c.workers, requestedThreads: c.threads, video: cache.video,
                                                     chunks: streams ? Int.max : chunks.count)

        // An image sequence holds pictures alone: nothing for --mux to carry, nothing left out.
        // With a timeline, the plan shown and noted is the first clip's; each clip is planned for its join (`ClipAudio`).
        let muxTrim = trim ?? clipOutputs?.first.map(ClipAudio.trim)
        let muxPlan = c.mux != nil && sequence == nil ? try MuxStep.plan(request: c, inputPath: inputPath, cache: cache, trim: muxTrim) : nil
        if sequence == nil {
            try MuxStep.noteWhatIsLeftOut(request: c, inputPath: inputPath, cache: cache, plan: muxPlan)
        } else if c.mux != nil && !c.quiet {
            Report.note("INPUT is an image sequence: it holds no audio, subtitles or chapters for --mux to carry")
        }
        if !c.quiet, let fields = cache.video.interlacing {
            Report.note(fields.note(encoder: encoder, format: try OutputFormat.forPath(c.output, encoder: encoder)))
        }

        if c.dryRun {
            return DryRunPlan(input: inputPath, cache: cache, settings: settings, scene: scene, cuts: cuts, cutSource: cutSource,
                              shots: shots, chunks: chunks, workers: workers, threads: threads, cropNote: cropNote, mux: muxPlan,
                              conversions: conversions, trim: trim.map { TrimStep.describe($0, cache: cache) },
                              clips: clipOutputs.map(TimelineStep.describe))
        }

        var manifest: JobManifest
        if var m = existing {
            var differences: [String] = []
            if m.settings != settings { differences.append("encoder settings") }
            if m.scene != scene { differences.append("shot detection settings") }
            if m.trim != trim {
                let theirs = m.trim.map { "frames \($0.range.start)–\($0.range.end - 1)" + ($0.keepTimestamps ? " with INPUT's timestamps" : "") } ?? "all of INPUT"
                differences.append("--start/--end (that job encodes \(theirs))")
            }
            if m.outputs != clipOutputs { differences.append("timeline clips (\(m.outputs?.count ?? 0) outputs in that job)") }
            if m.planStreaming == true && !streams {
                // Planned while analysed, and the analysis is complete now: the rest of the plan, from it.
                guard Array(chunks.prefix(m.chunks.count)) == m.chunks else { throw EncodaError(.stateCorrupt, "the chunks published in TMP/plan differ from the plan of INPUT's analysis; re-run with --restart") }
                let rest = PlanRecord.make(jobID: m.jobID, chunks: chunks, index: cache.index, complete: true).suffix(from: m.chunks.count)
                try PlanStream.publish(Array(rest), in: dir)
                m = try m.appending(Array(rest))
            }
            if m.planStreaming != true && GrainStep.withoutLevels(m.chunks) != chunks && m.trim == trim && m.outputs == clipOutputs { differences.append("chunk plan") }
            if !differences.isEmpty {
                throw EncodaError(.workDirectory, "TMP \(dir.root) holds a job made with other \(differences.joined(separator: " and ")); re-run with the same options to resume, add --restart to discard it, or choose another TMP")
            }
            manifest = m
            if let why = m.versions.mismatch(with: .installed, encoder: m.settings.encoder) {
                throw EncodaError(.versionMismatch, "TMP \(dir.root) holds job \(m.jobID) planned with other encoder versions (\(why)); finish it with the same encoda build, or add --restart to discard it")
            }
            if !c.quiet {
                let st = JobState.scan(dir, manifest: m)
                Report.note("resuming job \(m.jobID): \(st.done.count) of \(m.chunks.count) chunks already done" + (m.planStreaming == true ? " (of those planned so far)" : ""))
            }
        } else {
            // Workers find an input inside the shared folder (TMP or the folder holding it) by this relative
            // path, whatever their mount point; any other input by its absolute path or their --input-root.
            let rel = JobSetup.relativePath(from: dir.root, to: inputPath).flatMap { PathSafety.isInputPathInSharedFolder($0) ? $0 : nil }
            var m = JobManifest(
                jobID: Token.make() + "-" + Token.make(), createdAt: Date().timeIntervalSince1970,
                input: InputReference(absolutePath: inputPath, pathRelativeToWorkDirectory: rel, size: size, fingerprint: fingerprint),
                video: cache.video, frameCount: cache.index.frameCount, settings: settings, scene: scene,
                versions: .installed, chunks: try GrainStep.measure(chunks, input: inputPath, cache: cache, settings: settings, quiet: c.quiet))
            m.farm = c.farm
            m.trim = trim
            m.outputs = clipOutputs
            m.profile = c.profile
            m.planStreaming = streams ? true : nil
            m.plan = try JobPlanner.plan(
                .init(output: clipOutputs?.first?.path ?? c.output, settings: settings,
                      requestedPixelFormat: c.encoding.requestedPixelFormat),
                .init(video: cache.video, layout: cache.video.pixelLayout, index: cache.index, chunks: m.chunks))
            try m.validate()
            if try !AtomicFile.publishJSONExclusive(m, to: dir.manifest, staging: dir.staging) {
                throw EncodaError(.workDirectory, "another coordinator created a job in TMP \(dir.root) at the same moment; re-run to join it")
            }
            manifest = m
        }

        // Quarantined chunks get one more attempt on every run of the command (a fixed machine, a freed disk).
        for (id, error) in FailureLedger(directory: dir, manifest: manifest).releaseQuarantine() {
            Report.warn("chunk \(Chunk.name(id)) was quarantined (\(error)); trying it once more")
        }
        let framesDone = JobState.scan(dir, manifest: manifest).framesDone(manifest)
        try phases.enter(.encoding) {
            $0.settings = .init(manifest.settings); $0.jobID = manifest.jobID; $0.frames = manifest.outputFrameCount
            $0.chunks = manifest.chunks.count; $0.framesDoneAtEncodingStart = framesDone
        }
        // The audio is prepared beside the encodes (a plan that streams: once the whole analysis gives the frame index).
        func startAudio(_ cache: SceneCache) throws -> AudioJob? {
            try manifest.outputs != nil ? nil : muxPlan.map { try MuxStep.start(request: c, inputPath: inputPath, fingerprint: fingerprint, cache: cache, plan: $0, dir: dir,
                                                           trim: manifest.trim) }
        }
        if streams, let muxPlan, manifest.outputs == nil {
            try MuxStep.preflight(request: c, inputPath: inputPath, cache: cache, plan: muxPlan, trim: manifest.trim)
        }
        var audioJob = streams ? nil : try startAudio(cache)
        let streamer = streams ? try PlanStreamer(prepared: prepared!, manifest: manifest, dir: dir, input: inputPath, fingerprint: fingerprint) : nil
        if streamer != nil && !c.quiet {
            Report.note("planning while INPUT is analysed: \(prepared!.manifest.segments.count) segments; chunks are encoded as they are planned")
        }
        let supervisor = WorkerSupervisor(directory: dir, manifest: manifest, workers: workers, threads: threads,
                                          progress: { [manifest] in observer.progress(dir, manifest) })
        let rejected = RejectedChunks(dir: dir, forget: supervisor.forget)
        // Each clip's output is joined while the workers go on with the others, as soon as its chunks are done.
        let joiner = manifest.outputs == nil ? nil : ClipJoiner(dir: dir, manifest: manifest, cache: cache, quiet: c.quiet)
        if let joiner, muxPlan != nil {
            joiner.audio = try ClipAudio(request: c, inputPath: inputPath, fingerprint: fingerprint, cache: cache, dir: dir, outputs: joiner.outputs)
        }
        // The one OUTPUT is joined while the workers go on too: each chunk appended as soon as those before it are
        // (a plan that streams: from the moment it is whole, with the whole analysis's frame index).
        func makeJoin(_ manifest: JobManifest, _ cache: SceneCache) throws -> StreamingJoin? {
            joiner != nil ? nil : try StreamingJoin(
                dir: dir, manifest: manifest, index: cache.index, output: JobSetup.absolute(c.output), audio: audioJob,
                sides: { try MuxStep.sides(job: $0, inputPath: inputPath, cache: cache, trim: manifest.trim) }, quiet: c.quiet)
        }
        var join = streamer == nil ? try makeJoin(manifest, cache) : nil
        /// Polled by the supervisor while the plan streams: the chunks the newly measured segments make final.
        func grow() throws -> JobManifest? {
            guard let streamer, let grown = try streamer.advance() else { return nil }
            manifest = grown
            if let whole = streamer.cache, grown.planStreaming != true {
                cache = whole
                // coordinator.json (read by `status` once job.json is cleaned up) counts the whole plan's chunks.
                try? phases.enter(.encoding) { $0.chunks = grown.chunks.count }
                audioJob = try startAudio(whole)
                join = try makeJoin(grown, whole)
                if !c.quiet {
                    Report.note(String(format: "the plan is complete: %d chunks from %d segments analysed in %.1f s, %d cuts", grown.chunks.count,
                                       streamer.prepared.manifest.segments.count, Date().timeIntervalSince(streamer.prepared.started), whole.cuts.count))
                }
            }
            return grown
        }
        var written = false
        defer { if !written { join?.discard() } }
        var rounds = 0
        while true {
            let state: JobState
            state = try supervisor.runUntilFinished(grow: grow, stopWhen: {
                audioJob?.failed ?? joiner?.poll($0, rejected: rejected) ?? join?.poll($0, rejected: rejected)
            })
            if !state.quarantined.isEmpty {
                // One line however many chunks failed: the same error is told once, with the chunks it stopped.
                let kept = state.done.isEmpty ? "No chunk is done yet" : "The \(state.done.count) chunks done are kept in TMP"
                throw EncodaError(.chunkFailed, FailureSummary.line(state.quarantined) +
                                  ". \(kept); fix the cause, then `encoda clean TMP --quarantine` and re-run to retry the failed ones")
            }
            if let joiner {
                joiner.prune()
                try phases.enter(.joining)
                do { try joiner.joinReady(state) } catch let mismatch as ChunkMismatch {
                    try rejected.reject(mismatch)
                    continue
                }
                // A chunk the polling found not matching its record is encoded again first.
                guard joiner.allJoined else {
                    rounds += 1
                    if rounds > 2 { throw EncodaError(.stateCorrupt, "clips \(joiner.pending.map { String($0 + 1) }) keep missing chunks; check TMP's storage") }
                    continue
                }
                try? phases.enter(.finished)
                if !c.quiet { Report.note("wrote \(joiner.outputs.count) clips, \(manifest.outputFrameCount) frames") }
                SummaryStep.write(dir, manifest: manifest, state: state, quiet: c.quiet)
                if !c.keep { JobCleaner.removeChunkData(dir, manifest: manifest, quiet: c.quiet); joiner.removeRecord() }
                return nil
            }
            guard let join else { throw EncodaError(.internalError, "a job with neither a join nor clips") }
            let started = Date()
            // Every chunk is done and the join is short (the last chunks, the trailer): a first signal lets it finish
            // (exit 0); a second stops it at once, OUTPUT untouched (the next run removes the partial file beside it).
            // A cancelled job (`CancelMark`, written before the signal) stops at the first: its partial file goes too,
            // since no later run will join it.
            let partial = join.partialPath
            SignalWatcher.shared.install { n in
                if CancelMark.isMarked(dir) {
                    _ = try? FileSystem.unlinkIfPresent(partial)
                    Report.warn("cancelled during the join; OUTPUT was not written")
                    _exit(130)
                }
                if n >= 2 { Report.warn("stopped during the join; OUTPUT was not written. Re-run the same command to join"); _exit(130) }
            }
            if SignalWatcher.shared.signals > 0 && CancelMark.isMarked(dir) {
                throw EncodaError(.interrupted, "cancelled (\(CancelMark.fileName) in TMP) with every chunk done; OUTPUT was not written")
            }
            try phases.enter(.joining)
            // Every chunk is checked against its record (size, CRC-32, frame count) as it is appended, so each is read
            // once; one that does not match loses its record and is encoded again, and the join goes on after it.
            do { try join.finish(state) } catch let mismatch as ChunkMismatch {
                try rejected.reject(mismatch)
                continue
            }
            written = true
            let size = (try? FileManager.default.attributesOfItem(atPath: c.output)[.size] as? Int64) ?? 0
            try? phases.enter(.finished) { $0.outputBytes = size }
            if !c.quiet {
                let encodeSeconds = phases.encodingBegan.map { started.timeIntervalSince($0) } ?? 0
                observer.written(WrittenOutput(
                    output: c.output, frames: manifest.outputFrameCount, bytes: size, seconds: Date().timeIntervalSince(phases.began),
                    frameRate: manifest.video.frameRate.doubleValue, framesEncoded: manifest.outputFrameCount - phases.framesDoneAtEncodingStart,
                    encodeSeconds: encodeSeconds, joinSeconds: Date().timeIntervalSince(started)))
            }
            SummaryStep.write(dir, manifest: manifest, state: state, quiet: c.quiet)
            if !c.keep { JobCleaner.removeChunkData(dir, manifest: manifest, quiet: c.quiet) }
            return nil
        }
    }

    /// The frames this command encodes, in `cache`'s frame index: the trim's range, or each timeline clip's.
    static func encodedRanges(_ c: EncodeRequest, cache: SceneCache) throws -> [FrameRange] {
        if let trim = try TrimStep.resolve(c.trim, keepTimestamps: c.keepTimestamps, cache: cache) { return [trim.range] }
        if let timeline = c.timeline {
            return try TimelineStep.outputs(timeline, cache: cache).map(\.range)
        }
        return [FrameRange(0, cache.index.frameCount)]
    }
}

/// How many local workers and encoder threads each, so cores are busy but not oversubscribed.
/// One worker per core with a one-thread encoder each is the default: chunks are independent, so separate
/// single-threaded encoders keep every core busy without the synchronisation a multi-threaded encoder pays
/// (measured with bench/encode.sh: SVT-AV1 spends less CPU per frame at logical_processors 1 than at 2).
/// Fewer chunks than cores (a short clip, one shot) get fewer workers with more threads each, so no core idles.
public enum WorkerBudget {
    /// - Parameter video: the job's picture; nil when it is not known yet (a worker serving a folder of jobs), when
    ///   each worker is budgeted 1 GB.
    /// - Parameter cores: the CPUs this process was granted (cgroup quota, affinity mask), not the host's cores.
    public static func choose(requestedWorkers: Int?, requestedThreads: Int?, video: VideoFacts?, chunks: Int = Int.max,
                       cores: Int = CPUGrant.current.cpus,
                       memory: Double = Double(ProcessInfo.processInfo.physicalMemory)) -> (workers: Int, threads: Int) {
        let cores = max(1, cores)
        // Rough peak of one encoder at this size (SVT-AV1 lookahead dominates): ~600 bytes per pixel.
        let perWorker = video.map { max(256e6, Double($0.width * $0.height) * 600) } ?? 1e9
        let byMemory = max(1, Int(memory * 0.7 / perWorker))
        let workers = requestedWorkers ?? max(1, min(cores, byMemory, max(1, chunks)))
        let threads = requestedThreads ?? max(1, cores / max(1, workers))
        return (workers, threads)
    }
}
