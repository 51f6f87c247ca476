#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// A failed file-system call: which operation, on which path (and, for rename and link, to which), and the errno.
/// Its description is the one form every such message takes, e.g. "rename /a → /b: No space left on device".
/// The errno's text is the C library's own (`strerror`), which other code matches (`StorageExhaustion`).
public struct FileSystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Operation: String, Sendable {
        case open, read, write, fsync, link, rename, unlink, mkdir, rmdir, list, stat
    }

    public let operation: Operation
    public let path: String
    /// The second path of a rename or link.
    public let destination: String?
    public let errno: Errno

    public init(_ operation: Operation, _ path: String, to destination: String? = nil, errno: Errno) {
        self.operation = operation
        self.path = path
        self.destination = destination
        self.errno = errno
    }

    /// The C library's text for the errno, e.g. "No space left on device".
    public var reason: String { Self.reason(errno) }

    /// The C library's text for `errno`, as it appears in messages that quote it (libav's and encoda's own).
    public static func reason(_ errno: Errno) -> String { String(cString: strerror(errno.rawValue)) }

    public var description: String {
        "\(operation.rawValue) \(path)\(destination.map { " → " + $0 } ?? ""): \(reason)"
    }
}
