import EncodaModel
import Foundation
import Synchronization

/// Turns errors into one clear line on stderr and an exit status. The only place that ends the process.
public enum Diagnostics {
    public static func fail(_ error: Error) -> Never {
        let e = (error as? EncodaError) ?? EncodaError(.internalError, "unexpected error: \(error)")
        StandardError.write("encoda: error: " + e.description + "\n")
        exit(e.exitStatus)
    }

    public static func note(_ s: String) {
        let line = "encoda: " + s + "\n"
        if let display = NoteRoute.display { display(line) } else { StandardError.write(line) }
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
