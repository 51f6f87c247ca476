import EncodaCodecs
import EncodaModel
import Foundation
import Logging
import Synchronization

/// Turns errors into one clear line on stderr and an exit status. The only place that ends the process.
/// Notes and warnings are swift-log records (`EncodaLog`), written by `LineLogHandler`.
public enum Diagnostics {
    /// Once, at the start of a command, before any thread is started: the threshold for its flags, encoda's handler
    /// for its own and the libraries' lines, and the encoder libraries' own levels.
    static func configure(level: Logger.Level) {
        EncodaLog.level = level
        LoggingSystem.bootstrap { label -> any LogHandler in
            // Other labels (the HTTP server's) keep swift-log's own handler, as before.
            if label == EncodaLog.encoda || EncodaLog.isVerbatim(label) { return LineLogHandler(label: label) }
            return StreamLogHandler.standardError(label: label)
        }
        EncoderLogging.configure(level: level)
    }

    public static func fail(_ error: Error) -> Never {
        let e = (error as? EncodaError) ?? EncodaError(.internalError, "unexpected error: \(error)")
        StandardError.write("encoda: error: " + e.description + "\n")
        exit(e.exitStatus)
    }

    /// What the user should know; hidden by --quiet.
    public static func note(_ s: String) { EncodaLog.logger().notice("\(s)") }

    /// Something went wrong that the run survives (a failed attempt, a file it could not remove); kept by --quiet.
    public static func warn(_ s: String) { EncodaLog.logger().warning("\(s)") }
}

/// Writes each record as one line on stderr, the way encoda always wrote them: its own messages as "encoda: …",
/// the libraries' and a worker's lines as they are ("x264 [warning]: …", "encoda worker HOST:PID: …"); through
/// `NoteRoute` while a progress display is up; a worker's on stdout when it was asked to (`EncodaLog.workerStdout`).
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = EncodaLog.level
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let text = (EncodaLog.isVerbatim(label) ? "" : "encoda: ") + event.message.description + "\n"
        if label == EncodaLog.workerStdout { StandardError.write(text, fd: 1); return }
        if let display = NoteRoute.display { display(text) } else { StandardError.write(text) }
    }
}

/// Where notes go while a live progress display owns the bottom of the terminal (`ProgressLine`): it clears its
/// lines, prints the note, and draws them again below it, so no message lands on a progress line.
enum NoteRoute {
    private static let current = Mutex<(@Sendable (String) -> Void)?>(nil)
    static var display: (@Sendable (String) -> Void)? {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// Writes to stderr with write(2), ignoring failures: Foundation's `FileHandle.write` traps when the write fails,
/// and a worker's stderr is a log file in TMP, which can be full. A message that cannot be written must never
/// kill the process that wanted to report something. `fd` 1: the same for stdout (a scheduler task's log).
enum StandardError {
    static func write(_ s: String, fd: Int32 = 2) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            // stderr may be a non-blocking pipe shared with other processes (a container's log pipe): wait until it
            // drains rather than drop the line, but never for long.
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, 2000) > 0 { continue }
            }
            return
        }
    }
}
