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
    /// Over NFS, `futimens(fd, NULL)` is sent as SETATTR "set mtime to server time" (NFSv3 SET_TO_SERVER_TIME,
    /// NFSv4 SET_TO_SERVER_TIME4) and the reply carries the attributes the server stamped, so the mtime read
    /// back is the server's clock, not this host's, and it is fresh rather than from the attribute cache.
    public func now() throws -> Double {
        let fd = StaleHandle.retry { open(probe, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw EncodaError(.workDirectory, "cannot touch \(probe): \(String(cString: strerror(errno))); check that TMP is writable") }
        defer { close(fd) }
        guard futimens(fd, nil) == 0 else {
            throw EncodaError(.workDirectory, "cannot set the time of \(probe): \(String(cString: strerror(errno)))")
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

    /// Sets mtime to the server's now (the heartbeat of a lease): utimensat(NULL) is "set to server time"
    /// over NFS. Returns false when the file is gone.
    public static func touch(_ path: String) -> Bool {
        StaleHandle.retry { utimensat(AT_FDCWD, path, nil, 0) } == 0
    }
}
