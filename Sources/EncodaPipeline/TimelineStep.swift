import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// Which outputs of a timeline job are written: TMP/joined.json, so a re-run neither joins them again nor refuses
/// them as existing files.
public struct JoinedOutputs: Codable {
    var jobID: String
    /// Path → bytes written; -1 while it is being joined (written before the join begins, so a run killed between
    /// the join's rename and this record still knows the file is its own).
    var outputs: [String: Int64]

    static func path(_ dir: WorkDirectory) -> String { dir.root + "/joined.json" }

    /// The outputs job `jobID` wrote and that are still as it wrote them (read only: for `status`).
    public static func written(_ dir: WorkDirectory, jobID: String) -> Set<String> {
        guard let r = try? JSONCoding.read(JoinedOutputs.self, from: path(dir), what: "joined outputs"), r.jobID == jobID else { return [] }
        return Set(r.outputs.filter { p, bytes in
            bytes >= 0 && ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? -1) == bytes
        }.keys)
    }

    /// The outputs the job in TMP wrote (or was writing) and that are still as it wrote them.
    public static func intact(tmp: String) -> Set<String> {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        guard let r = try? JSONCoding.read(JoinedOutputs.self, from: path(dir), what: "joined outputs"),
              let m = try? JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest"), m.jobID == r.jobID else { return [] }
        return Set(r.outputs.filter { p, bytes in
            bytes < 0 || ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? -1) == bytes
        }.keys)
    }
}

enum TimelineStep {
    /// The timeline's clips as frames of INPUT with their files; errors name the clip.
    static func outputs(_ loaded: EncodeRequest.Timeline, cache: SceneCache) throws -> [ClipOutput] {
        let ranges = try loaded.timeline.resolve(inputRate: cache.video.frameRate, inputFrames: cache.index.frameCount,
                                                 timelineStart: loaded.start)
        return zip(ranges, loaded.paths).map { ClipOutput(clip: $0.name, path: $1, range: $0.range) }
    }

    /// A note when INPUT carries a start timecode other than the timeline's start and no `--timeline-start` was
    /// given: frame 0 of INPUT is then the timeline's start, which is right for a render that begins at the
    /// timeline's first frame but puts every clip early or late by the difference when the render begins elsewhere.
    static func startNote(_ loaded: EncodeRequest.Timeline, cache: SceneCache) -> String? {
        guard loaded.start == nil, let text = cache.video.timecode, let tc = SMPTETimecode(parsing: text),
              let inputFrame = try? tc.frameNumber(rate: cache.video.frameRate, option: "INPUT's timecode") else { return nil }
        let timelineFrame: Int
        switch loaded.timeline.start {
        case .frames(let f): timelineFrame = Int(f.rounded())
        case .timecode(let t): guard let f = try? t.frameNumber(rate: cache.video.frameRate, option: "the timeline's start") else { return nil }; timelineFrame = f
        }
        guard timelineFrame != inputFrame else { return nil }
        let label = SMPTETimecode.label(frame: timelineFrame, rate: cache.video.frameRate, dropFrame: tc.dropFrame)
        return "INPUT's timecode starts at \(text), the timeline at \(label); frame 0 of INPUT is taken as the timeline's start (\(label)). If the render begins at \(text), give --timeline-start \(text)"
    }

    /// One plan for every clip: each clip's range planned as a trim is, chunk ids running on across clips.
    static func plan(cache: SceneCache, cuts: [Int], scene: SceneSettings, outputs: [ClipOutput]) -> [Chunk] {
        var chunks: [Chunk] = []
        for o in outputs {
            let (shots, maxFrames) = JobSetup.shots(cache: cache, cuts: cuts, scene: scene, range: o.range)
            for c in JobSetup.plan(cache: cache, shots: shots, maxFrames: maxFrames) {
                chunks.append(Chunk(id: chunks.count, range: c.range, shotStarts: c.shotStarts))
            }
        }
        return chunks
    }

