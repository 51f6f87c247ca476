internal import CFFmpeg

/// A libav call that failed: the (negative) error code it returned and the name of the C function. The one error
/// type of the overlay; the stages above it decide what the failure means for the user (see EncodaMedia's `check`).
public struct LibavError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int32
    public let function: String

    public init(code: Int32, function: String) {
        self.code = code
        self.function = function
    }

    /// libav's text for the code (`av_strerror`).
    public var text: String { libavErrorString(code) }
    public var description: String { "\(function) failed: \(text) (\(code))" }

    /// `AVERROR_EOF`.
    public static let endOfFile: Int32 = encoda_averror_eof()
    /// `AVERROR(EAGAIN)`.
    public static let again: Int32 = encoda_averror(EAGAIN)
    /// `AVERROR_INVALIDDATA`.
    public static let invalidData: Int32 = encoda_averror_invaliddata()
    /// `AVERROR_DECODER_NOT_FOUND`, thrown when no decoder exists for a stream's codec.
    public static let decoderNotFound: Int32 = encoda_averror_decoder_not_found()
    /// `AVERROR(ENOMEM)`.
    public static let outOfMemory: Int32 = encoda_averror(ENOMEM)
}

/// Text for a libav error code. The corresponding C function is `av_strerror`.
public func libavErrorString(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buf, buf.count)
    return String(nulTerminated: buf)
}

extension String {
    /// The text of a C string buffer up to its first NUL (ill-formed UTF-8 repaired).
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `AV_NOPTS_VALUE`: the timestamp of a packet or frame that has none.
public let noPTS: Int64 = encoda_nopts()

/// Returns `ret`, or throws it with `function`'s name when it is negative.
@discardableResult
func libavCall(_ ret: Int32, _ function: String) throws(LibavError) -> Int32 {
    if ret < 0 { throw LibavError(code: ret, function: function) }
    return ret
}
