/// What a source carries beside its pixels and encoda keeps: HDR10 static metadata, rotation, start timecode.
/// Recorded by the scene pass (`VideoFacts`), carried into the encoders and into OUTPUT's container.

/// The mastering display colour volume of HDR10 (SMPTE ST 2086), in the units the H.265 SEI, x265's
/// `master-display` and x264 use: chromaticity in steps of 0.00002, luminance in steps of 0.0001 cd/m².
public struct MasteringDisplay: Codable, Sendable, Hashable, CustomStringConvertible {
    /// CIE 1931 x, y of the red, green and blue primaries.
    public var red: [Int]
    public var green: [Int]
    public var blue: [Int]
    public var whitePoint: [Int]
    public var maxLuminance: Int
    public var minLuminance: Int

    public static let chromaticityDenominator = 50_000
    public static let luminanceDenominator = 10_000

    public init(red: [Int], green: [Int], blue: [Int], whitePoint: [Int], maxLuminance: Int, minLuminance: Int) {
        self.red = red; self.green = green; self.blue = blue; self.whitePoint = whitePoint
        self.maxLuminance = maxLuminance; self.minLuminance = minLuminance
    }

    /// x265's and SVT-AV1's `master-display` notation: "G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min)".
    public var description: String {
        func p(_ v: [Int]) -> String { "(\(v[0]),\(v[1]))" }
        return "G\(p(green))B\(p(blue))R\(p(red))WP\(p(whitePoint))L(\(maxLuminance),\(minLuminance))"
    }

    public var isValid: Bool {
        [red, green, blue, whitePoint].allSatisfy { $0.count == 2 && $0.allSatisfy { (0...Self.chromaticityDenominator).contains($0) } }
            && maxLuminance >= 0 && minLuminance >= 0 && minLuminance <= maxLuminance
    }
}

/// The content light level of HDR10 (CTA-861.3): maximum content and maximum frame-average light level, cd/m².
public struct ContentLightLevel: Codable, Sendable, Hashable, CustomStringConvertible {
    public var maxCLL: Int
    public var maxFALL: Int
    public init(maxCLL: Int, maxFALL: Int) { self.maxCLL = maxCLL; self.maxFALL = maxFALL }
    /// x265's and SVT-AV1's `max-cll`/`content-light` notation: "MaxCLL,MaxFALL".
    public var description: String { "\(maxCLL),\(maxFALL)" }
    public var isValid: Bool { (0...65_535).contains(maxCLL) && (0...65_535).contains(maxFALL) }
}

/// How a source's rotation (its display matrix) reaches OUTPUT.
public enum Orientation {
    /// Containers whose libavformat muxer (FFmpeg 5.1) writes a stream's display matrix: the rotation is kept as
    /// the source has it. Matroska and WebM gained it only in later FFmpeg; IVF, OBU and raw H.264 have no place.
    public static func containerCarriesRotation(muxer: String) -> Bool { muxer == "mp4" || muxer == "mov" }

    /// The clockwise quarter turn (90, 180 or 270) to apply to the pixels, and the note that says what happens to
    /// the rotation; nil note when there is nothing to say. The pixels are rotated only where the container
    /// cannot hold the rotation and `--no-autorotate` was not given.
    public static func decide(video: VideoFacts, muxer: String, fileExtension: String, noAutorotate: Bool) -> (turn: Int?, note: String?) {
        guard let r = video.rotation, r != 0 else { return (nil, nil) }
        if containerCarriesRotation(muxer: muxer) { return (nil, nil) }
        let container = "." + fileExtension
        // ffprobe shows the matrix's angle counterclockwise ("rotation=90" for a picture to be turned 270° clockwise).
        let shown = "INPUT is rotated \((360 - r) % 360)° (its display matrix, as ffprobe shows it)"
        guard r % 90 == 0 else {
            return (nil, "\(shown); \(container) cannot carry the rotation and encoda turns pixels only in quarter turns, so OUTPUT plays unrotated (write .mp4 or .mov to keep it)")
        }
        if noAutorotate {
            return (nil, "\(shown); \(container) cannot carry the rotation and --no-autorotate keeps the pixels as stored, so OUTPUT plays unrotated (write .mp4 or .mov to keep it)")
        }
        let turn = r == 180 ? "180°" : r == 90 ? "90° clockwise" : "90° counterclockwise"
        return (r, "\(shown); \(container) cannot carry the rotation, so the pixels are rotated (\(turn), as ffmpeg's autorotate does)")
    }

    /// The display matrix (ISO/IEC 14496-12, 16.16 and 2.30 fixed point, as libavutil stores it) that rotates the
    /// picture `degrees` clockwise when shown; identity for 0.
    public static func matrix(clockwise degrees: Int) -> [Int32] {
        let one: Int32 = 1 << 16, w: Int32 = 1 << 30
        switch ((degrees % 360) + 360) % 360 {
        case 90: return [0, one, 0, -one, 0, 0, 0, 0, w]
        case 180: return [-one, 0, 0, 0, -one, 0, 0, 0, w]
        case 270: return [0, -one, 0, one, 0, 0, 0, 0, w]
        default: return [one, 0, 0, 0, one, 0, 0, 0, w]
        }
    }
}

/// Start timecodes as SMPTE text, "HH:MM:SS:FF" (";" before the frames when drop-frame).
public enum Timecode {
    /// True for text libavformat's muxers accept as a timecode tag.
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == ";" || $0 == "." })
        guard text.count <= 16, parts.count == 4 else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.count <= 2 && $0.allSatisfy(\.isNumber) }
    }
}

extension VideoFacts {
    /// What is wrong with the metadata fields of facts read from TMP (untrusted), or nil when they are sound.
    public var sourceMetadataProblem: String? {
        if let r = rotation, !(0..<360).contains(r) { return "rotation \(r)" }
        if let m = displayMatrix, m.count != 9 { return "display matrix of \(m.count) values" }
        if let m = masteringDisplay, !m.isValid { return "mastering display \(m)" }
        if let c = contentLightLevel, !c.isValid { return "content light level \(c)" }
        if let t = timecode, !Timecode.isValid(t) { return "timecode" }
        if let d = dynamicHDR, d.count > 8 || d.contains(where: { $0.count > 32 }) { return "dynamic HDR list" }
        return nil
    }
}

extension EncodeSettings {
    /// nil when `pixelRotation` is absent or a quarter turn.
    public var pixelRotationProblem: String? {
        guard let r = pixelRotation, ![90, 180, 270].contains(r) else { return nil }
        return "pixel rotation \(r)"
    }
}