    /// Lines for --dry-run: one per clip.
    static func describe(_ outputs: [ClipOutput]) -> String {
        outputs.enumerated().map { i, o in
            "clip \(i + 1)/\(outputs.count): \"\(o.clip)\" frames \(o.range.start)–\(o.range.end - 1) (\(o.range.count)) -> \(o.path)"
        }.joined(separator: "\n")
    }
}

/// Joins each clip's output as soon as all of its chunks are done: polled by the supervisor while the workers go on
/// with the other clips, and once more when every chunk is done.
final class ClipJoiner {
    let dir: WorkDirectory
    let manifest: JobManifest
    let outputs: [ClipOutput]
    let cache: SceneCache
    let quiet: Bool
    /// With `--mux`: each clip's other streams, prepared right before its join.
    var audio: ClipAudio?
    private var record: JoinedOutputs

    init(dir: WorkDirectory, manifest: JobManifest, cache: SceneCache, quiet: Bool) {
        self.dir = dir; self.manifest = manifest; self.outputs = manifest.outputs ?? []; self.cache = cache; self.quiet = quiet
        var r = (try? JSONCoding.read(JoinedOutputs.self, from: JoinedOutputs.path(dir), what: "joined outputs")) ?? JoinedOutputs(jobID: manifest.jobID, outputs: [:])
        if r.jobID != manifest.jobID { r = JoinedOutputs(jobID: manifest.jobID, outputs: [:]) }
        // An output changed or removed since it was written is written again, and so is one whose join was cut short
        // (-1: a missing file's size reads as -1 too, which kept such a clip as "written" and lost it).
        r.outputs = r.outputs.filter { p, bytes in
            bytes >= 0 && ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? -1) == bytes
        }
        record = r
        if !quiet && !r.outputs.isEmpty {
            Report.note("\(r.outputs.count) of \(outputs.count) clips already written; they are kept")
        }
    }

    var pending: [Int] { outputs.indices.filter { record.outputs[outputs[$0].path] == nil } }
    var allJoined: Bool { pending.isEmpty }

    /// Joins every clip whose chunks are all done in `state`. A chunk that does not match its record is thrown
    /// (`ChunkMismatch`) for the caller to have it encoded again.
    func joinReady(_ state: JobState) throws {
        for i in pending {
            let m = manifest.forOutput(i)
            let pieces = m.chunks.compactMap { chunk in
                state.done[chunk.id].map { ChunkPiece(chunk: chunk, path: dir.chunkFile(named: $0.file), bytes: $0.bytes, crc32: $0.crc32) }
            }
            guard pieces.count == m.chunks.count else { continue }
            let o = outputs[i]
            let sides = try audio?.sides(i)
            record.outputs[o.path] = -1
            try AtomicFile.writeJSON(record, to: JoinedOutputs.path(dir), staging: dir.staging)
            try Concatenator.run(manifest: m, index: cache.index, pieces: pieces, output: o.path, sides: sides)
            let size = (try? FileManager.default.attributesOfItem(atPath: o.path)[.size] as? Int64) ?? 0
            record.outputs[o.path] = size
            try AtomicFile.writeJSON(record, to: JoinedOutputs.path(dir), staging: dir.staging)
            audio?.discard(i)
            if !quiet {
                Report.note("clip \(i + 1)/\(outputs.count) \"\(o.clip)\": \(o.range.count) frames, \(JobCleaner.size(size)) -> \(o.path)")
            }
        }
    }

    /// For the supervisor's polling, with its state: joins what is ready; a mismatching chunk is rejected (the workers
    /// still running encode it again). Stops the job only for another failure, or a chunk that keeps failing.
    func poll(_ state: JobState, rejected: RejectedChunks) -> Error? {
        do { try joinReady(state) } catch let mismatch as ChunkMismatch {
            do { try rejected.reject(mismatch) } catch { return error }
        } catch {
            return error
        }
        return nil
    }

    /// Removes partial outputs dead coordinators left beside the clips' files.
    func prune() {
        for o in outputs { JobCleaner.pruneBeforeJoin(dir, manifest: manifest, output: o.path, quiet: quiet) }
    }

    func removeRecord() { _ = try? FileSystem.unlinkIfPresent(JoinedOutputs.path(dir)) }
}
