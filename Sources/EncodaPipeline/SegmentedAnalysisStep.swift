import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation
import Synchronization

/// `--segmented-analysis` (the default): INPUT's analysis as leased segments instead of one decode in the coordinator. The packet
/// index (`ScenePass.preview`) cuts INPUT into segments (`AnalysisSegmentPlanner`), written once as analysis.json;
/// the coordinator's local workers, threads of this process here, and any `encoda worker TMP` on other hosts claim
/// them (`SegmentWorker`); once every segment is published, the records are put together into the scene cache a
/// whole pass stores (`SegmentAssembly`), and the job is planned from it as today. A re-run reuses every published
/// segment.
enum SegmentedAnalysisStep {
    /// With `--workers 0` the hosts that will analyse are not known when the segments are cut: cut them for this many
    /// (at least 4 segments each). A segment decodes only its own frames, so more segments cost little on fewer hosts.
    static let remoteWorkersAssumed = 4

    /// The first segments' size: two shortest chunks (`JobPlanner.minimumChunkFrames`), so the first chunks can be
    /// planned as soon as they are measured (`AnalysisSegmentPlanner`'s ramp).
    static func firstSegmentFrames(_ rate: Rational) -> Int { 2 * JobPlanner.minimumChunkFrames(frameRate: rate) }

    /// Analyses the segments of `prepared` (segment workers in this process, and any other worker) and puts them
    /// together into the scene cache.
    static func finish(_ prepared: Prepared, input: String, fingerprint: String, dir: WorkDirectory, scene: SceneSettings,
                       quiet: Bool) throws -> SceneCache {
        let analysed = try analyse(prepared.manifest, input: input, dir: dir, workers: prepared.workers, threads: prepared.threads)
        let cache = try assemble(prepared, records: try records(prepared.manifest, dir: dir), input: input, fingerprint: fingerprint,
                                 dir: dir, scene: scene)
        if !quiet {
            Report.note(String(format: "segmented analysis: %d segments (%d analysed here) in %.1f s, %d cuts", prepared.manifest.segments.count,
                               analysed, Date().timeIntervalSince(prepared.started), cache.cuts.count))
        }
        return cache
    }

    /// The whole analysis of this INPUT stored in TMP by an earlier run, if any.
    static func cached(dir: WorkDirectory, fingerprint: String, needCrop: Bool) -> SceneCache? {
        guard let cached = try? JSONCoding.read(SceneCache.self, from: dir.sceneCache, what: "scene cache"),
              cached.fingerprint == fingerprint, cached.analysisVersion == SceneCache.analysisVersion, cached.analysed == nil,
              !needCrop || cached.crop != nil, (try? cached.validate()) != nil else { return nil }
        return cached
    }

    /// What the packet index gives before any segment is measured.
    struct Prepared {
        var preview: ScenePass.Preview
        /// analysis.json as TMP holds it (this run's, or the one an earlier run of the job published).
        var manifest: AnalysisManifest
        /// --autocrop: the crop measured from frames sought across INPUT (`CropSampler`).
        var sampledCrop: CropAnalysis?
        /// Segment workers this process runs (0: --workers 0), and their decoder threads.
        var workers: Int
        var threads: Int
        var started: Date
    }

