#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// A file written front to back through the C library's buffer (many small writes, e.g. a chunk file's packet
/// headers, become few system calls), created through the funnel and flushed to storage by `finish`.
/// The corresponding C type is `FILE`.
public final class FileStream {
    private var file: UnsafeMutablePointer<FILE>?
    public let path: String

    /// Creates (or empties) `path`, as `fopen(path, "wb")` does.
    public init(creating path: String) throws(FileSystemError) {
        self.path = path
        let fd = try FileSystem.open(path, O_CREAT | O_TRUNC | O_WRONLY, mode: 0o666)
        guard let f = fdopen(fd.rawValue, "wb") else {
            let e = Errno(rawValue: errno)
            FileSystem.close(fd)
            throw FileSystemError(.open, path, errno: e)
        }
        file = f
    }

    deinit { if let file { fclose(file) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        guard bytes.count > 0 else { return }
        if fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count {
            throw FileSystemError(.write, path, errno: Errno(rawValue: errno))
        }
    }

    /// Writes what the buffer holds, flushes the file to storage and closes it.
    public func finish() throws(FileSystemError) {
        guard let file else { return }
        if fflush(file) != 0 { throw FileSystemError(.write, path, errno: Errno(rawValue: errno)) }
        try FileSystem.fsync(FileDescriptor(rawValue: fileno(file)), path: path)
        fclose(file)
        self.file = nil
    }
}
