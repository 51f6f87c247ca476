import Foundation

/// Confines a job's INPUT and OUTPUT to ROOT: each is resolved to a real path (symlinks followed, `..` removed)
/// and must lie inside ROOT's real path, outside the server's own ROOT/jobs.
struct PathGuard: Sendable {
    /// ROOT's real path.
    let root: String

    init(root: String) { self.root = Self.realPath(root) ?? root }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    func isInside(_ real: String) -> Bool { real.hasPrefix(root + "/") && !isServerOwned(real) }
    private func isServerOwned(_ real: String) -> Bool { real == root + "/jobs" || real.hasPrefix(root + "/jobs/") || real == root + "/.encoda-token" }

    /// The request's path made absolute: relative paths are taken from ROOT.
    private func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : root + "/" + path }

    private func check(_ path: String, field: String) throws {
        guard !path.isEmpty, !path.contains("\0") else { throw APIError(.badRequest, "\(field) must be a non-empty path under ROOT", field: field) }
        if path.split(separator: "/").contains("..") {
            throw APIError(.forbidden, "\(field) \(path) contains `..`; give a path inside ROOT without it", field: field)
        }
    }

    /// INPUT's real path. An image-sequence pattern (`shot_%06d.dpx`) need not exist itself: its folder is resolved.
    func input(_ path: String) throws -> String {
        try check(path, field: "input")
        let abs = absolute(path)
        let real: String
        if let r = Self.realPath(abs) { real = r }
        else if abs.contains("%"), let dir = Self.realPath((abs as NSString).deletingLastPathComponent) {
            real = dir + "/" + (abs as NSString).lastPathComponent
        } else {
            throw APIError(.unprocessableContent, "input \(path) does not exist under ROOT \(root)", field: "input")
        }
        guard isInside(real) else {
            throw APIError(.forbidden, "input \(path) resolves to \(real), outside ROOT \(root) (or in the server's jobs folder); give a file inside ROOT", field: "input")
        }
        return real
    }

    /// OUTPUT's real path: its folder must exist inside ROOT; an existing OUTPUT (or a symlink there) is resolved too.
    func output(_ path: String) throws -> String {
        try check(path, field: "output")
        let abs = absolute(path)
        let name = (abs as NSString).lastPathComponent
        guard !name.isEmpty, name != ".", name != "..", !abs.hasSuffix("/") else {
            throw APIError(.badRequest, "output \(path) must name a file", field: "output")
        }
        guard let dir = Self.realPath((abs as NSString).deletingLastPathComponent) else {
            throw APIError(.unprocessableContent, "the folder of output \(path) does not exist under ROOT \(root); create it first", field: "output")
        }
        var real = dir + "/" + name
        var st = stat()
        if lstat(real, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
            guard let r = Self.realPath(real) else {
                throw APIError(.forbidden, "output \(path) is a symlink to nowhere; give a plain file path inside ROOT", field: "output")
            }
            real = r
        }
        guard isInside(real) else {
            throw APIError(.forbidden, "output \(path) resolves to \(real), outside ROOT \(root) (or in the server's jobs folder); give a path inside ROOT", field: "output")
        }
        return real
    }

    /// True when the two paths name the same file (same path, or the same inode through a hard link).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
