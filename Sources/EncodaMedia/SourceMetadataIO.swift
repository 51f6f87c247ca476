import CFFmpeg
import EncodaFFmpeg
import EncodaModel
import Foundation

/// Reads what INPUT carries beside its pixels (display matrix, HDR10 static metadata, dynamic HDR, start
/// timecode) into `VideoFacts`, and writes what OUTPUT's container can hold of it onto the output stream.
/// See `SourceMetadata.swift` for the values and `Orientation` for where a rotation goes.
enum SourceMetadataIO {
    // MARK: Reading

    /// From stream `index` of `demuxer`, as `readStream(_:format:into:)`.
    static func readStream(of demuxer: Demuxer, stream index: Int, into facts: inout VideoFacts) {
        readStream(demuxer.stream(index), format: demuxer.formatContext, into: &facts)
    }

    /// From the stream's side data and the stream's or file's "timecode" tag (MOV/MP4 tmcd tracks, MXF, and
    /// whatever else libavformat exposes so). The corresponding C function is `av_stream_get_side_data`.
    static func readStream(_ st: UnsafeMutablePointer<AVStream>, format: UnsafeMutablePointer<AVFormatContext>,
                           into facts: inout VideoFacts) {
        var size = 0
        if let m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 {
            setDisplayMatrix(UnsafeRawPointer(m), into: &facts)
        }
        if let m = av_stream_get_side_data(st, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size),
           size >= MemoryLayout<AVMasteringDisplayMetadata>.size {
            facts.masteringDisplay = masteringDisplay(UnsafeRawPointer(m).load(as: AVMasteringDisplayMetadata.self))
        }
        if let c = av_stream_get_side_data(st, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size),
           size >= MemoryLayout<AVContentLightMetadata>.size {
            facts.contentLightLevel = contentLightLevel(UnsafeRawPointer(c).load(as: AVContentLightMetadata.self))
        }
        if av_stream_get_side_data(st, AV_PKT_DATA_DOVI_CONF, &size) != nil { addDynamicHDR("Dolby Vision", to: &facts) }
        for dict in [st.pointee.metadata, format.pointee.metadata] {
            if facts.timecode == nil, let e = av_dict_get(dict, "timecode", nil, 0), let v = e.pointee.value {
                let text = String(cString: v)
                if Timecode.isValid(text) { facts.timecode = text }
            }
        }
    }

    /// From the first decoded frame's side data: a display matrix there wins over the stream's (ffmpeg's
    /// autorotate does the same); HDR10 metadata fills what the stream did not have (HEVC and AV1 carry it in the
    /// bitstream, not in the container); an MPEG-2 GOP header gives the start timecode.
    /// The corresponding C function is `av_frame_get_side_data`.
    static func readFirstFrame(_ f: Frame, into facts: inout VideoFacts) {
        let frame = f.pointer
        func side(_ type: AVFrameSideDataType, atLeast bytes: Int) -> UnsafeRawPointer? {
            guard let sd = av_frame_get_side_data(frame, type), Int(sd.pointee.size) >= bytes, let d = sd.pointee.data else { return nil }
            return UnsafeRawPointer(d)
        }
        if let m = side(AV_FRAME_DATA_DISPLAYMATRIX, atLeast: 36) { setDisplayMatrix(m, into: &facts) }
        if facts.masteringDisplay == nil, let m = side(AV_FRAME_DATA_MASTERING_DISPLAY_METADATA, atLeast: MemoryLayout<AVMasteringDisplayMetadata>.size) {
            facts.masteringDisplay = masteringDisplay(m.load(as: AVMasteringDisplayMetadata.self))
        }
        if facts.contentLightLevel == nil, let c = side(AV_FRAME_DATA_CONTENT_LIGHT_LEVEL, atLeast: MemoryLayout<AVContentLightMetadata>.size) {
            facts.contentLightLevel = contentLightLevel(c.load(as: AVContentLightMetadata.self))
        }
        if side(AV_FRAME_DATA_DYNAMIC_HDR_PLUS, atLeast: 1) != nil { addDynamicHDR("HDR10+", to: &facts) }
        if side(AV_FRAME_DATA_DOVI_RPU_BUFFER, atLeast: 1) != nil || side(AV_FRAME_DATA_DOVI_METADATA, atLeast: 1) != nil {
            addDynamicHDR("Dolby Vision", to: &facts)
        }
        if side(AV_FRAME_DATA_DYNAMIC_HDR_VIVID, atLeast: 1) != nil { addDynamicHDR("HDR Vivid", to: &facts) }
        if facts.timecode == nil, let tc = side(AV_FRAME_DATA_GOP_TIMECODE, atLeast: 8) {
            var buf = [CChar](repeating: 0, count: Int(AV_TIMECODE_STR_SIZE))
            encoda_gop_timecode_string(&buf, tc.assumingMemoryBound(to: UInt8.self))
            let text = String(cString: buf)
            if Timecode.isValid(text) { facts.timecode = text }
        }
    }

