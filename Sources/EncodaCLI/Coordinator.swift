import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

/// The coordinator: plans the job into TMP, keeps local workers running, shows progress, joins the chunks.
struct Coordinator {
    let command: EncodeCommand
    let scene: SceneSettings

    func run() throws {
        let c = command
        let inputPath = JobSetup.absolute(c.input)
        let (size, fingerprint) = try InputFingerprint.compute(path: inputPath)
        let dir = WorkDirectory(JobSetup.absolute(c.tmp))
        try dir.prepare()
        if c.restart { JobCleaner.discardJob(dir, keepSceneCache: true) }

        var existing: JobManifest? = nil
        if FileManager.default.fileExists(atPath: dir.manifest) {
            let m = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
            try m.validate()
            existing = m
        }
        if let m = existing, m.input.fingerprint != fingerprint {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds a job for another input (\(m.input.absolutePath)); use --restart to discard it, or choose another TMP")
        }

        let cache = try JobSetup.sceneCache(input: inputPath, fingerprint: fingerprint, dir: dir, scene: scene,
                                            encoder: c.encoderOptions.encoder, quiet: c.quiet,
                                            needCrop: c.pictureOptions.autocrop && c.pictureOptions.crop == nil)
        try ScenePass.checkEncodable(cache.video, encoder: c.encoderOptions.encoder)
        let (settings, cropNote) = try JobSetup.picture(settings: try c.encoderOptions.settings(sourceBitDepth: cache.video.bitDepth),
                                                        options: c.pictureOptions, cache: cache)
        let (cuts, cutSource) = try JobSetup.cuts(cache: cache, scene: scene, scenesJSON: c.scenesJson)
        let (shots, maxFrames) = JobSetup.shots(cache: cache, cuts: cuts, scene: scene)
        let chunks = JobSetup.plan(cache: cache, shots: shots, maxFrames: maxFrames)
        let (workers, threads) = WorkerBudget.choose(requestedWorkers: c.workers, requestedThreads: c.threads, video: cache.video)

        let muxPlan = c.muxOptions.mux ? try MuxStep.plan(command: c, inputPath: inputPath, cache: cache) : nil

        if c.dryRun {
            PlanPrinter.print(input: inputPath, cache: cache, settings: settings, scene: scene, cuts: cuts, cutSource: cutSource,
                              shots: shots, chunks: chunks, workers: workers, threads: threads, cropNote: cropNote, mux: muxPlan)
            return
        }

        let manifest: JobManifest
        if let m = existing {
            var differences: [String] = []
            if m.settings != settings { differences.append("encoder settings") }
            if m.scene != scene { differences.append("shot detection settings") }
            if m.chunks != chunks { differences.append("chunk plan") }
            if !differences.isEmpty {
                throw EncodaError(.workDirectory, "TMP \(dir.root) holds a job made with other \(differences.joined(separator: " and ")); re-run with the same options to resume, add --restart to discard it, or choose another TMP")
            }
            manifest = m
            if !c.quiet {
                let st = JobState.scan(dir, manifest: m)
                Diagnostics.note("resuming job \(m.jobID): \(st.done.count) of \(m.chunks.count) chunks already done")
            }
        } else {
            let rel = JobSetup.relativePath(from: dir.root, to: inputPath)
            let m = JobManifest(
                jobID: Token.make() + "-" + Token.make(), createdAt: Date().timeIntervalSince1970,
                input: InputReference(absolutePath: inputPath, pathRelativeToWorkDirectory: rel, size: size, fingerprint: fingerprint),
                video: cache.video, frameCount: cache.index.frameCount, settings: settings, scene: scene,
                versions: .installed, chunks: chunks)
            try m.validate()
            if try !AtomicFile.publishJSONExclusive(m, to: dir.manifest, staging: dir.staging) {
                throw EncodaError(.workDirectory, "another coordinator created a job in TMP \(dir.root) at the same moment; re-run to join it")
            }
            manifest = m
        }

        let supervisor = WorkerSupervisor(directory: dir, manifest: manifest, workers: workers, threads: threads, quiet: c.quiet)
        var rounds = 0
        while true {
            let state = try supervisor.runUntilFinished()
            if !state.quarantined.isEmpty {
                let list = state.quarantined.keys.sorted().map { "chunk \(Chunk.name($0)) (frames \(manifest.chunks[$0].range)): \(state.quarantined[$0]!)" }
                throw EncodaError(.chunkFailed, "\(state.quarantined.count) chunk(s) failed for good: " + list.joined(separator: "; ") +
                                  ". The other \(state.done.count) chunks are kept in TMP; fix the cause, then `encoda clean TMP --quarantine` and re-run to retry them")
            }
            // Check every chunk against its record before joining; re-encode any that do not match.
            var bad: [Int] = []
            var pieces: [ChunkPiece] = []
            for chunk in manifest.chunks {
                guard let r = state.done[chunk.id] else { bad.append(chunk.id); continue }
                let piece = ChunkPiece(chunk: chunk, path: dir.chunkFile(named: r.file), bytes: r.bytes, crc32: r.crc32)
                if (try? Concatenator.verify(piece)) == nil { bad.append(chunk.id) }
                pieces.append(piece)
            }
            if !bad.isEmpty {
                rounds += 1
                if rounds > 2 { throw EncodaError(.stateCorrupt, "chunks \(bad.map(Chunk.name)) keep failing verification; check TMP's storage") }
                for id in bad {
                    Diagnostics.note("chunk \(Chunk.name(id)) does not match its result record; re-encoding it")
                    rename(dir.result(id), dir.result(id) + ".invalid-\(Token.make())")
                }
                continue
            }
            let started = Date()
            try Concatenator.run(manifest: manifest, index: cache.index, pieces: pieces, output: JobSetup.absolute(c.output))
            if !c.quiet {
                let secs = Date().timeIntervalSince(started)
                let size = (try? FileManager.default.attributesOfItem(atPath: c.output)[.size] as? Int64) ?? 0
                Diagnostics.note(String(format: "wrote %@: %d frames, %.1f MB (joined in %.1f s)", c.output, manifest.frameCount, Double(size) / 1e6, secs))
            }
            return
        }
    }
}

/// How many local workers and encoder threads each, so cores are busy but not oversubscribed.
enum WorkerBudget {
    static func choose(requestedWorkers: Int?, requestedThreads: Int?, video: VideoFacts) -> (workers: Int, threads: Int) {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        // Rough peak of one encoder at this size (SVT-AV1 lookahead dominates): ~600 bytes per pixel.
        let perWorker = max(256e6, Double(video.width * video.height) * 600)
        let byMemory = max(1, Int(memory * 0.7 / perWorker))
        let workers = requestedWorkers ?? max(1, min(cores, byMemory))
        let threads = requestedThreads ?? max(1, cores / max(1, workers))
        return (workers, threads)
    }
}
