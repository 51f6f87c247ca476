/// How the chroma planes of a picture are sampled against luma: the horizontal and vertical subsampling as
/// powers of two (libav's `log2_chroma_w` / `log2_chroma_h`).
public struct ChromaSampling: Sendable, Hashable, CustomStringConvertible {
    public var shiftX: Int
    public var shiftY: Int
    public init(shiftX: Int, shiftY: Int) { self.shiftX = shiftX; self.shiftY = shiftY }

    public static let c420 = ChromaSampling(shiftX: 1, shiftY: 1)
    public static let c422 = ChromaSampling(shiftX: 1, shiftY: 0)
    public static let c444 = ChromaSampling(shiftX: 0, shiftY: 0)

    /// "4:2:0", "4:2:2", "4:4:4", "4:1:1", "4:4:0", "4:1:0"; the J:a:b notation for any other.
    public var description: String {
        switch (shiftX, shiftY) {
        case (1, 1): return "4:2:0"
        case (1, 0): return "4:2:2"
        case (0, 0): return "4:4:4"
        case (2, 0): return "4:1:1"
        case (0, 1): return "4:4:0"
        case (2, 2): return "4:1:0"
        default: return "1/\(1 << shiftX)x1/\(1 << shiftY) chroma"
        }
    }

    /// The sampling among 4:2:0, 4:2:2 and 4:4:4 with the fewest chroma samples that still has at least as many
    /// as this one in each direction (4:1:1 → 4:2:2, 4:4:0 → 4:4:4, 4:1:0 → 4:2:0).
    public var nearestEncodable: ChromaSampling {
        if shiftX >= 1 && shiftY >= 1 { return .c420 }
        if shiftX >= 1 { return .c422 }
        return .c444
    }
}

/// The facts of a decoded picture format that decide what an encode keeps, read from libav's pixel format
/// descriptor (`AVPixFmtDescriptor`) by EncodaMedia.
public struct PixelLayout: Sendable, Hashable {
    /// libav's name, e.g. "yuv422p10le".
    public var name: String
    /// nil for greyscale (no chroma planes).
    public var chroma: ChromaSampling?
    public var bitDepth: Int
    public var isRGB: Bool
    public var hasAlpha: Bool

    public init(name: String, chroma: ChromaSampling?, bitDepth: Int, isRGB: Bool, hasAlpha: Bool) {
        self.name = name; self.chroma = chroma; self.bitDepth = bitDepth; self.isRGB = isRGB; self.hasAlpha = hasAlpha
    }

    /// "4:2:2 10-bit", "RGB 8-bit", "greyscale 8-bit", with " with alpha" where there is one.
    public var summary: String {
        let kind = isRGB ? "RGB" : chroma.map(\.description) ?? "greyscale"
        return "\(kind) \(bitDepth)-bit" + (hasAlpha ? " with alpha" : "")
    }
}

/// A pixel format chunks are encoded in: what `--pix-fmt` accepts, and what x264 and SVT-AV1 are given.
/// Encodes in job.json as libav's name ("yuv420p", as the field always held).
public enum PixelFormat: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case yuv420p, yuv422p, yuv444p
    case yuv420p10le, yuv422p10le, yuv444p10le
    /// Planar RGB, coded by x264 as 4:4:4 with the GBR matrix (G in the luma plane, B and R in the chroma planes).
    case gbrp, gbrp10le

    /// libav's name of the format (its `AVPixelFormat`, `av_get_pix_fmt`).
    public var libavName: String { rawValue }
    public var description: String { rawValue }

    public var chroma: ChromaSampling {
        switch self {
        case .yuv420p, .yuv420p10le: return .c420
        case .yuv422p, .yuv422p10le: return .c422
        case .yuv444p, .yuv444p10le, .gbrp, .gbrp10le: return .c444
        }
    }

    public var bitDepth: Int {
        switch self {
        case .yuv420p, .yuv422p, .yuv444p, .gbrp: return 8
        case .yuv420p10le, .yuv422p10le, .yuv444p10le, .gbrp10le: return 10
        }
    }

    public var isRGB: Bool { self == .gbrp || self == .gbrp10le }

    /// H.264's chroma_format_idc: 1 for 4:2:0, 2 for 4:2:2, 3 for 4:4:4 (RGB included).
    public var chromaFormatIDC: Int { chroma == .c420 ? 1 : chroma == .c422 ? 2 : 3 }

    public var layout: PixelLayout {
        PixelLayout(name: rawValue, chroma: chroma, bitDepth: bitDepth, isRGB: isRGB, hasAlpha: false)
    }

    /// The format with these facts, if encoda encodes one.
    public static func with(chroma: ChromaSampling, bitDepth: Int, rgb: Bool) -> PixelFormat? {
        allCases.first { $0.chroma == chroma && $0.bitDepth == bitDepth && $0.isRGB == rgb }
    }

    /// Accepts the names and `rgb24` (the packed RGB most files hold), which is read as `gbrp`.
    public init?(argument: String) {
        if argument == "rgb24" { self = .gbrp; return }
        self.init(rawValue: argument)
    }

    /// Whether `encoder` can take pictures in this format: SVT-AV1 1.4.1 takes 4:2:0 YUV only.
    public func isEncodable(by encoder: EncoderKind) -> Bool { encoder == .h264 || (chroma == .c420 && !isRGB) }

    public static var argumentList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
