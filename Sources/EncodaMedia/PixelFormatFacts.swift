import EncodaFFmpeg
import EncodaModel

extension PixelFormat {
    /// libav's number for this format.
    var av: LibavPixelFormat {
        switch self {
        case .yuv420p: return .yuv420p
        case .yuv422p: return .yuv422p
        case .yuv444p: return .yuv444p
        case .yuv420p10le: return .yuv420p10le
        case .yuv422p10le: return .yuv422p10le
        case .yuv444p10le: return .yuv444p10le
        case .gbrp: return .gbrp
        case .gbrp10le: return .gbrp10le
        }
    }

    /// The deprecated full-range ("JPEG") twin with the same planes, whose frames are handed over as they are.
    var fullRangeTwin: LibavPixelFormat? {
        switch self {
        case .yuv420p: return .yuvj420p
        case .yuv422p: return .yuvj422p
        case .yuv444p: return .yuvj444p
        default: return nil
        }
    }
}

extension PixelLayout {
    /// The facts of libav's format `name`, from its descriptor; nil for a name libav does not know.
    public init?(libavName name: String) {
        guard let d = LibavPixelFormat(name: name)?.descriptor else { return nil }
        let rgb = d.isRGB || d.isPalette
        let alpha = d.hasAlpha
        // Greyscale: one colour component (two with alpha), and not a palette.
        let colours = d.components - (alpha ? 1 : 0)
        let chroma = colours >= 3 || rgb ? ChromaSampling(shiftX: d.log2ChromaWidth, shiftY: d.log2ChromaHeight) : nil
        self.init(name: name, chroma: chroma, bitDepth: d.depth, isRGB: rgb, hasAlpha: alpha)
    }
}

extension VideoFacts {
    /// The facts of the decoded frames' pixel format (4:2:0 at `bitDepth` when libav does not know its name).
    public var pixelLayout: PixelLayout {
        PixelLayout(libavName: pixelFormat)
            ?? PixelLayout(name: pixelFormat, chroma: .c420, bitDepth: bitDepth, isRGB: false, hasAlpha: false)
    }
}
