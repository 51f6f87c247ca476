import Foundation

/// One piece of INPUT's analysis, leased to a worker like a chunk: the frames `frames` are measured, decoding from the
/// source keyframe at or before the frame before them (`frames.start - 1`), so that the change of `frames.start` is
/// measured against its real predecessor and every frame's score equals a whole-file pass's.
public struct AnalysisSegment: Codable, Sendable, Hashable {
    /// 0-based, in frame order.
    public var id: Int
    /// The frames this segment measures (its first frame is a source keyframe).
    public var frames: FrameRange
    public init(id: Int, frames: FrameRange) { self.id = id; self.frames = frames }
    public var name: String { String(format: "%05d", id) }
}

/// What the analysis of one segment measured: the values a whole-file scene pass records for these frames.
public struct SegmentMeasurements: Codable, Sendable, Hashable {
    public var frames: FrameRange
    /// `changes[i]` belongs to frame `frames.start + i` (the same measurement as `SceneCache.changes`).
    public var changes: [Double]
    /// The decoded frames' timestamps and durations, in the stream's time base, as the decoder returned them; the
    /// analyser has checked them against the packet index.
    public var pts: [Int64]
    public var durations: [Int64]
    /// Frames the decoder returned (those measured, the frame before, and those from the keyframe before).
    public var framesDecoded: Int
    public init(frames: FrameRange, changes: [Double], pts: [Int64], durations: [Int64], framesDecoded: Int) {
        self.frames = frames; self.changes = changes; self.pts = pts; self.durations = durations; self.framesDecoded = framesDecoded
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
