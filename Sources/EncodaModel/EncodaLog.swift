import Logging
import Synchronization

/// encoda's diagnostics through swift-log: one threshold for the whole process and the labels its loggers use.
/// Progress is not logging and does not come through here.
///
/// Levels: `.notice` (the default) shows encoda's notes, warnings and errors, as encoda always printed them;
/// `--quiet` (`.warning`) only warnings and errors; `-v` (`.info`) and `-vv` (`.debug`) add detail. The encoder and
/// libav libraries' own lines are passed on a level lower than they call themselves (see `x264`, `libav`): encoda
/// reports their failures in its own words, so what they print is detail, shown from the level it always was.
public enum EncodaLog {
    /// encoda's own messages: the handler prefixes them with "encoda: ".
    public static let encoda = "encoda"
    /// The encoder and libav libraries' own lines, passed on as the library wrote them (no prefix).
    public static let x264 = "encoda.x264"
    public static let svtAv1 = "encoda.svtav1"
    public static let libav = "encoda.libav"
    /// A worker's lines ("encoda worker HOST:PID: …"), which carry their own prefix: written as they are, on stderr,
    /// or on stdout under `workerStdout` (`--log-stdout`: where a scheduler collects a task's log).
    public static let worker = "encoda.worker"
    public static let workerStdout = "encoda.worker.stdout"

    /// Whether a label carries a library's own lines (written as they are) rather than encoda's.
    public static func isLibrary(_ label: String) -> Bool { label == x264 || label == svtAv1 || label == libav }

    /// Whether a label's lines are written as they are, without encoda's "encoda: " prefix.
    public static func isVerbatim(_ label: String) -> Bool { isLibrary(label) || label == worker || label == workerStdout }

    private static let threshold = Mutex<Logger.Level>(.notice)

    /// The process's threshold. Set once at the start of a command (before any thread that logs is started);
    /// loggers made afterwards take it.
    public static var level: Logger.Level {
        get { threshold.withLock { $0 } }
        set { threshold.withLock { $0 = newValue } }
    }

    /// A logger for `label` at the process's threshold.
    public static func logger(_ label: String = encoda) -> Logger {
        var l = Logger(label: label)
        l.logLevel = level
        return l
    }

    /// The threshold for the command-line flags: `--quiet` wins over `-v`.
    public static func level(quiet: Bool, verbosity: Int) -> Logger.Level {
        if quiet { return .warning }
        switch verbosity {
        case ...0: return .notice
        case 1: return .info
        case 2: return .debug
        default: return .trace
        }
    }

    /// Passes on one of a worker's lines, its prefix included, at `.notice`: shown as encode's notes are (hidden by
    /// --quiet, kept by -v).
    public static func workerLine(_ line: String, stdout: Bool) {
        logger(stdout ? workerStdout : worker).notice("\(line)")
    }

    // MARK: libav

    /// The level for a line libav logged at `libavLevel` (AV_LOG_PANIC 0, FATAL 8, ERROR 16, WARNING 24, INFO 32,
    /// VERBOSE 40, DEBUG 48, TRACE 56). libav was always silenced (`av_log_set_level(AV_LOG_QUIET)`) and encoda
    /// reports libav's failures itself, so its errors and warnings are detail (`.info`, shown with -v), its
    /// information `.debug`, the rest `.trace`: the default output stays as it was.
    public static func level(libav libavLevel: Int32) -> Logger.Level {
        switch libavLevel {
        case ...24: return .info
        case ...32: return .debug
        default: return .trace
        }
    }

    /// The libav threshold (for `av_log_set_level`) that lets through what `level` would show: AV_LOG_QUIET (-8)
    /// at the default level and above, as before.
    public static func libavThreshold(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace: return 56
        case .debug: return 32
        case .info: return 24
        default: return -8
        }
    }

    /// Passes on one line libav logged at `libavLevel`; for the FFmpeg overlay's log callback.
    public static func libavLine(level libavLevel: Int32, _ line: String) {
        logger(libav).log(level: level(libav: libavLevel), "\(line)")
    }
}
