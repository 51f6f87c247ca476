import EncodaModel
import Foundation

/// Reads the file server's clock: touch a probe file and read back its mtime. Lease ages are judged by this
/// clock only, so hosts with skewed clocks still agree on which lease is stale.
public struct ServerClock: Sendable {
    let probe: String

    public init(directory: WorkDirectory, owner: String) {
        probe = directory.clock + "/" + owner
    }

    /// The server's notion of now, in seconds since the epoch.
    ///
    /// A WRITE makes the file server stamp the file's mtime with its own clock, and the attributes after an
    /// fsync come from the server, so the mtime read back is the server's clock, not this host's. No timestamp
    /// is ever sent from here: `futimens(NULL)` would be "set to server time" over NFS, but a local time shim
    /// (libfaketime, a container runtime's) can turn it into an explicit time from this host's clock.
    public func now() throws -> Double {
        let fd = StaleHandle.retry { open(probe, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw EncodaError(.workDirectory, "cannot touch \(probe): \(String(cString: strerror(errno))); check that TMP is writable") }
        defer { close(fd) }
        var byte: UInt8 = 0x2e
        guard pwrite(fd, &byte, 1, 0) == 1, fsync(fd) == 0 else {
            throw EncodaError(.workDirectory, "cannot write \(probe): \(String(cString: strerror(errno))); check TMP")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EncodaError(.workDirectory, "cannot stat \(probe): \(String(cString: strerror(errno)))") }
        return FileTimes.seconds(st.st_mtim)
    }

    public func remove() { unlink(probe) }
}

public enum FileTimes {
    static func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

    /// The modification time of `path` as the server reports it. Opening first makes the NFS client
    /// revalidate the file's attributes with the server (close-to-open), so this is not the ~3 s old
    /// attribute-cache value a bare stat() may return.
    public static func mtime(_ path: String) throws -> Double {
        var st = stat()
        let fd = StaleHandle.retry { open(path, O_RDONLY | O_CLOEXEC) }
        if fd >= 0 {
            defer { close(fd) }
            guard fstat(fd, &st) == 0 else { throw EncodaError(.workDirectory, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        } else {
            guard StaleHandle.retry({ stat(path, &st) }) == 0 else {
                throw EncodaError(.workDirectory, "cannot stat \(path): \(String(cString: strerror(errno)))")
            }
        }
        return seconds(st.st_mtim)
    }

    /// Sets mtime to the server's now (a heartbeat) by rewriting the file's first byte with itself: the server
    /// stamps the WRITE with its own clock and the content does not change. If `verify` is given, it sees the
    /// file's content through the same open file first and can refuse, so the file checked is the file
    /// touched (a lease replaced by a stealer between a check by path and a touch by path is not renewed).
    /// Returns false when the file is gone, empty, or refused.
    public static func touch(_ path: String, verify: ((Data) -> Bool)? = nil) -> Bool {
        let fd = StaleHandle.retry { open(path, O_RDWR | O_CLOEXEC) }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var content = Data()
        if let verify {
            var buf = [UInt8](repeating: 0, count: 64 * 1024)
            var off: off_t = 0
            while true {
                let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off) }
                if n <= 0 { break }
                content.append(contentsOf: buf[0..<n])
                off += off_t(n)
                if content.count > 1 << 20 { return false }
            }
            guard verify(content) else { return false }
        }
        var first: UInt8 = 0
        guard pread(fd, &first, 1, 0) == 1 else { return false }
        return pwrite(fd, &first, 1, 0) == 1 && fsync(fd) == 0
    }
}