    /// Reads the packet index, cuts the segments and publishes analysis.json (or finds the one in TMP), and with
    /// --autocrop measures the crop from frames sought across INPUT. Nil when the packets cannot number INPUT's
    /// frames: said in a note when `--segmented-analysis` was `asked` for (by default the whole pass is simply the way).
    static func prepare(input: String, fingerprint: String, dir: WorkDirectory, encoder: EncoderKind, farm: FarmSettings,
                        workers: Int?, threads: Int?, needCrop: Bool, asked: Bool, quiet: Bool) throws -> Prepared? {
        let (found, reason) = try ScenePass.preview(input: input, encoder: encoder)
        guard let preview = found, preview.index.timestampsReliable, !preview.index.seeksByByte else {
            if asked && !quiet { Report.note("--segmented-analysis: analysing INPUT in one pass: \(reason ?? "its timestamps do not identify its frames")") }
            return nil
        }
        let budget = WorkerBudget.choose(requestedWorkers: workers, requestedThreads: threads, video: preview.video)
        let count = budget.workers // 0 (--workers 0): only coordinate; workers elsewhere analyse
        let size = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? NSNumber)?.int64Value ?? 0
        var planned = AnalysisManifest(
            jobID: "analysis-" + Token.make(), createdAt: Date().timeIntervalSince1970,
            input: InputReference(absolutePath: input,
                                  pathRelativeToWorkDirectory: JobSetup.relativePath(from: dir.root, to: input).flatMap { PathSafety.isInputPathInSharedFolder($0) ? $0 : nil },
                                  size: size, fingerprint: fingerprint),
            video: preview.video, index: preview.index, farm: farm,
            segments: AnalysisSegmentPlanner.segments(index: preview.index, workers: count > 0 ? count : remoteWorkersAssumed,
                                                      first: firstSegmentFrames(preview.video.frameRate)))
        planned.sampleBorders = needCrop ? true : nil
        try planned.validate()
        try dir.prepare()
        let manifest = try dir.publishAnalysisManifest(planned)
        guard manifest.input.fingerprint == fingerprint, manifest.frameCount == preview.index.frameCount else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds the analysis of another input (\(manifest.input.absolutePath)); use --restart to discard it, or choose another TMP")
        }
        if needCrop && manifest.sampleBorders != true {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds an analysis made without --autocrop's border samples; re-run with --restart")
        }
        let started = Date()
        // --autocrop: the crop is decided from frames sought across INPUT before the segments are analysed (so that,
        // with a streaming plan, the first chunk need not wait for the whole analysis); the segments' own samples
        // may then only confirm it.
        let sampled = needCrop ? try CropSampler.measure(input: input, video: preview.video, index: preview.index,
                                                         frames: CropSampler.frames(frameCount: preview.index.frameCount,
                                                                                    keyframes: preview.index.keyframes)) : nil
        return Prepared(preview: preview, manifest: manifest, sampledCrop: sampled, workers: count, threads: max(1, budget.threads),
                        started: started)
    }

    /// The job's error when analysis segment `id` is quarantined (it failed on every try).
    static func quarantined(_ id: Int, dir: WorkDirectory) -> EncodaError {
        let why = (try? JSONCoding.read(ChunkFailure.self, from: dir.analysis.quarantineRecord(id), what: "quarantine record"))?.error ?? "failed too often"
        return EncodaError(.inputDamaged, "INPUT cannot be analysed: segment \(Chunk.name(id)) \(why)")
    }

    /// Every segment's record, in segment order, each checked against its segment.
    static func records(_ manifest: AnalysisManifest, dir: WorkDirectory) throws -> [SegmentMeasurements] {
        try manifest.segments.map { try record($0.segment.id, of: manifest, dir: dir) }
    }

    /// Segment `id`'s published record, checked against its segment.
    static func record(_ id: Int, of manifest: AnalysisManifest, dir: WorkDirectory) throws -> SegmentMeasurements {
        let r = try JSONCoding.read(SegmentRecord.self, from: dir.analysis.result(id), what: "segment record")
        guard manifest.accepts(r, for: id) else {
            throw EncodaError(.stateCorrupt, "the record of analysis segment \(Chunk.name(id)) does not match its segment; remove TMP/analysis/results/\(Chunk.name(id)).json and re-run")
        }
        return r.measurements
    }

    /// The records put together into the scene cache a whole pass stores (written to scenes.json), the sampled crop
    /// confirmed by the segments' border samples.
    static func assemble(_ prepared: Prepared, records: [SegmentMeasurements], input: String, fingerprint: String, dir: WorkDirectory,
                         scene: SceneSettings) throws -> SceneCache {
        var cache = try SegmentAssembly.cache(input: input, preview: prepared.preview, segments: records, fingerprint: fingerprint, settings: scene)
        if let sampled = prepared.sampledCrop {
            guard let full = SegmentAssembly.borders(records, video: prepared.preview.video) else {
                throw EncodaError(.workDirectory, "TMP \(dir.root) holds an analysis made without --autocrop's border samples; re-run with --restart")
            }
            if let why = CropSampler.disagreement(sampled: CropDetector.decide(sampled), full: full) {
                throw EncodaError(.inputUnsupported, "--autocrop cannot decide one crop for INPUT: \(why); give the crop with --crop W:H:X:Y, or leave out --autocrop")
            }
            cache.crop = sampled
        }
        try AtomicFile.writeJSON(cache, to: dir.sceneCache, staging: dir.staging)
        return cache
    }

    /// Runs `workers` segment workers in this process until every segment is published; throws if one is quarantined.
    private static func analyse(_ manifest: AnalysisManifest, input: String, dir: WorkDirectory, workers: Int, threads: Int) throws -> Int {
        let analyser = MediaSegmentAnalysing(input: input, manifest: manifest, threads: threads)
        var options = WorkerOptions()
        options.farm = manifest.farmSettings
        options.pollSeconds = 0.2
        if workers == 0 { Report.note("waiting for workers to analyse \(manifest.segments.count) segments (--workers 0)") }
        let segmentWorkers = (0..<workers).map { _ in
            SegmentWorker(directory: dir, manifest: manifest, analyser: analyser,
                          identity: WorkerIdentity(host: HostName.current, pid: getpid(), token: Token.make(), locality: ProcessLiveness.currentLocality),
                          options: options)
        }
        let errors = ErrorBox()
        let group = DispatchGroup()
        for w in segmentWorkers {
            group.enter()
            Thread {
                do { try w.run() } catch { errors.set(error) }
                group.leave()
            }.start()
        }
        group.wait()
        if let e = errors.first { throw e }
        let all = Set(manifest.segments.map(\.segment.id))
        while workers == 0, dir.analysis.chunkIDs(in: dir.analysis.quarantine, suffix: ".json").isEmpty,
              !all.isSubset(of: dir.analysis.chunkIDs(in: dir.analysis.results, suffix: ".json")) {
            Thread.sleep(forTimeInterval: 0.5)
        }
        if let q = dir.analysis.chunkIDs(in: dir.analysis.quarantine, suffix: ".json").min() { throw quarantined(q, dir: dir) }
        return segmentWorkers.reduce(0) { $0 + $1.analysed.count }
    }
}

/// The first error of several threads.
private final class ErrorBox: Sendable {
    private let value = Mutex<(any Error)?>(nil)
    func set(_ e: any Error) { value.withLock { if $0 == nil { $0 = e } } }
    var first: (any Error)? { value.withLock { $0 } }
}
