import ArgumentParser
import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

/// The coordinator: plans the job into TMP, keeps local workers running, shows progress, joins the chunks.
struct Coordinator {
    let command: EncodeCommand
    let scene: SceneSettings

    func run() throws {
        let o = command.encoderOptions
        let asked = CoordinatorRecord.Settings(
            encoder: o.encoder.rawValue, preset: o.preset ?? EncodeSettings.defaultPreset(for: o.encoder),
            crf: o.lossless ? 0 : (o.crf ?? EncodeSettings.defaultCRF(for: o.encoder)), lossless: o.lossless,
            pixelFormat: o.pixFmt.flatMap { PixelFormat(argument: $0)?.rawValue }, encoderParams: o.encoderParams)
        let phases = CoordinatorPhases(directory: WorkDirectory(JobSetup.absolute(command.tmp)), host: HostName.current,
                                       input: JobSetup.absolute(command.input), output: JobSetup.absolute(command.output), settings: asked)
        // TMP/coordinator.json says how the coordinator ended, for `encoda status`.
        do { try runJob(phases) } catch { phases.ended(by: error); throw error }
    }

    private func runJob(_ phases: CoordinatorPhases) throws {
        let c = command
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

        // A trim or a timeline: only its frames are analysed, found in the packet index before any decode.
        let partial = try c.rangeOptions.request() != nil || c.timelineOptions.load(pattern: c.output) != nil
        let cache = try JobSetup.sceneCache(input: inputPath, fingerprint: fingerprint, dir: dir, scene: scene,
                                            encoder: c.encoderOptions.encoder, quiet: c.quiet,
                                            needCrop: c.pictureOptions.autocrop && c.pictureOptions.crop == nil, frameRate: sequenceRate,
                                            ranges: partial ? { try Coordinator.encodedRanges(c, cache: $0) } : nil)
        try ScenePass.checkEncodable(cache.video, encoder: c.encoderOptions.encoder)
        var (settings, cropNote) = try c.profileOptions.picture(settings: try c.encodeSettings(source: cache.video.pixelLayout),
                                                                options: c.pictureOptions, cache: cache, quiet: c.quiet)
        settings = try SourceMetadataStep.orient(settings: settings, command: c, video: cache.video)
        settings.quality = try c.qualityTarget()
        // Every change to INPUT's chroma, bit depth, RGB or alpha is said, one line each (and listed by --dry-run).
        let conversions = try c.encoderOptions.pixelFormat(
            source: cache.video.pixelLayout, outputHeight: (try? OutputPicture.make(source: cache.video, settings: settings))?.height).conversions
        if !c.quiet { conversions.forEach(Diagnostics.note) }
        // The range is resolved against the frame index: before any encode, also when the scene pass just ran.
        let trim = try c.rangeOptions.trim(cache: cache)
        if let trim, !c.quiet && !c.dryRun { Diagnostics.note("encoding " + TrimStep.describe(trim, cache: cache)) }
        let (cuts, cutSource) = try JobSetup.cuts(cache: cache, scene: scene, scenesJSON: c.scenesJson, quiet: c.quiet,
                                                  within: partial ? try Coordinator.encodedRanges(c, cache: cache) : nil)
        let (shots, maxFrames) = JobSetup.shots(cache: cache, cuts: cuts, scene: scene, range: trim?.range)
        // A timeline: one output per clip, every clip's chunks in one plan.
        let clipOutputs = try c.timelineOptions.load(pattern: c.output).map { try TimelineStep.outputs($0, options: c.timelineOptions, cache: cache) }
        // With --bitrate, each chunk's share of the bits is decided here, once (see BitAllocation).
        let chunks = BitAllocation.assign(clipOutputs.map { TimelineStep.plan(cache: cache, cuts: cuts, scene: scene, outputs: $0) }
            ?? JobSetup.plan(cache: cache, shots: shots, maxFrames: maxFrames), index: cache.index, target: settings.bitRate)
        if !c.quiet { RateOptions.notes(settings: settings, chunks: chunks).forEach(Diagnostics.note) }
        let (workers, threads) = WorkerBudget.choose(requestedWorkers: c.workers, requestedThreads: c.threads, video: cache.video,
                                                     chunks: chunks.count)

        // An image sequence holds pictures alone: nothing for --mux to carry, nothing left out.
        // With a timeline, the plan shown and noted is the first clip's; each clip is planned for its join (`ClipAudio`).
        let muxTrim = trim ?? clipOutputs?.first.map(ClipAudio.trim)
        let muxPlan = c.muxOptions.mux && sequence == nil ? try MuxStep.plan(command: c, inputPath: inputPath, cache: cache, trim: muxTrim) : nil
        if sequence == nil {
            try MuxStep.noteWhatIsLeftOut(command: c, inputPath: inputPath, cache: cache, plan: muxPlan)
        } else if c.muxOptions.mux && !c.quiet {
            Diagnostics.note("INPUT is an image sequence: it holds no audio, subtitles or chapters for --mux to carry")
        }
        if !c.quiet, let fields = cache.video.interlacing {
            Diagnostics.note(fields.note(encoder: c.encoderOptions.encoder, format: try OutputFormat.forPath(c.output, encoder: c.encoderOptions.encoder)))
        }

        if c.dryRun {
            PlanPrinter.print(input: inputPath, cache: cache, settings: settings, scene: scene, cuts: cuts, cutSource: cutSource,
                              shots: shots, chunks: chunks, workers: workers, threads: threads, cropNote: cropNote, mux: muxPlan,
                              conversions: conversions, trim: trim.map { TrimStep.describe($0, cache: cache) })
            if let clipOutputs { print(TimelineStep.describe(clipOutputs)) }
            return
        }

        let manifest: JobManifest
        if let m = existing {
            var differences: [String] = []
            if m.settings != settings { differences.append("encoder settings") }
            if m.scene != scene { differences.append("shot detection settings") }
            if m.trim != trim {
                let theirs = m.trim.map { "frames \($0.range.start)–\($0.range.end - 1)" + ($0.keepTimestamps ? " with INPUT's timestamps" : "") } ?? "all of INPUT"
                differences.append("--start/--end (that job encodes \(theirs))")
            }
            if m.outputs != clipOutputs { differences.append("timeline clips (\(m.outputs?.count ?? 0) outputs in that job)") }
            if GrainStep.withoutLevels(m.chunks) != chunks && m.trim == trim && m.outputs == clipOutputs { differences.append("chunk plan") }
            if !differences.isEmpty {
                throw EncodaError(.workDirectory, "TMP \(dir.root) holds a job made with other \(differences.joined(separator: " and ")); re-run with the same options to resume, add --restart to discard it, or choose another TMP")
            }
            manifest = m
            if let why = m.versions.mismatch(with: .installed, encoder: m.settings.encoder) {
                throw EncodaError(.versionMismatch, "TMP \(dir.root) holds job \(m.jobID) planned with other encoder versions (\(why)); finish it with the same encoda build, or add --restart to discard it")
            }
            if !c.quiet {
                let st = JobState.scan(dir, manifest: m)
                Diagnostics.note("resuming job \(m.jobID): \(st.done.count) of \(m.chunks.count) chunks already done")
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
            m.farm = try c.farmOptions.settings()
            m.trim = trim
            m.outputs = clipOutputs
            m.profile = c.profileOptions.profile
            try m.validate()
            if try !AtomicFile.publishJSONExclusive(m, to: dir.manifest, staging: dir.staging) {
                throw EncodaError(.workDirectory, "another coordinator created a job in TMP \(dir.root) at the same moment; re-run to join it")
            }
            manifest = m
        }

        // Quarantined chunks get one more attempt on every run of the command (a fixed machine, a freed disk).
        for (id, error) in FailureLedger(directory: dir, manifest: manifest).releaseQuarantine() {
            Diagnostics.note("chunk \(Chunk.name(id)) was quarantined (\(error)); trying it once more")
        }
        let framesDone = JobState.scan(dir, manifest: manifest).framesDone(manifest)
        try phases.enter(.encoding) {
            $0.settings = .init(manifest.settings); $0.jobID = manifest.jobID; $0.frames = manifest.outputFrameCount
            $0.chunks = manifest.chunks.count; $0.framesDoneAtEncodingStart = framesDone
        }
        let audioJob = manifest.outputs != nil ? nil : try muxPlan.map { try MuxStep.start(command: c, inputPath: inputPath, fingerprint: fingerprint, cache: cache, plan: $0, dir: dir,
                                                           trim: manifest.trim) }
        let supervisor = WorkerSupervisor(directory: dir, manifest: manifest, workers: workers, threads: threads, quiet: c.quiet)
        // Each clip's output is joined while the workers go on with the others, as soon as its chunks are done.
        let joiner = manifest.outputs == nil ? nil : ClipJoiner(dir: dir, manifest: manifest, cache: cache, quiet: c.quiet)
        if let joiner, muxPlan != nil {
            joiner.audio = try ClipAudio(command: c, inputPath: inputPath, fingerprint: fingerprint, cache: cache, dir: dir, outputs: joiner.outputs)
        }
        var rounds = 0
        while true {
            let state: JobState
            state = try supervisor.runUntilFinished(stopWhen: { audioJob?.failed ?? joiner?.poll($0, forget: supervisor.forget) })
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
                    rounds += 1
                    if rounds > 2 { throw EncodaError(.stateCorrupt, "chunk \(Chunk.name(mismatch.chunk)) keeps failing verification; check TMP's storage") }
                    Diagnostics.note("chunk \(Chunk.name(mismatch.chunk)) does not match its result record; re-encoding it")
                    rename(dir.result(mismatch.chunk), dir.result(mismatch.chunk) + ".invalid-\(Token.make())")
                    supervisor.forget(mismatch.chunk)
                    continue
                }
                // A chunk the polling found not matching its record is encoded again first.
                guard joiner.allJoined else {
                    rounds += 1
                    if rounds > 2 { throw EncodaError(.stateCorrupt, "clips \(joiner.pending.map { String($0 + 1) }) keep missing chunks; check TMP's storage") }
                    continue
                }
                try? phases.enter(.finished)
                if !c.quiet { Diagnostics.note("wrote \(joiner.outputs.count) clips, \(manifest.outputFrameCount) frames") }
                SummaryStep.write(dir, manifest: manifest, state: state, quiet: c.quiet)
                if !c.keep { JobCleaner.removeChunkData(dir, manifest: manifest, quiet: c.quiet); joiner.removeRecord() }
                return
            }
            // Every chunk is checked against its record (size, CRC-32, frame count) while it is joined, so each is
            // read once; one that does not match loses its record and is encoded again.
            let pieces = manifest.chunks.compactMap { chunk in
                state.done[chunk.id].map { ChunkPiece(chunk: chunk, path: dir.chunkFile(named: $0.file), bytes: $0.bytes, crc32: $0.crc32) }
            }
            JobCleaner.pruneBeforeJoin(dir, manifest: manifest, output: JobSetup.absolute(c.output), quiet: c.quiet)
            let started = Date()
            // The join is short and every chunk is done: a first signal lets it finish (exit 0); a second stops it
            // at once, OUTPUT untouched (the next run removes the partial file beside it).
            SignalWatcher.shared.install { n in
                if n >= 2 { Diagnostics.note("stopped during the join; OUTPUT was not written. Re-run the same command to join"); _exit(130) }
            }
            let sides = try audioJob.map { try MuxStep.sides(job: $0, inputPath: inputPath, cache: cache, trim: manifest.trim) }
            try phases.enter(.joining)
            do {
                try Concatenator.run(manifest: manifest, index: cache.index, pieces: pieces, output: JobSetup.absolute(c.output), sides: sides)
            } catch let mismatch as ChunkMismatch {
                rounds += 1
                if rounds > 2 { throw EncodaError(.stateCorrupt, "chunk \(Chunk.name(mismatch.chunk)) keeps failing verification; check TMP's storage") }
                Diagnostics.note("chunk \(Chunk.name(mismatch.chunk)) does not match its result record; re-encoding it")
                rename(dir.result(mismatch.chunk), dir.result(mismatch.chunk) + ".invalid-\(Token.make())")
                supervisor.forget(mismatch.chunk)
                continue
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: c.output)[.size] as? Int64) ?? 0
            try? phases.enter(.finished) { $0.outputBytes = size }
            if !c.quiet {
                let encodeSeconds = phases.encodingBegan.map { started.timeIntervalSince($0) } ?? 0
                Diagnostics.note(ProgressLine.summary(
                    output: c.output, frames: manifest.outputFrameCount, bytes: size, seconds: Date().timeIntervalSince(phases.began),
                    frameRate: manifest.video.frameRate.doubleValue, framesEncoded: manifest.outputFrameCount - phases.framesDoneAtEncodingStart,
                    encodeSeconds: encodeSeconds, joinSeconds: Date().timeIntervalSince(started)))
            }
            SummaryStep.write(dir, manifest: manifest, state: state, quiet: c.quiet)
            if !c.keep { JobCleaner.removeChunkData(dir, manifest: manifest, quiet: c.quiet) }
            return
        }
    }

    /// The frames this command encodes, in `cache`'s frame index: the trim's range, or each timeline clip's.
    static func encodedRanges(_ c: EncodeCommand, cache: SceneCache) throws -> [FrameRange] {
        if let trim = try c.rangeOptions.trim(cache: cache) { return [trim.range] }
        if let loaded = try c.timelineOptions.load(pattern: c.output) {
            return try TimelineStep.outputs(loaded, options: c.timelineOptions, cache: cache).map(\.range)
        }
        return [FrameRange(0, cache.index.frameCount)]
    }
}

