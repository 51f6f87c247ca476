internal import CFFmpeg

/// One of libav's pixel formats (`AVPixelFormat`) by number, with what its descriptor says about it.
public struct LibavPixelFormat: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ format: AVPixelFormat) { self.init(rawValue: format.rawValue) }
    var av: AVPixelFormat { AVPixelFormat(rawValue: rawValue) }

    /// The format libav calls `name`; nil for a name it does not know. The corresponding C function is `av_get_pix_fmt`.
    public init?(name: String) {
        let f = av_get_pix_fmt(name)
        guard f != AV_PIX_FMT_NONE else { return nil }
        rawValue = f.rawValue
    }

    /// libav's name of the format, nil when it has none.
    public var name: String? { av_get_pix_fmt_name(av).map { String(cString: $0) } }
    public var description: String { name ?? "format \(rawValue)" }

    /// The format's layout as its descriptor (`AVPixFmtDescriptor`) gives it.
    public struct Descriptor: Sendable {
        public var name: String
        public var components: Int
        /// Chroma subsampling as shifts: 1, 1 for 4:2:0.
        public var log2ChromaWidth: Int
        public var log2ChromaHeight: Int
        /// Bits and bytes per sample, plane, offset and shift of the first component.
        public var depth: Int
        public var step: Int
        public var plane: Int
        public var offset: Int
        public var shift: Int
        public var isRGB: Bool
        public var isPalette: Bool
        public var hasAlpha: Bool
        public var isBitstream: Bool
        public var isHardware: Bool
    }

    /// Nil for a number libav does not know. The corresponding C function is `av_pix_fmt_desc_get`.
    public var descriptor: Descriptor? {
        guard let d = av_pix_fmt_desc_get(av)?.pointee else { return nil }
        let c = d.comp.0
        func has(_ flag: Int32) -> Bool { d.flags & UInt64(flag) != 0 }
        return Descriptor(name: String(cString: d.name), components: Int(d.nb_components),
                          log2ChromaWidth: Int(d.log2_chroma_w), log2ChromaHeight: Int(d.log2_chroma_h),
                          depth: Int(c.depth), step: Int(c.step), plane: Int(c.plane), offset: Int(c.offset), shift: Int(c.shift),
                          isRGB: has(AV_PIX_FMT_FLAG_RGB), isPalette: has(AV_PIX_FMT_FLAG_PAL), hasAlpha: has(AV_PIX_FMT_FLAG_ALPHA),
                          isBitstream: has(AV_PIX_FMT_FLAG_BITSTREAM), isHardware: has(AV_PIX_FMT_FLAG_HWACCEL))
    }

    /// Bytes `av_image_fill_arrays` needs for one `width` x `height` picture packed with alignment 1; negative
    /// for an unknown format. The corresponding C function is `av_image_get_buffer_size`.
    public func bufferSize(width: Int, height: Int) -> Int {
        Int(av_image_get_buffer_size(av, Int32(width), Int32(height), 1))
    }

    public static let none = LibavPixelFormat(AV_PIX_FMT_NONE)
    public static let gray8 = LibavPixelFormat(AV_PIX_FMT_GRAY8)
    public static let yuv420p = LibavPixelFormat(AV_PIX_FMT_YUV420P)
    public static let yuv422p = LibavPixelFormat(AV_PIX_FMT_YUV422P)
    public static let yuv444p = LibavPixelFormat(AV_PIX_FMT_YUV444P)
    public static let yuv420p10le = LibavPixelFormat(AV_PIX_FMT_YUV420P10LE)
    public static let yuv422p10le = LibavPixelFormat(AV_PIX_FMT_YUV422P10LE)
    public static let yuv444p10le = LibavPixelFormat(AV_PIX_FMT_YUV444P10LE)
    public static let gbrp = LibavPixelFormat(AV_PIX_FMT_GBRP)
    public static let gbrp10le = LibavPixelFormat(AV_PIX_FMT_GBRP10LE)
    public static let rgb24 = LibavPixelFormat(AV_PIX_FMT_RGB24)
    public static let rgb48le = LibavPixelFormat(AV_PIX_FMT_RGB48LE)
    /// The (deprecated) JPEG formats: YUV whose range is full by definition, whatever the stream's tag says.
    public static let yuvj420p = LibavPixelFormat(AV_PIX_FMT_YUVJ420P)
    public static let yuvj422p = LibavPixelFormat(AV_PIX_FMT_YUVJ422P)
    public static let yuvj444p = LibavPixelFormat(AV_PIX_FMT_YUVJ444P)
    public static let yuvj440p = LibavPixelFormat(AV_PIX_FMT_YUVJ440P)
    public static let yuvj411p = LibavPixelFormat(AV_PIX_FMT_YUVJ411P)
}