    /// The rotation as ffmpeg 5.1's autorotate reads a display matrix: the clockwise angle, rounded to a degree.
    /// The corresponding C function is `av_display_rotation_get`.
    private static func setDisplayMatrix(_ m: UnsafeRawPointer, into facts: inout VideoFacts) {
        let values = (0..<9).map { m.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) }
        let angle = values.withUnsafeBufferPointer { av_display_rotation_get($0.baseAddress!) }
        guard angle.isFinite else { return }
        var theta = -angle.rounded()
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        facts.displayMatrix = values
        facts.rotation = Int(theta) % 360
    }

    private static func masteringDisplay(_ m: AVMasteringDisplayMetadata) -> MasteringDisplay? {
        guard m.has_primaries != 0 || m.has_luminance != 0 else { return nil }
        func chroma(_ q: AVRational) -> Int { q.den == 0 ? 0 : Int((av_q2d(q) * Double(MasteringDisplay.chromaticityDenominator)).rounded()) }
        func luma(_ q: AVRational) -> Int { q.den == 0 ? 0 : Int((av_q2d(q) * Double(MasteringDisplay.luminanceDenominator)).rounded()) }
        let p = m.display_primaries
        let md = MasteringDisplay(red: [chroma(p.0.0), chroma(p.0.1)], green: [chroma(p.1.0), chroma(p.1.1)],
                                  blue: [chroma(p.2.0), chroma(p.2.1)], whitePoint: [chroma(m.white_point.0), chroma(m.white_point.1)],
                                  maxLuminance: luma(m.max_luminance), minLuminance: luma(m.min_luminance))
        return md.isValid ? md : nil
    }

    private static func contentLightLevel(_ c: AVContentLightMetadata) -> ContentLightLevel? {
        let cll = ContentLightLevel(maxCLL: Int(c.MaxCLL), maxFALL: Int(c.MaxFALL))
        return cll.isValid ? cll : nil
    }

    private static func addDynamicHDR(_ name: String, to facts: inout VideoFacts) {
        var list = facts.dynamicHDR ?? []
        if !list.contains(name) { list.append(name) }
        facts.dynamicHDR = list
    }

    // MARK: Writing

    /// Puts onto OUTPUT's video stream, before its header is written, what the container can hold: the display
    /// matrix (MP4 and MOV write it; encoda clears it when it rotated the pixels instead), mastering display and
    /// content light level (Matroska and WebM write MasteringMetadata and MaxCLL/MaxFALL, MP4 and MOV mdcv and
    /// clli; the bitstream has them too, as x264's SEI or SVT-AV1's metadata OBUs), and the start timecode as the
    /// "timecode" tag (a tmcd track in MOV and MP4, a TIMECODE tag in Matroska and WebM).
    /// The corresponding C function is `av_stream_new_side_data`.
    static func write(_ facts: VideoFacts, to st: UnsafeMutablePointer<AVStream>) throws {
        func add(_ type: AVPacketSideDataType, _ bytes: Int) throws -> UnsafeMutableRawPointer {
            guard let p = av_stream_new_side_data(st, type, bytes) else {
                throw EncodaError(.internalError, "av_stream_new_side_data failed (out of memory)")
            }
            return UnsafeMutableRawPointer(p)
        }
        if let m = facts.displayMatrix, m.count == 9 {
            let p = try add(AV_PKT_DATA_DISPLAYMATRIX, 36)
            for (i, v) in m.enumerated() { p.storeBytes(of: v, toByteOffset: i * 4, as: Int32.self) }
        }
        if let md = facts.masteringDisplay {
            var m = AVMasteringDisplayMetadata()
            let c = Int32(MasteringDisplay.chromaticityDenominator), l = Int32(MasteringDisplay.luminanceDenominator)
            func q(_ v: Int, _ d: Int32) -> AVRational { AVRational(num: Int32(clamping: v), den: d) }
            m.display_primaries = ((q(md.red[0], c), q(md.red[1], c)), (q(md.green[0], c), q(md.green[1], c)),
                                   (q(md.blue[0], c), q(md.blue[1], c)))
            m.white_point = (q(md.whitePoint[0], c), q(md.whitePoint[1], c))
            m.max_luminance = q(md.maxLuminance, l)
            m.min_luminance = q(md.minLuminance, l)
            m.has_primaries = 1
            m.has_luminance = 1
            try add(AV_PKT_DATA_MASTERING_DISPLAY_METADATA, MemoryLayout<AVMasteringDisplayMetadata>.size)
                .storeBytes(of: m, as: AVMasteringDisplayMetadata.self)
        }
        if let cll = facts.contentLightLevel {
            let c = AVContentLightMetadata(MaxCLL: UInt32(cll.maxCLL), MaxFALL: UInt32(cll.maxFALL))
            try add(AV_PKT_DATA_CONTENT_LIGHT_LEVEL, MemoryLayout<AVContentLightMetadata>.size)
                .storeBytes(of: c, as: AVContentLightMetadata.self)
        }
        if let tc = facts.timecode { av_dict_set(&st.pointee.metadata, "timecode", tc, 0) }
    }
}
