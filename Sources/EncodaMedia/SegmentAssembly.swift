import EncodaFFmpeg
import EncodaModel
import Foundation

/// Segment measurements (`SegmentAnalyser`) put together into the scene cache a whole-file pass
/// (`ScenePass.run(input:encoder:)`) would have stored for the same INPUT: the same changes bit for bit, the same
/// frame index, the same stream facts with their interlacing, `analysed` nil. A set that does not tile INPUT's
/// frames exactly, a timestamp that disagrees with the index, or a record without its frame facts is refused, and
/// so is what the whole pass refuses at a frame (a picture or field order that changes), with the same message.
public enum SegmentAssembly {
    /// The cache from `segments` (any order, each frame in exactly one) and the `preview` they were planned from.
    /// `input` is read once for the container's field order; `fingerprint` and `settings` are the job's, and the
    /// cuts are detected from the assembled changes as after a whole pass. Border samples are not part of segment
    /// analysis: `crop` is nil.
    public static func cache(input: String, preview: ScenePass.Preview, segments: [SegmentMeasurements],
                             fingerprint: String, settings: SceneSettings) throws -> SceneCache {
        var index = preview.index
        let n = index.frameCount
        let ordered = segments.sorted { $0.frames.start < $1.frames.start }
        var changes: [Double] = []
        changes.reserveCapacity(n)
        var next = 0
        var decoded = preview.framesDecoded
        var before: SegmentEdges? = nil
        for s in ordered {
            let r = s.frames
            guard r.count > 0, s.changes.count == r.count, s.pts.count == r.count, s.durations.count == r.count else {
                throw EncodaError(.stateCorrupt, "the analysis of frames \(r) holds \(s.changes.count) changes and \(s.pts.count) timestamps for \(r.count) frames; it is damaged")
            }
            if r.start > next {
                throw EncodaError(.stateCorrupt, "frames \(FrameRange(next, min(r.start, n))) of INPUT were not analysed: no segment holds them")
            }
            if r.start < next {
                throw EncodaError(.stateCorrupt, "two analysis segments hold frames \(FrameRange(r.start, min(next, r.end))): segments must not overlap")
            }
            guard r.end <= n else {
                throw EncodaError(.stateCorrupt, "the analysis of frames \(r) goes past INPUT's \(n) frames; it belongs to another INPUT")
            }
            for (i, t) in s.pts.enumerated() where t != index.pts[r.start + i] {
                throw EncodaError(.inputDamaged, "INPUT frame \(r.start + i) decoded with timestamp \(t) where the packet index says \(index.pts[r.start + i]); the file changed since it was indexed or is damaged")
            }
            var measured = s.changes
            if r.start > 0 { measured[0] = try boundaryChange(before: before, after: s) }
            before = s.edges
            changes += measured
            decoded += s.framesDecoded
            next = r.end
        }
        if next < n {
            throw EncodaError(.stateCorrupt, "frames \(FrameRange(next, n)) of INPUT were not analysed: no segment holds them")
        }
        let facts = try ordered.map { s in
            guard let f = s.frameFacts else {
                throw EncodaError(.stateCorrupt, "the analysis of frames \(s.frames) lacks its frame facts (picture, field order); analyse that segment again")
            }
            return (s.frames, f)
        }
        let (probe, _) = try InputProbe.open(input)
        let containerTopFirst = FrameConsistency.containerTopFirst(probe.parameters(of: preview.video.streamIndex).fieldOrder)
        try refuseWhatAWholePassRefuses(input: input, index: index, timeBase: preview.video.timeBase, facts: facts)

        // The whole pass keeps the decoder's duration of the last frame (the others follow from the timestamps).
        if let last = ordered.last?.durations.last { index.durations[n - 1] = last }
        var video = preview.video
        video.interlacing = Interlacing.decide(tffFrames: facts.reduce(0) { $0 + $1.1.topFirstFrames },
                                               bffFrames: facts.reduce(0) { $0 + $1.1.bottomFirstFrames },
                                               containerTopFirst: containerTopFirst)
        var cache = SceneCache(fingerprint: fingerprint, video: video, index: index, changes: changes, settings: settings,
                               cuts: CutDetector.cuts(changes: changes, settings: settings))
        cache.framesDecoded = decoded
        return cache
    }

