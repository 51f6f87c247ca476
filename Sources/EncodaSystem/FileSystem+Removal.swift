#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Removing names from TMP and beside OUTPUT, where another process may have removed the same name first and where
/// only encoda's own kind of entry may go.
extension FileSystem {
    /// Removes the folder `path`; fails with ENOTEMPTY (EEXIST on some systems) while it holds anything, so a
    /// cleanup that removes only its own files never takes a folder a user put something in.
    public static func rmdir(_ path: String) throws(FileSystemError) {
        if case .failure(let e) = SystemCall.retrying(.path, { Glibc.rmdir(path) }) {
            throw FileSystemError(.rmdir, path, errno: e)
        }
    }

    /// Unlinks `path`; false when the name is already gone (ENOENT: removed by another process, or never made),
    /// which a cleanup counts as done. Every other failure is thrown.
    @discardableResult
    public static func unlinkIfPresent(_ path: String) throws(FileSystemError) -> Bool {
        do { try unlink(path) } catch where error.errno == .noSuchFileOrDirectory { return false }
        return true
    }

    /// Unlinks `path` only if its entry (lstat: a symbolic link itself, never what it points to) is one `accept`
    /// admits, e.g. a regular file and never a folder. Returns the removed entry's attributes (its size for a
    /// tally); nil when the name is gone (ENOENT at either step) or `accept` refused it. Other failures are thrown.
    public static func unlinkEntry(_ path: String, if accept: (Glibc.stat) -> Bool) throws(FileSystemError) -> Glibc.stat? {
        let st: Glibc.stat
        do { st = try stat(path, followLink: false) } catch where error.errno == .noSuchFileOrDirectory { return nil }
        guard accept(st), try unlinkIfPresent(path) else { return nil }
        return st
    }
}

extension Glibc.stat {
    /// The entry is a folder.
    public var isFolder: Bool { (st_mode & S_IFMT) == S_IFDIR }
    /// The entry is a regular file (not a folder, link, device or pipe).
    public var isRegularFile: Bool { (st_mode & S_IFMT) == S_IFREG }
}
