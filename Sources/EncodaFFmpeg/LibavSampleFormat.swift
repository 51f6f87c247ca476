internal import CFFmpeg

/// One of libav's audio sample formats (`AVSampleFormat`) by number.
public struct LibavSampleFormat: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ format: AVSampleFormat) { self.init(rawValue: format.rawValue) }
    var av: AVSampleFormat { AVSampleFormat(rawValue: rawValue) }

    public static let s16 = LibavSampleFormat(AV_SAMPLE_FMT_S16)
    public static let s32 = LibavSampleFormat(AV_SAMPLE_FMT_S32)
    public static let flt = LibavSampleFormat(AV_SAMPLE_FMT_FLT)
    public static let fltp = LibavSampleFormat(AV_SAMPLE_FMT_FLTP)

    /// Bytes of one sample of one channel (0 for an unknown format). The corresponding C function is
    /// `av_get_bytes_per_sample`.
    public var bytesPerSample: Int { Int(av_get_bytes_per_sample(av)) }
    /// Each channel in a plane of its own, rather than the channels interleaved in one.
    public var isPlanar: Bool { av_sample_fmt_is_planar(av) != 0 }
    /// libav's name of the format ("s16", "fltp"), nil when it has none.
    public var name: String? { av_get_sample_fmt_name(av).map { String(cString: $0) } }
    public var description: String { name ?? "sample format \(rawValue)" }
}
