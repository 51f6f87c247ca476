import EncodaFFmpeg
import EncodaModel
import Foundation

/// Reads what INPUT carries beside its pixels (display matrix, HDR10 static metadata, dynamic HDR, start
/// timecode) into `VideoFacts`, and writes what OUTPUT's container can hold of it onto the output stream.
/// See `SourceMetadata.swift` for the values and `Orientation` for where a rotation goes.
enum SourceMetadataIO {
    // MARK: Reading

    /// From the stream's side data and the stream's or file's "timecode" tag (MOV/MP4 tmcd tracks, MXF, and
    /// whatever else libavformat exposes so).
    static func readStream(of demuxer: Demuxer, stream index: Int, into facts: inout VideoFacts) {
        let side = demuxer.sideData(of: index)
        if let m = side.displayMatrix { setDisplayMatrix(m, into: &facts) }
        if let m = side.masteringDisplay { facts.masteringDisplay = masteringDisplay(m) }
        if let c = side.contentLight { facts.contentLightLevel = contentLightLevel(c) }
        if side.hasDolbyVision { addDynamicHDR("Dolby Vision", to: &facts) }
        for text in [demuxer.metadata(of: index, "timecode"), demuxer.fileMetadata("timecode")] {
            if facts.timecode == nil, let text, Timecode.isValid(text) { facts.timecode = text }
        }
    }

    /// From the first decoded frame's side data: a display matrix there wins over the stream's (ffmpeg's
    /// autorotate does the same); HDR10 metadata fills what the stream did not have (HEVC and AV1 carry it in the
    /// bitstream, not in the container); an MPEG-2 GOP header gives the start timecode.
    static func readFirstFrame(_ f: Frame, into facts: inout VideoFacts) {
        let side = f.sideData
        if let m = side.displayMatrix { setDisplayMatrix(m, into: &facts) }
        if facts.masteringDisplay == nil, let m = side.masteringDisplay { facts.masteringDisplay = masteringDisplay(m) }
        if facts.contentLightLevel == nil, let c = side.contentLight { facts.contentLightLevel = contentLightLevel(c) }
        if side.hasHDR10Plus { addDynamicHDR("HDR10+", to: &facts) }
        if side.hasDolbyVision { addDynamicHDR("Dolby Vision", to: &facts) }
        if side.hasHDRVivid { addDynamicHDR("HDR Vivid", to: &facts) }
        if facts.timecode == nil, let text = side.gopTimecode, Timecode.isValid(text) { facts.timecode = text }
    }

    /// The rotation as ffmpeg 5.1's autorotate reads a display matrix: the clockwise angle, rounded to a degree.
    private static func setDisplayMatrix(_ values: [Int32], into facts: inout VideoFacts) {
        let angle = LibavSideData.rotation(ofDisplayMatrix: values)
        guard angle.isFinite else { return }
        var theta = -angle.rounded()
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        facts.displayMatrix = values
        facts.rotation = Int(theta) % 360
    }

    private static func masteringDisplay(_ m: LibavMasteringDisplay) -> MasteringDisplay? {
        guard m.hasPrimaries || m.hasLuminance else { return nil }
        // libav's av_q2d: num / (double)den.
        func value(_ q: LibavRational) -> Double { Double(q.num) / Double(q.den) }
        func chroma(_ q: LibavRational) -> Int { q.den == 0 ? 0 : Int((value(q) * Double(MasteringDisplay.chromaticityDenominator)).rounded()) }
        func luma(_ q: LibavRational) -> Int { q.den == 0 ? 0 : Int((value(q) * Double(MasteringDisplay.luminanceDenominator)).rounded()) }
        let p = m.primaries
        let md = MasteringDisplay(red: [chroma(p[0]), chroma(p[1])], green: [chroma(p[2]), chroma(p[3])],
                                  blue: [chroma(p[4]), chroma(p[5])], whitePoint: [chroma(m.whitePoint[0]), chroma(m.whitePoint[1])],
                                  maxLuminance: luma(m.maxLuminance), minLuminance: luma(m.minLuminance))
        return md.isValid ? md : nil
    }

    private static func contentLightLevel(_ c: LibavContentLight) -> ContentLightLevel? {
        let cll = ContentLightLevel(maxCLL: c.maxCLL, maxFALL: c.maxFALL)
        return cll.isValid ? cll : nil
    }

    private static func addDynamicHDR(_ name: String, to facts: inout VideoFacts) {
        var list = facts.dynamicHDR ?? []
        if !list.contains(name) { list.append(name) }
        facts.dynamicHDR = list
    }

    // MARK: Writing

    /// What the Muxer puts onto OUTPUT's video stream, before its header is written, as side data the container
    /// can hold: the display matrix (MP4 and MOV write it; encoda clears it when it rotated the pixels instead),
    /// mastering display and content light level (Matroska and WebM write MasteringMetadata and MaxCLL/MaxFALL,
    /// MP4 and MOV mdcv and clli; the bitstream has them too, as x264's SEI or SVT-AV1's metadata OBUs). The start
    /// timecode goes on as the stream's "timecode" tag (a tmcd track in MOV and MP4, a TIMECODE tag in Matroska).
    static func sideData(of facts: VideoFacts) -> LibavSideData {
        var side = LibavSideData()
        if let m = facts.displayMatrix, m.count == 9 { side.displayMatrix = m }
        if let md = facts.masteringDisplay {
            let c = MasteringDisplay.chromaticityDenominator, l = MasteringDisplay.luminanceDenominator
            func q(_ v: Int, _ d: Int) -> LibavRational { LibavRational(Int(Int32(clamping: v)), d) }
            side.masteringDisplay = LibavMasteringDisplay(
                primaries: [q(md.red[0], c), q(md.red[1], c), q(md.green[0], c), q(md.green[1], c), q(md.blue[0], c), q(md.blue[1], c)],
                whitePoint: [q(md.whitePoint[0], c), q(md.whitePoint[1], c)],
                maxLuminance: q(md.maxLuminance, l), minLuminance: q(md.minLuminance, l), hasPrimaries: true, hasLuminance: true)
        }
        if let cll = facts.contentLightLevel { side.contentLight = LibavContentLight(maxCLL: cll.maxCLL, maxFALL: cll.maxFALL) }
        return side
    }
}
