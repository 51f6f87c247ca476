/// Facts about the video stream that every stage needs, copied out of libav into a value.
public struct VideoFacts: Codable, Sendable, Hashable {
    public var width: Int
    public var height: Int
    /// libav pixel format name of the decoded frames, e.g. "yuv420p".
    public var pixelFormat: String
    public var bitDepth: Int
    public var timeBase: Rational
    /// The stream's average frame rate (or r_frame_rate when unknown).
    public var frameRate: Rational
    public var sampleAspectRatio: Rational
    /// H.273 code points as libav numbers them (AVColorPrimaries etc.); 2 = unspecified.
    public var colorPrimaries: Int
    public var colorTransfer: Int
    public var colorMatrix: Int
    /// AVColorRange: 0 unspecified, 1 limited (tv), 2 full (pc).
    public var colorRange: Int
    public var chromaLocation: Int
    public var codecName: String
    public var streamIndex: Int
    /// How the frames are made of fields, as the scene pass found it; nil for progressive video (and in scene
    /// caches and manifests written before it was recorded).
    public var interlacing: Interlacing?

    // What the source carries beside its pixels (see SourceMetadata.swift). Optional, so that scene caches and
    // manifests written before they were recorded still decode (as "none").
    /// Clockwise degrees (0…359) the display matrix turns the picture when shown, as ffmpeg's autorotate reads it.
    public var rotation: Int? = nil
    /// The stream's display matrix, 9 values as libavutil stores it; nil when the source has none.
    public var displayMatrix: [Int32]? = nil
    /// HDR10 static metadata, from the stream's side data or the first frame's.
    public var masteringDisplay: MasteringDisplay? = nil
    public var contentLightLevel: ContentLightLevel? = nil
    /// Dynamic HDR metadata found in INPUT ("HDR10+", "Dolby Vision"); encoda drops it and keeps the base layer.
    public var dynamicHDR: [String]? = nil
    /// Start timecode ("01:00:00:00") from the stream's or file's timecode tag (tmcd, MXF) or the first MPEG-2
    /// GOP header.
    public var timecode: String? = nil

    public init(width: Int, height: Int, pixelFormat: String, bitDepth: Int, timeBase: Rational,
                frameRate: Rational, sampleAspectRatio: Rational, colorPrimaries: Int, colorTransfer: Int,
                colorMatrix: Int, colorRange: Int, chromaLocation: Int, codecName: String, streamIndex: Int) {
        self.width = width; self.height = height; self.pixelFormat = pixelFormat; self.bitDepth = bitDepth
        self.timeBase = timeBase; self.frameRate = frameRate; self.sampleAspectRatio = sampleAspectRatio
        self.colorPrimaries = colorPrimaries; self.colorTransfer = colorTransfer; self.colorMatrix = colorMatrix
        self.colorRange = colorRange; self.chromaLocation = chromaLocation; self.codecName = codecName
        self.streamIndex = streamIndex
    }
}

/// Interlaced video: each frame holds two fields woven line by line, shown one after the other.
public struct Interlacing: Codable, Sendable, Hashable {
    /// The top field is shown first (tff); else the bottom field (bff). One order for the whole job: a source
    /// that switches between them is refused by the scene pass.
    public var topFieldFirst: Bool
    /// True when the decoded frames carry the interlace flags (MPEG-2, H.264, DV, ProRes): frames flagged
    /// progressive among them (soft telecine, progressive inserts) stay flagged progressive. False when only
    /// the container says the stream is interlaced: every frame is then taken as interlaced.
    public var flaggedPerFrame: Bool

    public init(topFieldFirst: Bool, flaggedPerFrame: Bool) {
        self.topFieldFirst = topFieldFirst; self.flaggedPerFrame = flaggedPerFrame
    }

    /// "top field first" or "bottom field first".
    public var orderName: String { topFieldFirst ? "top field first" : "bottom field first" }

    /// The rule for one job, from the scene pass's counts of frames flagged interlaced tff and bff, and the
    /// container's field order (`containerTopFirst`: nil when it says progressive or nothing).
    /// - Frames flagged progressive do not count: in an interlaced stream they are common (soft telecine,
    ///   progressive inserts, a still), and MPEG-2 gives them any top_field_first value.
    /// - Interlaced frames of both orders are refused by the caller: one stream coded with one field order
    ///   cannot show both, and encoding them under either order would swap the fields of the others in time.
    /// - No frame flagged interlaced, but the container says interlaced (raw video, FFV1 and other codecs whose
    ///   frames do not carry the flags): the container's order, for every frame.
    public static func decide(tffFrames: Int, bffFrames: Int, containerTopFirst: Bool?) -> Interlacing? {
        if tffFrames > 0 || bffFrames > 0 {
            return Interlacing(topFieldFirst: tffFrames >= bffFrames, flaggedPerFrame: true)
        }
        if let top = containerTopFirst { return Interlacing(topFieldFirst: top, flaggedPerFrame: false) }
        return nil
    }
}

