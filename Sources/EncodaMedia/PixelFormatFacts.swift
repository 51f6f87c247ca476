import CFFmpeg
import EncodaModel

extension PixelFormat {
    /// libav's number for this format.
    var av: AVPixelFormat {
        switch self {
        case .yuv420p: return AV_PIX_FMT_YUV420P
        case .yuv422p: return AV_PIX_FMT_YUV422P
        case .yuv444p: return AV_PIX_FMT_YUV444P
        case .yuv420p10le: return AV_PIX_FMT_YUV420P10LE
        case .yuv422p10le: return AV_PIX_FMT_YUV422P10LE
        case .yuv444p10le: return AV_PIX_FMT_YUV444P10LE
        case .gbrp: return AV_PIX_FMT_GBRP
        case .gbrp10le: return AV_PIX_FMT_GBRP10LE
        }
    }

    /// The deprecated full-range ("JPEG") twin with the same planes, whose frames are handed over as they are.
    var fullRangeTwin: AVPixelFormat? {
        switch self {
        case .yuv420p: return AV_PIX_FMT_YUVJ420P
        case .yuv422p: return AV_PIX_FMT_YUVJ422P
        case .yuv444p: return AV_PIX_FMT_YUVJ444P
        default: return nil
        }
    }
}

extension PixelLayout {
    /// The facts of libav's format `name`, from its descriptor; nil for a name libav does not know.
    public init?(libavName name: String) {
        let format = av_get_pix_fmt(name)
        guard format != AV_PIX_FMT_NONE, let d = av_pix_fmt_desc_get(format)?.pointee else { return nil }
        let flags = d.flags
        let rgb = flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0 || flags & UInt64(AV_PIX_FMT_FLAG_PAL) != 0
        let alpha = flags & UInt64(AV_PIX_FMT_FLAG_ALPHA) != 0
        // Greyscale: one colour component (two with alpha), and not a palette.
        let colours = Int(d.nb_components) - (alpha ? 1 : 0)
        let chroma = colours >= 3 || rgb ? ChromaSampling(shiftX: Int(d.log2_chroma_w), shiftY: Int(d.log2_chroma_h)) : nil
        self.init(name: name, chroma: chroma, bitDepth: Int(d.comp.0.depth), isRGB: rgb, hasAlpha: alpha)
    }
}

extension VideoFacts {
    /// The facts of the decoded frames' pixel format (4:2:0 at `bitDepth` when libav does not know its name).
    public var pixelLayout: PixelLayout {
        PixelLayout(libavName: pixelFormat)
            ?? PixelLayout(name: pixelFormat, chroma: .c420, bitDepth: bitDepth, isRGB: false, hasAlpha: false)
    }
}
