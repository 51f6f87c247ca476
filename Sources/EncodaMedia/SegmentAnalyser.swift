import EncodaFFmpeg
import EncodaModel
import Foundation

/// The analysis of one segment of INPUT (`AnalysisSegment`), as a worker does it with what job.json gives it: INPUT's
/// path, the stream's facts and the segment's slice of the frame index (`AnalysisSegment.indexSlice`), never the
/// whole index.
///
/// It decodes the segment from its keyframe (`ChunkFrameSource`, which recognises every frame by its timestamp in the
/// slice and refuses one the index does not know) and measures every frame as the whole pass does (`LumaChangeMeter`,
/// same plane, same decode settings), so every value is the whole pass's, bit for bit; the change of its first frame
/// is left to `SegmentAssembly`, from the analysis planes at the boundary (`SegmentEdges`), so the frames of the
/// segment before are not decoded again. Beside the changes it records what the whole pass checks on each frame
/// (`SegmentFrameFacts`); judging those across segments is `SegmentAssembly`'s.
public enum SegmentAnalyser {
    /// Measures `segment`'s frames of `input`. `video`: the stream's facts as planned (`ScenePass.Preview.video`);
    /// `index`: the segment's slice, whose timestamps must identify frames (a packet index's do).
    /// `threads`: decoder threads (0: the CPUs granted); with 1, frames before the segment that nothing refers to are
    /// not decoded at all.
    /// `borderFrames`: the frame count of INPUT when its black borders are to be sampled too (`--autocrop`), every
    /// `frameCount / 120`-th frame as a whole pass over a file of that length samples them.
    public static func analyse(input: String, video: VideoFacts, segment: AnalysisSegment, index: FrameIndexSlice,
                               threads: Int = 0, borderFrames: Int? = nil) throws -> SegmentMeasurements {
        LibavLogging.configure()
        guard index.timestampsReliable, !index.seeksByByte else {
            throw EncodaError(.internalError, "segment \(segment.name) of INPUT \(input) cannot be analysed alone: its frame index does not identify frames by timestamp; analyse the whole file")
        }
        let range = segment.decoded
        guard range.count > 0, index.first <= range.start, index.end >= range.end else {
            throw EncodaError(.stateCorrupt, "segment \(segment.name) (frames \(segment.frames)) is not covered by its frame index slice (frames \(index.first)..<\(index.end))")
        }
        let frameStep = FrameClock.frameStep(video)
        let meter = LumaChangeMeter(sourceWidth: video.width, sourceHeight: video.height)
        var changes: [Double] = [], pts: [Int64] = [], durations: [Int64] = []
        changes.reserveCapacity(segment.frames.count); pts.reserveCapacity(segment.frames.count)
        durations.reserveCapacity(segment.frames.count)
        var facts: SegmentFrameFacts?
        var firstPlane: [UInt8] = [], firstGain = 1.0
        let borders = borderFrames.map { BorderSampler(width: video.width, height: video.height, step: BorderSampler.step(frames: $0)) }
        let source = ChunkFrameSource(input: input, video: video, index: index, range: range,
                                      threads: threads > 0 ? threads : CPUGrant.current.cpus, analysisOnly: true)
        try source.run { f, i in
            let change = try meter.measure(f)
            if i == 0 { firstPlane = meter.lastPlane; firstGain = meter.lastGain }
            let n = range.start + i
            try borders?.offer(f, number: n)
            changes.append(change)
            // ChunkFrameSource has proved the decoded timestamp equal to the index's.
            pts.append(index.timestamp(n))
            // As the whole pass takes a frame's duration (it keeps the last frame's).
            durations.append(f.duration > 0 ? f.duration : frameStep)
            let picture = DecodedPicture(width: f.width, height: f.height, pixelFormat: f.pixelFormat.description)
            if facts == nil { facts = SegmentFrameFacts(picture: picture) }
            facts?.offer(number: n, picture: picture, interlaced: f.isInterlaced, topFieldFirst: f.topFieldFirst)
        }
        let edges = SegmentEdges(width: meter.width, height: meter.height, first: Data(firstPlane), last: Data(meter.lastPlane),
                                 firstGain: firstGain)
        var measured = SegmentMeasurements(frames: segment.frames, changes: changes, pts: pts, durations: durations,
                                           framesDecoded: source.framesSkipped + range.count, frameFacts: facts, edges: edges)
        measured.borders = borders?.analysis
        return measured
    }
}
