/// The part of the frame index one chunk's decode reads, so a worker needs job.json alone, never scenes.json.
///
/// `ChunkFrameSource` seeks to the keyframe at or before the chunk start; when the decode does not line up it steps
/// back one keyframe at a time, at most three times, and then starts from the first keyframe. So the slice holds the
/// first keyframe and the four at or before the chunk start (their timestamps and byte positions), and the
/// timestamps of the chunk's frames and of the one frame before it: a frame decoded before that is skipped whether
/// it is recognised or not, exactly as with the whole index, and a frame after the chunk is known to be after it.
public struct FrameIndexSlice: Codable, Sendable, Hashable, FrameLookup {
    /// How many keyframes before the chunk start the slice keeps (the tries before the first keyframe).
    public static let keyframesBefore = 4

    /// Frame number of `pts[0]`: the chunk start, or the frame before it.
    public var first: Int
    /// Timestamps of frames `first ..< first + pts.count`, in the video stream's time base.
    public var pts: [Int64]
    /// Keyframes a decode may start from, ascending: INPUT's first one and those at or before the chunk start.
    public var keyframes: [Int]
    /// Their timestamps and byte positions (-1 where the demuxer did not say), parallel to `keyframes`.
    public var keyframeTimestamps: [Int64]
    public var keyframePositions: [Int64]
    public var timestampsReliable: Bool
    public var seeksByByte: Bool

    public init(first: Int, pts: [Int64], keyframes: [Int], keyframeTimestamps: [Int64], keyframePositions: [Int64],
                timestampsReliable: Bool, seeksByByte: Bool) {
        self.first = first; self.pts = pts; self.keyframes = keyframes; self.keyframeTimestamps = keyframeTimestamps
        self.keyframePositions = keyframePositions; self.timestampsReliable = timestampsReliable; self.seeksByByte = seeksByByte
    }

    /// The slice of `index` that a decode of `range` reads. `reliable`: `index.timestampsReliable`, passed in so
    /// that a plan of many chunks checks the timestamps once.
    public static func of(_ index: FrameIndex, range: FrameRange, reliable: Bool) -> FrameIndexSlice {
        let first = max(0, range.start - 1)
        var ordinals: [Int] = []
        if !index.keyframes.isEmpty {
            let at = index.keyframeOrdinal(atOrBefore: range.start)
            ordinals = Array(Set([0] + (max(0, at - keyframesBefore + 1)...at))).sorted()
        }
        let positions = index.keyframePositions
        return FrameIndexSlice(
            first: first, pts: Array(index.pts[first..<range.end]), keyframes: ordinals.map { index.keyframes[$0] },
            keyframeTimestamps: ordinals.map { index.pts[index.keyframes[$0]] },
            keyframePositions: ordinals.map { o in positions.map { o < $0.count ? $0[o] : -1 } ?? -1 },
            timestampsReliable: reliable, seeksByByte: index.seeksByByte)
    }

    /// The first frame after the slice.
    public var end: Int { first + pts.count }

    public func timestamp(_ frame: Int) -> Int64 {
        if frame >= first && frame < end { return pts[frame - first] }
        if let k = keyframes.firstIndex(of: frame) { return keyframeTimestamps[k] }
        preconditionFailure("frame \(frame) is not in the frame index slice \(first)..<\(end)")
    }

    /// A timestamp past the slice's last one belongs to a frame after the chunk (timestamps increase where they are
    /// used): its number is given as `end`, which is after the chunk start whatever it truly is.
    public func position(of timestamp: Int64) -> Int? {
        guard let last = pts.last else { return nil }
        if timestamp > last { return end }
        var lo = 0, hi = pts.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if pts[mid] == timestamp { return first + mid }
            if pts[mid] < timestamp { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    public func keyframe(atOrBefore frame: Int) -> Int {
        keyframes.isEmpty ? 0 : keyframes[keyframeOrdinal(atOrBefore: frame)]
    }

    public func keyframeOrdinal(atOrBefore frame: Int) -> Int {
        keyframes.lastIndex { $0 <= frame } ?? 0
    }

    public func keyframe(ordinal: Int) -> (frame: Int, bytePosition: Int64) { (keyframes[ordinal], keyframePositions[ordinal]) }
}
