import Foundation

/// NFS answers ESTALE when a file handle a client cached no longer names a file on the server, typically
/// because another host renamed a new file over the name or removed it. The next lookup by name gets a
/// fresh handle, so an operation by path is simply repeated a few times.
public enum StaleHandle {
    public static let attempts = 6

    /// Repeats `op` (a system call by path returning -1 and setting errno on failure) while it fails with
    /// ESTALE; returns its last result with errno preserved.
    @discardableResult
    public static func retry(_ op: () -> Int32) -> Int32 {
        var r: Int32 = -1
        for attempt in 0..<attempts {
            r = op()
            if r >= 0 || errno != ESTALE { return r }
            let e = errno
            usleep(useconds_t(20_000 * (attempt + 1)))
            errno = e
        }
        return r
    }
}
