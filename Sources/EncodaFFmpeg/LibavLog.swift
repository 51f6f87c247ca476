internal import CFFmpeg
import Synchronization

/// libav's log, in one place. By default libav prints to stderr; encoda reports failures itself, so the stages
/// call `quiet()` before they open anything. `route` hands every line at or above a level to a closure instead
/// (for the process's logger), through the one C callback below.
public enum LibavLog {
    /// libav's log levels (`AV_LOG_*`), most severe first.
    public enum Level: Int32, Sendable, Comparable {
        case panic = 0, fatal = 8, error = 16, warning = 24, info = 32, verbose = 40, debug = 48, trace = 56

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        /// The level of a raw libav level number (values between two levels belong to the more severe one).
        init(libav: Int32) {
            self = Level.allDescending.first { libav >= $0.rawValue } ?? .panic
        }

        private static let allDescending: [Level] = [.trace, .debug, .verbose, .info, .warning, .error, .fatal, .panic]
    }

    public typealias Handler = @Sendable (Level, String) -> Void

    /// The handler `route` installed, and whether the next line starts a new message (libav builds lines in pieces).
    private struct Route {
        var handler: Handler?
        var printPrefix: Int32 = 1
    }
    private static let state = Mutex(Route())

    /// Nothing is logged (`av_log_set_level(AV_LOG_QUIET)`): the default for every stage.
    public static func quiet() { av_log_set_level(AV_LOG_QUIET) }

    /// Lines at `level` or more severe go to `handler`, one complete line (without its newline) at a time.
    /// The corresponding C functions are `av_log_set_callback` and `av_log_format_line2`.
    public static func route(level: Level, _ handler: @escaping Handler) {
        state.withLock { $0.handler = handler }
        av_log_set_callback { object, level, format, arguments in LibavLog.forward(object, level, format, arguments) }
        av_log_set_level(level.rawValue)
    }

    /// What the C callback does: formats the line with libav's own prefix rules and hands it to the handler. Called by libav
    /// on whatever thread logs; the lock covers the prefix state only, the handler runs outside it.
    private static func forward(_ object: UnsafeMutableRawPointer?, _ level: Int32, _ format: UnsafePointer<CChar>?,
                                _ arguments: CVaListPointer?) {
        guard level <= av_log_get_level(), let format, let arguments else { return }
        let message: (Handler, String)? = state.withLock { state in
            guard let handler = state.handler else { return nil }
            var line = [CChar](repeating: 0, count: 1024)
            var prefix = state.printPrefix
            _ = av_log_format_line2(object, level, format, arguments, &line, Int32(line.count), &prefix)
            state.printPrefix = prefix
            return (handler, String(nulTerminated: line))
        }
        guard let (handler, line) = message else { return }
        var text = line
        while text.hasSuffix("\n") { text.removeLast() }
        if !text.isEmpty { handler(Level(libav: level), text) }
    }
}
