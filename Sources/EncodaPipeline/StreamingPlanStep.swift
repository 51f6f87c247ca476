import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// The plan of a job made while its analysis runs (`--segmented-analysis`, unless `StreamingPlanStep.obstacle`):
/// job.json is written as soon as the packet index and the sampled crop are known, without chunks
/// (`JobManifest.planStreaming`); the workers measure the analysis segments and encode the chunks planned so far
/// (`WorkerRun.followStreamingPlan`), and the coordinator, on each poll, feeds the newly published segments to a
/// `StreamingPlanner` and publishes each chunk it returns as a `PlanRecord` in TMP/plan. When the last chunk is
/// published, the segments are put together into the scene cache a whole pass stores, the crop is confirmed, and the
/// chunks are checked against the plan made from that cache: they are the same by construction
/// (StreamingPlannerTests), and a difference stops the job rather than encode a plan nobody made. job.json is then
/// replaced by the whole plan, so a finished (or resumed) job reads as one planned after its analysis.
///
/// Not Sendable: the coordinator's polling thread owns it.
final class PlanStreamer {
    let prepared: SegmentedAnalysisStep.Prepared
    let dir: WorkDirectory
    let input: String
    let fingerprint: String
    let scene: SceneSettings
    /// The plan as published so far (job.json and TMP/plan).
    private(set) var manifest: JobManifest
    /// Once the last chunk is published: the whole analysis (also in scenes.json).
    private(set) var cache: SceneCache? = nil
    private var planner: StreamingPlanner
    private let segments: SegmentView
    /// Records read so far, by segment id.
    private var records: [Int: SegmentMeasurements] = [:]

    init(prepared: SegmentedAnalysisStep.Prepared, manifest: JobManifest, dir: WorkDirectory, input: String, fingerprint: String) throws {
        self.prepared = prepared; self.manifest = manifest; self.dir = dir; self.input = input; self.fingerprint = fingerprint
        scene = manifest.scene
        let index = prepared.preview.index
        planner = StreamingPlanner(frameCount: index.frameCount, frameRate: manifest.video.frameRate, keyframes: index.keyframes,
                                   settings: manifest.scene)
        segments = SegmentView(analysis: dir.analysis, segments: prepared.manifest.segments.count)
    }

    /// Why the request's plan cannot stream (said in a note), nil when it can.
    static func obstacle(_ c: EncodeRequest, settings: EncodeSettings, prepared: SegmentedAnalysisStep.Prepared, input: String) throws -> String? {
        if let o = StreamingPlanner.obstacle(bitRate: settings.bitRate, scenesFile: c.scenesJSON, timeline: c.timeline != nil) { return o.rawValue }
        if settings.autoGrain == true { return "--auto-grain measures every chunk before the plan is written" }
        if try SegmentAssembly.containerSaysInterlaced(input: input, video: prepared.preview.video) {
            return "INPUT's container says it is interlaced, and its field order is decided from every frame"
        }
        return nil
    }

    /// What the scene cache holds before any segment is measured: the packet index, the stream's facts, the sampled
    /// crop. Enough to decide the settings, the picture and the mux; no cut.
    static func provisionalCache(_ p: SegmentedAnalysisStep.Prepared, fingerprint: String, scene: SceneSettings) -> SceneCache {
        SceneCache(fingerprint: fingerprint, video: p.preview.video, index: p.preview.index, changes: [], settings: scene, cuts: [],
                   crop: p.sampledCrop)
    }

    /// The job's plan once the analysis is complete and every chunk is published.
    var isComplete: Bool { manifest.planStreaming != true && cache != nil }

    /// Takes in the segments published since the last call and publishes the chunks they make final. Returns the
    /// plan when it grew (nil: nothing new).
    func advance() throws -> JobManifest? {
        guard !isComplete else { return nil }
        if let q = dir.analysis.chunkIDs(in: dir.analysis.quarantine, suffix: ".json").min() {
            throw SegmentedAnalysisStep.quarantined(q, dir: dir)
        }
        segments.refresh()
        let fresh = segments.published.filter { records[$0] == nil }.sorted()
        guard !fresh.isEmpty || (planner.isComplete && cache == nil) else { return nil }
        var chunks: [Chunk] = []
        for id in fresh {
            let r = try SegmentedAnalysisStep.record(id, of: prepared.manifest, dir: dir)
            records[id] = r
            // A segment's first change needs the segment before it (the planes either side of the boundary); the
            // next segment's first change needs this one.
            chunks += try feed(id)
            if records[id + 1] != nil { chunks += try feed(id + 1) }
        }
        let complete = planner.isComplete
        if complete {
            let all = try prepared.manifest.segments.map { e in
                guard let r = records[e.segment.id] else { throw EncodaError(.internalError, "segment \(e.segment.name) planned but not read") }
                return r
            }
            let whole = try SegmentedAnalysisStep.assemble(prepared, records: all, input: input, fingerprint: fingerprint, dir: dir, scene: scene)
            guard whole.video == manifest.video else {
                throw EncodaError(.inputUnsupported, "INPUT's frames turned out \(whole.video.interlacing.map { $0.topFieldFirst ? "interlaced, top field first" : "interlaced, bottom field first" } ?? "other than its packets said") while the job was planned from its packets; re-run with --restart --no-segmented-analysis")
            }
            cache = whole
        }
        let made = PlanRecord.make(jobID: manifest.jobID, chunks: chunks, index: cache?.index ?? prepared.preview.index, complete: complete)
        // Published in plan order: a worker reads them in that order and stops at the first name missing.
        try PlanStream.publish(made, in: dir)
        let before = manifest.chunks.count
        manifest = try manifest.appending(made.filter { $0.chunk.id >= before })
        if complete, let cache {
            // The same chunks as a plan made from the whole analysis: proven by construction, checked here.
            let (cuts, _) = try JobSetup.cuts(cache: cache, scene: scene, scenesJSON: nil, quiet: true, within: nil)
            let (shots, maxFrames) = JobSetup.shots(cache: cache, cuts: cuts, scene: scene, range: nil)
            let whole = JobSetup.plan(cache: cache, shots: shots, maxFrames: maxFrames)
            guard whole == manifest.chunks else {
                throw EncodaError(.internalError, "the plan made while INPUT was analysed (\(manifest.chunks.count) chunks) differs from the plan of the whole analysis (\(whole.count) chunks); re-run with --restart --no-segmented-analysis, and report this")
            }
            // job.json now holds the whole plan, as a job planned after its analysis does: readers that still hold
            // the streaming one reach the same plan through TMP/plan (they stay), and each rename is atomic.
            try manifest.validate()
            try AtomicFile.writeJSON(manifest, to: dir.manifest, staging: dir.staging)
        }
        return manifest
    }

    /// Feeds segment `id`'s changes, once its first change can be measured.
    private func feed(_ id: Int) throws -> [Chunk] {
        guard let r = records[id] else { return [] }
        var changes = r.changes
        if r.frames.start > 0 {
            guard let before = records[id - 1] else { return [] }
            changes[0] = try SegmentAssembly.boundaryChange(before: before.edges, after: r)
        }
        return try planner.feed(changes: changes, from: r.frames.start)
    }
}
