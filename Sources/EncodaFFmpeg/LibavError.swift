import CFFmpeg
import EncodaModel

/// Text for a libav error code. The corresponding C function is `av_strerror`.
func libavErrorString(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buf, buf.count)
    return String(cString: buf)
}

let averrorEOF = encoda_averror_eof()
let averrorEAGAIN = encoda_averror(EAGAIN)
let noPTS = encoda_nopts()

/// Throws `code`'s error with `message` when a libav call returned a negative value.
@discardableResult
func check(_ ret: Int32, _ errorCode: EncodaError.Code, _ message: @autoclosure () -> String) throws -> Int32 {
    if ret < 0 { throw EncodaError(errorCode, message(), cause: libavErrorString(ret)) }
    return ret
}

/// libav logs to stderr by default; encoda reports errors itself. The corresponding C function is `av_log_set_level`.
public enum LibavLogging {
    public static func quiet() { av_log_set_level(AV_LOG_QUIET) }
}

extension AVRational {
    var rational: Rational { Rational(Int(num), Int(den)) }
}
extension Rational {
    var av: AVRational { AVRational(num: Int32(num), den: Int32(den)) }
}