    /// INPUT's container says its video is interlaced (a field order): then only the decoded frames can say how, and
    /// a plan that streams, made before they are, is not made.
    public static func containerSaysInterlaced(input: String, video: VideoFacts) throws -> Bool {
        let (probe, _) = try InputProbe.open(input)
        return FrameConsistency.containerTopFirst(probe.parameters(of: video.streamIndex).fieldOrder) != nil
    }

    /// The change of segment `after`'s first frame (not frame 0), as a whole pass measures it: from the analysis
    /// planes either side of the boundary (`before`'s last, `after`'s first: `SegmentEdges`).
    public static func boundaryChange(before: SegmentEdges?, after s: SegmentMeasurements) throws -> Double {
        guard let a = before, let b = s.edges, a.width == b.width, a.height == b.height,
              a.last.count == a.width * a.height, b.first.count == b.width * b.height else {
            throw EncodaError(.stateCorrupt, "the analysis of frames \(s.frames) lacks the analysis planes at its boundary; analyse that segment again")
        }
        return LumaChangeMeter.change(from: [UInt8](a.last), to: [UInt8](b.first), width: b.width, height: b.height, gain: b.firstGain)
    }

    /// The first frame at which a whole pass would stop (`FrameConsistency`): a picture unlike frame 0's, or a frame
    /// interlaced in the other order than the first interlaced one; the picture check first at the same frame.
    private static func refuseWhatAWholePassRefuses(input: String, index: FrameIndex, timeBase: Rational,
                                                    facts: [(FrameRange, SegmentFrameFacts)]) throws {
        guard let reference = facts.first?.1.picture else { return }
        let seconds = { (frame: Int) in Double(index.pts[frame] - index.pts[0]) * timeBase.doubleValue }
        let describe = { (p: DecodedPicture) in "\(p.width)x\(p.height) \(p.pixelFormat)" }
        var pictureChange: (frame: Int, picture: DecodedPicture)?
        for (range, f) in facts {
            if f.picture != reference { pictureChange = (range.start, f.picture); break }
            if let at = f.pictureChangeFrame, let p = f.changedPicture { pictureChange = (at, p); break }
        }
        let firstTop = facts.compactMap(\.1.firstTopFirst).min(), firstBottom = facts.compactMap(\.1.firstBottomFirst).min()
        var orderChange: (frame: Int, first: Int, firstTop: Bool)?
        if let t = firstTop, let b = firstBottom { orderChange = t < b ? (b, t, true) : (t, b, false) }
        if let p = pictureChange, p.frame <= orderChange?.frame ?? Int.max {
            throw FrameConsistency.pictureChangeError(input: input, frame: p.frame, seconds: seconds(p.frame),
                                                      from: describe(reference), to: describe(p.picture))
        }
        if let o = orderChange {
            throw FrameConsistency.fieldOrderError(input: input, frame: o.frame, seconds: seconds(o.frame), first: o.first,
                                                   firstSeconds: seconds(o.first), firstTopFirst: o.firstTop)
        }
    }

    /// The border samples of every segment together (`SegmentMeasurements.borders`), in frame order; nil when a
    /// segment has none.
    public static func borders(_ segments: [SegmentMeasurements], video: VideoFacts) -> CropAnalysis? {
        var frames: [Int] = [], areas: [CropRect?] = []
        for s in segments.sorted(by: { $0.frames.start < $1.frames.start }) {
            guard let b = s.borders else { return nil }
            frames += b.frames; areas += b.areas
        }
        return CropAnalysis(width: video.width, height: video.height, frames: frames, areas: areas)
    }
}
