import EncodaFFmpeg
import EncodaModel

/// Throws `code`'s error with `message` when a libav call returned a negative value (libav's text is the cause).
@discardableResult
func check(_ ret: Int32, _ errorCode: EncodaError.Code, _ message: @autoclosure () -> String) throws -> Int32 {
    if ret < 0 { throw EncodaError(errorCode, message(), cause: libavErrorString(ret)) }
    return ret
}

/// Runs an overlay call; its `LibavError` becomes `code`'s error with `message`, libav's text as the cause.
func check<T>(_ errorCode: EncodaError.Code, _ message: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as LibavError { throw EncodaError(errorCode, message(), cause: e.text) }
}

let averrorEOF = LibavError.endOfFile
let averrorEAGAIN = LibavError.again

/// libav logs to stderr by default; encoda reports libav's failures itself, so each stage sets libav's log before it
/// opens anything: silent at the default level and with --quiet, and with -v (-vv) libav's warnings and errors (its
/// information too) passed on through swift-log at the process's level (`EncodaLog`, the `encoda.libav` label).
public enum LibavLogging {
    public static func configure() {
        let threshold = EncodaLog.libavThreshold(for: EncodaLog.level)
        guard threshold >= 0, let level = LibavLog.Level(rawValue: threshold) else { LibavLog.quiet(); return }
        LibavLog.route(level: level) { lineLevel, line in EncodaLog.libavLine(level: lineLevel.rawValue, line) }
    }
}

extension LibavRational {
    var rational: Rational { Rational(num, den) }
}

extension Rational {
    var libav: LibavRational { LibavRational(num, den) }
}
