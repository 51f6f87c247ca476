import EncodaModel
import EncodaSystem
import Foundation

/// Reads the file server's clock: touch a probe file and read back its mtime. Lease ages are judged by this
/// clock only, so hosts with skewed clocks still agree on which lease is stale.
public struct ServerClock: Sendable {
    let probe: String

    public init(directory: WorkDirectory, owner: String) {
        probe = directory.clock + "/" + owner
    }

    /// A worker's clock: its probe is named HOST-PID-TOKEN (`OwnNames`), one per worker identity.
    public init(directory: WorkDirectory, worker: WorkerIdentity) {
        self.init(directory: directory, owner: "\(worker.host)-\(worker.pid)-\(worker.token)")
    }

    /// The server's notion of now, in seconds since the epoch.
    ///
    /// A WRITE makes the file server stamp the file's mtime with its own clock, and the attributes after an
    /// fsync come from the server, so the mtime read back is the server's clock, not this host's. No timestamp
    /// is ever sent from here: `futimens(NULL)` would be "set to server time" over NFS, but a local time shim
    /// (libfaketime, a container runtime's) can turn it into an explicit time from this host's clock.
    public func now() throws -> Double {
        do {
            let fd = try FileSystem.open(probe, O_CREAT | O_WRONLY | O_CLOEXEC)
            defer { FileSystem.close(fd) }
            try FileSystem.write(fd, [0x2e], at: 0, path: probe)
            try FileSystem.fsync(fd, path: probe)
            return FileTimes.seconds(try FileSystem.stat(fd, path: probe).st_mtim)
        } catch {
            throw EncodaError(.workDirectory, "cannot read the file server's clock", error,
                              advice: error.operation == .open ? "check that TMP is writable" : "check TMP")
        }
    }

    public func remove() { try? FileSystem.unlink(probe) }
}

public enum FileTimes {
    static func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

    /// The modification time of `path` as the server reports it. Opening first makes the NFS client
    /// revalidate the file's attributes with the server (close-to-open), so this is not the ~3 s old
    /// attribute-cache value a bare stat() may return.
    public static func mtime(_ path: String) throws -> Double {
        do {
            if let fd = try? FileSystem.open(path, O_RDONLY | O_CLOEXEC) {
                defer { FileSystem.close(fd) }
                return seconds(try FileSystem.stat(fd, path: path).st_mtim)
            }
            return seconds(try FileSystem.stat(path).st_mtim)
        } catch {
            throw EncodaError(.workDirectory, "cannot read a modification time", error)
        }
    }

    /// Sets mtime to the server's now (a heartbeat) by rewriting the file's first byte with itself: the server
    /// stamps the WRITE with its own clock and the content does not change. If `verify` is given, it sees the
    /// file's content through the same open file first and can refuse, so the file checked is the file
    /// touched (a lease replaced by a stealer between a check by path and a touch by path is not renewed).
    /// Returns false when the file is gone, empty, or refused.
    public static func touch(_ path: String, verify: ((Data) -> Bool)? = nil) -> Bool {
        guard let fd = try? FileSystem.open(path, O_RDWR | O_CLOEXEC) else { return false }
        defer { FileSystem.close(fd) }
        do {
            if let verify {
                let content = try FileSystem.readAll(fd, path: path, limit: 1 << 20)
                guard content.count <= 1 << 20, verify(content) else { return false }
            }
            var first: [UInt8] = [0]
            guard try first.withUnsafeMutableBytes({ try FileSystem.read(fd, into: $0, at: 0, path: path) }) == 1 else { return false }
            try FileSystem.write(fd, first, at: 0, path: path)
            try FileSystem.fsync(fd, path: path)
            return true
        } catch {
            return false
        }
    }
}
