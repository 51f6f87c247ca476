#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// The one retry policy of every system call encoda makes on files.
///
/// - EINTR (a signal arrived while the call blocked) is always retried: encoda's signal handlers only set flags.
/// - ESTALE is retried only for calls that name a path, a few times with a growing pause. NFS answers ESTALE when a
///   file handle the client cached no longer names a file on the server, typically because another host renamed a
///   new file over the name or removed it; the next lookup by name gets a fresh handle. A call on an open
///   descriptor whose file is gone cannot succeed by repeating it, so it is not retried.
public enum SystemCall {
    public enum Target: Sendable {
        /// The call looks a path up (open, stat, rename, link, unlink, mkdir, opendir).
        case path
        /// The call works on an open descriptor (read, write, fsync, fstat).
        case descriptor
    }

    /// How many times a call by path is made while it fails with ESTALE.
    public static let staleAttempts = 6

    /// The pause before attempt `n + 1` (0-based `n`) after an ESTALE.
    static func stalePause(after attempt: Int) -> useconds_t { useconds_t(20_000 * (attempt + 1)) }

    /// The policy itself: whether a call that failed with `e` is made again. EINTR always; ESTALE for a call by path
    /// while attempts remain (counted in `stale`, after the pause).
    private static func retries(_ e: Errno, _ target: Target, stale: inout Int) -> Bool {
        if e == .interrupted { return true }
        guard e == .staleNFSFileHandle && target == .path && stale + 1 < staleAttempts else { return false }
        usleep(stalePause(after: stale))
        stale += 1
        return true
    }

    /// Makes `call` (a C call returning a negative value and setting errno on failure) until it succeeds or fails for
    /// good under the policy above. Returns its result or its errno.
    public static func retrying<R: BinaryInteger>(_ target: Target, _ call: () -> R) -> Result<R, Errno> {
        var stale = 0
        while true {
            let r = call()
            if r >= 0 { return .success(r) }
            let e = Errno(rawValue: errno)
            if !retries(e, target, stale: &stale) { return .failure(e) }
        }
    }

    /// The same policy for a C call that returns a pointer, nil on failure (opendir, fopen).
    public static func retrying<P>(_ target: Target, _ call: () -> P?) -> Result<P, Errno> {
        var stale = 0
        while true {
            if let p = call() { return .success(p) }
            let e = Errno(rawValue: errno)
            if !retries(e, target, stale: &stale) { return .failure(e) }
        }
    }

    /// Repeats `body`, a sequence of calls that begins by looking a path up (open, then read through the
    /// descriptor), while it fails with ESTALE: a descriptor opened on a handle that went stale gives ESTALE on its
    /// reads, and only a new lookup of the path gets a fresh one. The same number of attempts and pauses as above.
    public static func retryingStale<T>(_ body: () throws(FileSystemError) -> T) throws(FileSystemError) -> T {
        var stale = 0
        while true {
            do { return try body() } catch {
                guard error.errno == .staleNFSFileHandle, stale + 1 < staleAttempts else { throw error }
                usleep(stalePause(after: stale))
                stale += 1
            }
        }
    }
}