/// How many local workers and encoder threads each, so cores are busy but not oversubscribed.
/// One worker per core with a one-thread encoder each is the default: chunks are independent, so separate
/// single-threaded encoders keep every core busy without the synchronisation a multi-threaded encoder pays
/// (measured with bench/encode.sh: SVT-AV1 spends less CPU per frame at logical_processors 1 than at 2).
/// Fewer chunks than cores (a short clip, one shot) get fewer workers with more threads each, so no core idles.
enum WorkerBudget {
    /// - Parameter video: the job's picture; nil when it is not known yet (a worker serving a folder of jobs), when
    ///   each worker is budgeted 1 GB.
    /// - Parameter cores: the CPUs this process was granted (cgroup quota, affinity mask), not the host's cores.
    static func choose(requestedWorkers: Int?, requestedThreads: Int?, video: VideoFacts?, chunks: Int = Int.max,
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

/// Protocol parameters of the farm, recorded in the plan so that every worker uses the same ones.
struct FarmOptions: ParsableArguments {
    @Option(name: .long, help: "Seconds without a heartbeat (by the file server's clock) after which a worker's claim counts as abandoned and another worker takes the chunk over (10…86400).")
    var leaseSeconds: Double = FarmSettings.defaultLeaseSeconds
    @Option(name: .long, help: "Failed attempts after which a chunk is quarantined instead of retried (1…100).")
    var maxAttempts: Int = FarmSettings.defaultMaxAttempts

    func validate() throws {
        do { _ = try settings() } catch let e as EncodaError { throw ValidationError(e.message) }
    }

    func settings() throws -> FarmSettings {
        let f = FarmSettings(leaseSeconds: leaseSeconds, maxAttempts: maxAttempts)
        do { try f.validate() } catch let e as EncodaError {
            // Name only the option that is out of range.
            let leaseOK = leaseSeconds.isFinite && FarmSettings.leaseRange.contains(leaseSeconds)
            throw EncodaError(.usage, "\(leaseOK ? "--max-attempts" : "--lease-seconds"): \(e.message)")
        }
        return f
    }
}
