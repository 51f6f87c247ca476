internal import CFFmpeg

/// HDR10 mastering display colour volume as libav keeps it (`AVMasteringDisplayMetadata`): fractions, with flags
/// saying which half is present.
public struct LibavMasteringDisplay: Sendable, Equatable {
    /// x and y of red, green and blue, in that order (six fractions).
    public var primaries: [LibavRational]
    /// x and y of the white point.
    public var whitePoint: [LibavRational]
    public var maxLuminance: LibavRational
    public var minLuminance: LibavRational
    public var hasPrimaries: Bool
    public var hasLuminance: Bool

    public init(primaries: [LibavRational], whitePoint: [LibavRational], maxLuminance: LibavRational,
                minLuminance: LibavRational, hasPrimaries: Bool, hasLuminance: Bool) {
        self.primaries = primaries
        self.whitePoint = whitePoint
        self.maxLuminance = maxLuminance
        self.minLuminance = minLuminance
        self.hasPrimaries = hasPrimaries
        self.hasLuminance = hasLuminance
    }

    init(_ m: AVMasteringDisplayMetadata) {
        let p = m.display_primaries
        primaries = [p.0.0, p.0.1, p.1.0, p.1.1, p.2.0, p.2.1].map(LibavRational.init)
        whitePoint = [LibavRational(m.white_point.0), LibavRational(m.white_point.1)]
        maxLuminance = LibavRational(m.max_luminance)
        minLuminance = LibavRational(m.min_luminance)
        hasPrimaries = m.has_primaries != 0
        hasLuminance = m.has_luminance != 0
    }
}

/// HDR10 content light level (`AVContentLightMetadata`), in cd/m².
public struct LibavContentLight: Sendable, Equatable {
    public var maxCLL: Int
    public var maxFALL: Int
    public init(maxCLL: Int, maxFALL: Int) { self.maxCLL = maxCLL; self.maxFALL = maxFALL }
}

/// What a stream's or a decoded frame's side data says beside the pictures: a copy, so it points into nothing.
/// Each field is present only when libav holds the entry with at least the bytes it needs.
public struct LibavSideData: Sendable {
    /// The 3x3 display matrix (16.16 and 2.30 fixed point), nine values.
    public var displayMatrix: [Int32]?
    public var masteringDisplay: LibavMasteringDisplay?
    public var contentLight: LibavContentLight?
    public var hasHDR10Plus = false
    public var hasDolbyVision = false
    public var hasHDRVivid = false
    /// An MPEG GOP header's timecode as "HH:MM:SS:FF" (frames only).
    public var gopTimecode: String?

    /// Nothing: fill in what an output stream should carry.
    public init() {}

