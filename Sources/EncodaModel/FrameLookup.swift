/// What a chunk's decode needs from the frame index to reach and recognise its frames (`ChunkFrameSource`): the
/// whole index (`FrameIndex`, in the scene pass and on the coordinator) or one chunk's slice of it
/// (`FrameIndexSlice`, in job.json, all a worker reads). Frame numbers are INPUT's in both.
public protocol FrameLookup: Sendable {
    /// Frames are reached by seeking to a timestamp and recognised by it: the source's timestamps are its own and
    /// strictly increase. Otherwise frames are counted from the start (or from a byte position, `seeksByByte`).
    var timestampsReliable: Bool { get }
    /// Keyframes are reached by byte position and frames counted from there (see `FrameIndex.positionedByByte`).
    var seeksByByte: Bool { get }
    /// The timestamp of `frame`, which is a frame the lookup holds (see `FrameIndexSlice`).
    func timestamp(_ frame: Int) -> Int64
    /// The frame with exactly this timestamp, if the lookup holds one.
    func position(of timestamp: Int64) -> Int?
    /// The last keyframe at or before `frame` (the first keyframe when none is).
    func keyframe(atOrBefore frame: Int) -> Int
    /// The place of that keyframe among the lookup's keyframes, for `keyframe(ordinal:)`.
    func keyframeOrdinal(atOrBefore frame: Int) -> Int
    /// The keyframe at `ordinal`, and the byte position of its packet (-1 where unknown).
    func keyframe(ordinal: Int) -> (frame: Int, bytePosition: Int64)
}

extension FrameIndex: FrameLookup {
    public var timestampsReliable: Bool { seekable && hasUniqueIncreasingTimestamps }
    public func timestamp(_ frame: Int) -> Int64 { pts[frame] }

    public func position(of timestamp: Int64) -> Int? {
        var lo = 0, hi = pts.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let v = pts[mid]
            if v == timestamp { return mid }
            if v < timestamp { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    public func keyframe(ordinal: Int) -> (frame: Int, bytePosition: Int64) {
        (keyframes[ordinal], keyframePositions.map { ordinal < $0.count ? $0[ordinal] : -1 } ?? -1)
    }
}