/// Every frame of the video stream in presentation order: its timestamp, its duration, and which frames are
/// keyframes (where a decoder can start). Frame number N is the N-th frame the decoder returns.
public struct FrameIndex: Codable, Sendable, Hashable {
    /// Presentation timestamp of each frame, in `VideoFacts.timeBase` units.
    public var pts: [Int64]
    /// Duration of each frame in the same units (the next frame's pts minus this one; the last from the stream).
    public var durations: [Int64]
    /// Frame numbers of frames decoded from keyframe packets, ascending.
    public var keyframes: [Int]
    /// False when the source's own timestamps were unusable (missing or repeated) and `pts` was renumbered:
    /// frames can then only be found by counting from the start of the stream.
    public var seekable: Bool
    /// Size in bytes of the source packet each frame was decoded from, a cheap measure of how much is going on
    /// in it: encoders spend time roughly in proportion to it (see `ChunkPlanner.estimatedCosts`). Absent in
    /// scene caches written before it was recorded.
    public var packetSizes: [Int32]?
    /// Byte position in INPUT of the packet each keyframe was decoded from (AVPacket pos), parallel to
    /// `keyframes`; -1 where the demuxer did not say. Absent in scene caches written before it was recorded.
    public var keyframePositions: [Int64]?
    /// True when workers reach a keyframe by its byte position and recognise frames by counting from it, because
    /// timestamps cannot (raw elementary streams: libav makes their timestamps up while reading). Absent (false)
    /// in scene caches written before it was recorded.
    public var positionedByByte: Bool?

    public init(pts: [Int64], durations: [Int64], keyframes: [Int], seekable: Bool = true, packetSizes: [Int32]? = nil,
                keyframePositions: [Int64]? = nil, positionedByByte: Bool = false) {
        self.pts = pts; self.durations = durations; self.keyframes = keyframes; self.seekable = seekable
        self.packetSizes = packetSizes
        self.keyframePositions = keyframePositions
        self.positionedByByte = positionedByByte ? true : nil
    }

    /// Workers seek by byte position and count frames (see `positionedByByte`).
    public var seeksByByte: Bool { positionedByByte == true && keyframePositions?.count == keyframes.count }

    public var frameCount: Int { pts.count }

    /// True when timestamps strictly increase, so a frame can be recognised by its timestamp after a seek.
    public var hasUniqueIncreasingTimestamps: Bool {
        var previous = Int64.min
        for t in pts { if t <= previous { return false }; previous = t }
        return true
    }

    /// The last keyframe at or before `frame`.
    public func keyframe(atOrBefore frame: Int) -> Int {
        keyframes.isEmpty ? 0 : keyframes[keyframeOrdinal(atOrBefore: frame)]
    }

    /// The place in `keyframes` (and `keyframePositions`) of the last keyframe at or before `frame`; 0 when none is.
    public func keyframeOrdinal(atOrBefore frame: Int) -> Int {
        var lo = 0, hi = keyframes.count - 1, best = 0
        while lo <= hi {
            let mid = (lo + hi) / 2
            if keyframes[mid] <= frame { best = mid; lo = mid + 1 } else { hi = mid - 1 }
        }
        return best
    }

    /// Timestamp for a possibly out-of-range frame position: positions before 0 and after the end are
    /// extrapolated with the first and last frame durations. Used for decode timestamps of reordered streams.
    public func extendedTimestamp(_ position: Int) -> Int64 {
        if position < 0 {
            let step = durations.first ?? 1
            return pts[0] - Int64(-position) * max(step, 1)
        }
        if position >= pts.count {
            let step = durations.last ?? 1
            return pts[pts.count - 1] + Int64(position - pts.count + 1) * max(step, 1)
        }
        return pts[position]
    }

    /// Derive durations from consecutive timestamps; `lastDuration` for the final frame.
    public static func durations(for pts: [Int64], lastDuration: Int64) -> [Int64] {
        var d = [Int64](repeating: 0, count: pts.count)
        for i in 0..<pts.count {
            d[i] = i + 1 < pts.count ? pts[i + 1] - pts[i] : lastDuration
        }
        return d
    }
}
