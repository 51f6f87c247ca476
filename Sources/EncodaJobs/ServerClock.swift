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
    public func now() throws -> Double {
        let fd = open(probe, O_CREAT | O_WRONLY, 0o644)
        guard fd >= 0 else { throw EncodaError(.workDirectory, "cannot touch \(probe): \(String(cString: strerror(errno)))") }
        // Writing a byte makes the server stamp the mtime with its own clock; utimensat(UTIME_NOW) does too,
        // but a write also defeats a client that would coalesce timestamp-only updates.
        var b: UInt8 = 1
        _ = pwrite(fd, &b, 1, 0)
        // futimens(NULL) sends "set to server time" over NFS.
        futimens(fd, nil)
        close(fd)
        return try FileTimes.mtime(probe)
    }

    public func remove() { unlink(probe) }
}

public enum FileTimes {
    /// The modification time of `path` as the server reports it (a fresh stat; opening first forces
    /// close-to-open revalidation on NFS).
    public static func mtime(_ path: String) throws -> Double {
        let fd = open(path, O_RDONLY)
        var st = stat()
        if fd >= 0 {
            defer { close(fd) }
            guard fstat(fd, &st) == 0 else { throw EncodaError(.workDirectory, "cannot stat \(path)") }
        } else {
            guard stat(path, &st) == 0 else { throw EncodaError(.workDirectory, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    /// Sets mtime to the server's now (the heartbeat of a lease).
    public static func touch(_ path: String) -> Bool {
        utimensat(AT_FDCWD, path, nil, 0) == 0
    }
}