    /// `side(kind, bytes, body)` lends an entry of `bytes` or more to `body` for the duration of the call and
    /// says whether there was one.
    init(reading side: (_ kind: Kind, _ atLeast: Int, _ body: (UnsafeRawPointer) -> Void) -> Bool) {
        _ = side(.displayMatrix, 36) { m in displayMatrix = (0..<9).map { m.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) } }
        _ = side(.masteringDisplay, MemoryLayout<AVMasteringDisplayMetadata>.size) { m in
            masteringDisplay = LibavMasteringDisplay(m.load(as: AVMasteringDisplayMetadata.self))
        }
        _ = side(.contentLight, MemoryLayout<AVContentLightMetadata>.size) { c in
            let l = c.load(as: AVContentLightMetadata.self)
            contentLight = LibavContentLight(maxCLL: Int(l.MaxCLL), maxFALL: Int(l.MaxFALL))
        }
        hasHDR10Plus = side(.hdr10Plus, 1) { _ in }
        hasDolbyVision = side(.dolbyVision, 1) { _ in }
        hasHDRVivid = side(.hdrVivid, 1) { _ in }
        _ = side(.gopTimecode, 8) { tc in
            var buf = [CChar](repeating: 0, count: Int(AV_TIMECODE_STR_SIZE))
            encoda_gop_timecode_string(&buf, tc.assumingMemoryBound(to: UInt8.self))
            gopTimecode = String(cString: buf)
        }
    }

    /// Puts the display matrix, mastering display and content light level (those present, in that order) onto an
    /// output stream before its header is written. The flags and the GOP timecode are not written (a container
    /// has no place for them). The corresponding C function is `av_stream_new_side_data`.
    func add(to st: UnsafeMutablePointer<AVStream>) throws(LibavError) {
        func add(_ type: AVPacketSideDataType, _ bytes: Int) throws(LibavError) -> UnsafeMutableRawPointer {
            guard let p = av_stream_new_side_data(st, type, bytes) else {
                throw LibavError(code: LibavError.outOfMemory, function: "av_stream_new_side_data")
            }
            return UnsafeMutableRawPointer(p)
        }
        if let m = displayMatrix, m.count == 9 {
            let p = try add(AV_PKT_DATA_DISPLAYMATRIX, 36)
            for (i, v) in m.enumerated() { p.storeBytes(of: v, toByteOffset: i * 4, as: Int32.self) }
        }
        if let md = masteringDisplay {
            var m = AVMasteringDisplayMetadata()
            let p = md.primaries.map(\.av), w = md.whitePoint.map(\.av)
            m.display_primaries = ((p[0], p[1]), (p[2], p[3]), (p[4], p[5]))
            m.white_point = (w[0], w[1])
            m.max_luminance = md.maxLuminance.av
            m.min_luminance = md.minLuminance.av
            m.has_primaries = md.hasPrimaries ? 1 : 0
            m.has_luminance = md.hasLuminance ? 1 : 0
            try add(AV_PKT_DATA_MASTERING_DISPLAY_METADATA, MemoryLayout<AVMasteringDisplayMetadata>.size)
                .storeBytes(of: m, as: AVMasteringDisplayMetadata.self)
        }
        if let cll = contentLight {
            let c = AVContentLightMetadata(MaxCLL: UInt32(cll.maxCLL), MaxFALL: UInt32(cll.maxFALL))
            try add(AV_PKT_DATA_CONTENT_LIGHT_LEVEL, MemoryLayout<AVContentLightMetadata>.size)
                .storeBytes(of: c, as: AVContentLightMetadata.self)
        }
    }

    enum Kind { case displayMatrix, masteringDisplay, contentLight, hdr10Plus, dolbyVision, hdrVivid, gopTimecode }

    /// The clockwise rotation a display matrix describes, in degrees (not rounded; NaN for a degenerate matrix).
    /// The corresponding C function is `av_display_rotation_get`.
    public static func rotation(ofDisplayMatrix values: [Int32]) -> Double {
        precondition(values.count == 9, "a display matrix has nine values")
        return values.withUnsafeBufferPointer { av_display_rotation_get($0.baseAddress!) }
    }
}

extension Demuxer {
    /// Stream `i`'s side data (the stream's own: Dolby Vision as its configuration record). The corresponding C
    /// function is `av_stream_get_side_data`.
    public func sideData(of i: Int) -> LibavSideData {
        let st = avStream(i)
        return LibavSideData { kind, atLeast, body in
            let type: AVPacketSideDataType
            switch kind {
            case .displayMatrix: type = AV_PKT_DATA_DISPLAYMATRIX
            case .masteringDisplay: type = AV_PKT_DATA_MASTERING_DISPLAY_METADATA
            case .contentLight: type = AV_PKT_DATA_CONTENT_LIGHT_LEVEL
            case .dolbyVision: type = AV_PKT_DATA_DOVI_CONF
            case .hdr10Plus, .hdrVivid, .gopTimecode: return false
            }
            var size = 0
            // Dolby Vision's configuration record counts when present at all.
            guard let p = av_stream_get_side_data(st, type, &size), size >= (kind == .dolbyVision ? 0 : atLeast) else { return false }
            body(UnsafeRawPointer(p))
            return true
        }
    }
}

extension Frame {
    /// The frame's side data (Dolby Vision as its RPU buffer or its metadata). The corresponding C function is
    /// `av_frame_get_side_data`.
    public var sideData: LibavSideData {
        let frame = object
        return LibavSideData { kind, atLeast, body in
            func side(_ type: AVFrameSideDataType) -> Bool {
                guard let sd = av_frame_get_side_data(frame, type), Int(sd.pointee.size) >= atLeast, let d = sd.pointee.data else { return false }
                body(UnsafeRawPointer(d))
                return true
            }
            switch kind {
            case .displayMatrix: return side(AV_FRAME_DATA_DISPLAYMATRIX)
            case .masteringDisplay: return side(AV_FRAME_DATA_MASTERING_DISPLAY_METADATA)
            case .contentLight: return side(AV_FRAME_DATA_CONTENT_LIGHT_LEVEL)
            case .hdr10Plus: return side(AV_FRAME_DATA_DYNAMIC_HDR_PLUS)
            case .dolbyVision: return side(AV_FRAME_DATA_DOVI_RPU_BUFFER) || side(AV_FRAME_DATA_DOVI_METADATA)
            case .hdrVivid: return side(AV_FRAME_DATA_DYNAMIC_HDR_VIVID)
            case .gopTimecode: return side(AV_FRAME_DATA_GOP_TIMECODE)
            }
        }
    }
}
