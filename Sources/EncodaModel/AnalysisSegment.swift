import Foundation

/// One piece of INPUT's analysis, leased to a worker like a chunk: the frames `frames` are decoded and measured,
/// from the source keyframe that starts them. The change of `frames.start` (against the frame before, which belongs
/// to the segment before) is computed when the segments are put together, from the two analysis planes at the
/// boundary that each record carries (`SegmentEdges`), so no frame is decoded twice and every frame's score equals
/// a whole-file pass's.
public struct AnalysisSegment: Codable, Sendable, Hashable {
    /// 0-based, in frame order.
    public var id: Int
    /// The frames this segment measures (its first frame is a source keyframe).
    public var frames: FrameRange
    public init(id: Int, frames: FrameRange) { self.id = id; self.frames = frames }
    public var name: String { String(format: "%05d", id) }

    /// The frames a worker decodes and delivers for this segment: its own (the boundary change comes from the
    /// neighbours' `SegmentEdges`).
    public var decoded: FrameRange { frames }

    /// The part of `index` a worker needs to analyse this segment (`SegmentAnalyser`), as a chunk's slice is all it
    /// needs to encode: the timestamps of `decoded` and the keyframes a seek to it may try. `reliable`:
    /// `index.timestampsReliable`, passed in so that planning many segments checks the timestamps once.
    public func indexSlice(of index: FrameIndex, reliable: Bool) -> FrameIndexSlice {
        FrameIndexSlice.of(index, range: decoded, reliable: reliable)
    }
}

/// What the analysis of one segment measured: the values a whole-file scene pass records for these frames.
public struct SegmentMeasurements: Codable, Sendable, Hashable {
    public var frames: FrameRange
    /// `changes[i]` belongs to frame `frames.start + i` (the same measurement as `SceneCache.changes`), except
    /// `changes[0]`, which is 0 here: the assembly computes it from the edges of this segment and the one before.
    public var changes: [Double]
    /// The decoded frames' timestamps and durations, in the stream's time base, as the decoder returned them; the
    /// analyser has checked them against the packet index.
    public var pts: [Int64]
    public var durations: [Int64]
    /// Frames the decoder returned (those measured, and any from the keyframe before when a segment does not start
    /// on one).
    public var framesDecoded: Int
    /// What the whole pass checks on every frame besides its pixels (picture and field order), so that the segments
    /// together give the whole pass's `VideoFacts.interlacing` and refuse what it refuses. Nil only in a record made
    /// without it, which `SegmentAssembly` does not take.
    public var frameFacts: SegmentFrameFacts?
    /// The analysis planes of the first and last frame, for the changes across the segment's boundaries.
    public var edges: SegmentEdges?
    /// Black-border measurements of the segment's frames whose number is a multiple of the file's sampling step
    /// (`--autocrop`: they confirm the crop decided from sampled frames); nil when not asked for.
    public var borders: CropAnalysis? = nil

    public init(frames: FrameRange, changes: [Double], pts: [Int64], durations: [Int64], framesDecoded: Int,
                frameFacts: SegmentFrameFacts? = nil, edges: SegmentEdges? = nil) {
        self.frames = frames; self.changes = changes; self.pts = pts; self.durations = durations; self.framesDecoded = framesDecoded
        self.frameFacts = frameFacts; self.edges = edges
    }
}

/// The small luma planes the scene pass measures changes on (`ScenePass.analysisWidth` wide), of a segment's first
/// and last frame, and the gain of its first frame's pixel format: enough to compute the change across a boundary
/// bit for bit as a pass over both frames would.
public struct SegmentEdges: Codable, Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var first: Data
    public var last: Data
    public var firstGain: Double
    public init(width: Int, height: Int, first: Data, last: Data, firstGain: Double) {
        self.width = width; self.height = height; self.first = first; self.last = last; self.firstGain = firstGain
    }
}

/// A decoded frame's picture: its size and libav pixel format name (e.g. "yuv420p").
public struct DecodedPicture: Codable, Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var pixelFormat: String
    public init(width: Int, height: Int, pixelFormat: String) { self.width = width; self.height = height; self.pixelFormat = pixelFormat }
}

/// The per-frame facts of one segment's frames that the whole pass gathers beside the measurements: the picture
/// (one size and pixel format per job) and the interlace flags (one field order per job, and the counts
/// `Interlacing.decide` weighs). Kept as counts and first occurrences, so that segments combine in frame order into
/// exactly what one pass over every frame finds, including the frame at which it refuses INPUT.
public struct SegmentFrameFacts: Codable, Sendable, Hashable {
    /// The picture of the segment's first frame.
    public var picture: DecodedPicture
    /// The first frame of the segment whose picture differs from `picture`, and that picture; nil when none does.
    public var pictureChangeFrame: Int?
    public var changedPicture: DecodedPicture?
    /// Frames flagged interlaced, top field first and bottom field first.
    public var topFirstFrames: Int
    public var bottomFirstFrames: Int
    /// The first frame flagged interlaced in each order.
    public var firstTopFirst: Int?
    public var firstBottomFirst: Int?

    public init(picture: DecodedPicture, pictureChangeFrame: Int? = nil, changedPicture: DecodedPicture? = nil,
                topFirstFrames: Int = 0, bottomFirstFrames: Int = 0, firstTopFirst: Int? = nil, firstBottomFirst: Int? = nil) {
        self.picture = picture; self.pictureChangeFrame = pictureChangeFrame; self.changedPicture = changedPicture
        self.topFirstFrames = topFirstFrames; self.bottomFirstFrames = bottomFirstFrames
        self.firstTopFirst = firstTopFirst; self.firstBottomFirst = firstBottomFirst
    }

    /// Counts frame `n` with this picture and interlace flags (frames offered in order, `picture` the first's).
    public mutating func offer(number n: Int, picture p: DecodedPicture, interlaced: Bool, topFieldFirst: Bool) {
        if pictureChangeFrame == nil && p != picture { pictureChangeFrame = n; changedPicture = p }
        guard interlaced else { return }
        if topFieldFirst {
            topFirstFrames += 1
            if firstTopFirst == nil { firstTopFirst = n }
        } else {
            bottomFirstFrames += 1
            if firstBottomFirst == nil { firstBottomFirst = n }
        }
    }
}

/// A published, immutable segment record: its measurements and who made them, when.
public struct SegmentRecord: Codable, Sendable {
    public var segment: AnalysisSegment
    public var measurements: SegmentMeasurements
    /// The worker's token and host.
    public var worker: String
    public var host: String
    /// Seconds since 1970 (the worker's clock), for `status` and the farm tests' ordering checks.
    public var startedAt: Double
    public var finishedAt: Double
    public init(segment: AnalysisSegment, measurements: SegmentMeasurements, worker: String, host: String,
                startedAt: Double, finishedAt: Double) {
        self.segment = segment; self.measurements = measurements; self.worker = worker; self.host = host
        self.startedAt = startedAt; self.finishedAt = finishedAt
    }
}
