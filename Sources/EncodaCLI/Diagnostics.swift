import EncodaModel
import Foundation

/// Turns errors into one clear line on stderr and an exit status. The only place that ends the process.
public enum Diagnostics {
    public static func fail(_ error: Error) -> Never {
        let e = (error as? EncodaError) ?? EncodaError(.internalError, "unexpected error: \(error)")
        FileHandle.standardError.write(Data(("encoda: error: " + e.description + "\n").utf8))
        exit(e.exitStatus)
    }

    public static func note(_ s: String) {
        let line = "encoda: " + s + "\n"
        if let display = NoteRoute.display { display(line) } else { FileHandle.standardError.write(Data(line.utf8)) }
    }
}

/// Where notes go while a live progress display owns the bottom of the terminal (`ProgressLine`): it clears its
/// lines, prints the note, and draws them again below it, so no message lands on a progress line.
enum NoteRoute {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: (@Sendable (String) -> Void)?
    static var display: (@Sendable (String) -> Void)? {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }
}

/// Where the running binary is, so the coordinator can start workers from the same build.
enum SelfExecutable {
    static var path: String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return CommandLine.arguments[0]
    }
}

/// Host name for worker identities.
enum HostName {
    static var current: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        let s = String(cString: buf)
        return s.isEmpty ? "localhost" : s
    }
}

enum Token {
    static func make() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<12).map { _ in chars[Int.random(in: 0..<chars.count)] })
    }
}
