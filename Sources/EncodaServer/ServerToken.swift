import EncodaModel
import Foundation

/// The bearer token every API request must carry: read from a private file, or made on first start.
public struct ServerToken: Sendable {
    let value: [UInt8]

    init(_ text: String) { value = Array(text.utf8) }

    /// Reads `--token-file`, refusing a file that others may read; without one, reads (or first makes)
    /// ROOT/.encoda-token with mode 0600. `made` is the path of a token file written now, to be printed.
    public static func load(tokenFile: String?, root: String) throws -> (token: ServerToken, path: String, made: Bool) {
        if let path = tokenFile { return (try read(path, option: "--token-file"), path, false) }
        let path = root + "/.encoda-token"
        if FileManager.default.fileExists(atPath: path) { return (try read(path, option: "the token file"), path, false) }
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()   // getrandom(2): cryptographically secure on Linux
        for i in bytes.indices { bytes[i] = rng.next() }
        let text = bytes.map { String(format: "%02x", $0) }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw EncodaError(.workDirectory, "cannot create the token file \(path): \(String(cString: strerror(errno))); check that ROOT is writable")
        }
        let line = Array((text + "\n").utf8)
        let ok = write(fd, line, line.count) == line.count && fsync(fd) == 0
        close(fd)
        guard ok else { throw EncodaError(.workDirectory, "cannot write the token file \(path); check that ROOT is writable and not full") }
        return (ServerToken(text), path, true)
    }

    private static func read(_ path: String, option: String) throws -> ServerToken {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw EncodaError(.usage, "\(option) \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw EncodaError(.usage, String(format: "%@ %@ has mode %04o, so others may read the token; run `chmod 600 %@`", option, path, Int(st.st_mode & 0o7777), path))
        }
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), text.count >= 16 else {
            throw EncodaError(.usage, "\(option) \(path) must hold one token of at least 16 characters")
        }
        return ServerToken(text)
    }

    /// Compares in time that depends only on the lengths, not on where the first difference is.
    func matches(_ candidate: Substring) -> Bool {
        let c = Array(candidate.utf8)
        var diff = UInt8(c.count == value.count ? 0 : 1)
        for i in 0..<c.count { diff |= c[i] ^ value[i % value.count] }
        return diff == 0
    }
}
