import EncodaModel
import Foundation

/// Write-to-temp → fsync → rename (or link, when the first writer must win). Nothing in TMP is ever
/// rewritten in place, so a reader sees either nothing or a whole file.
public enum AtomicFile {
    static func writeTemp(_ data: Data, staging: String) throws -> String {
        let temp = staging + "/\(UInt64.random(in: 0...UInt64.max)).tmp"
        let fd = open(temp, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard fd >= 0 else { throw EncodaError(.workDirectory, "cannot write in \(staging): \(String(cString: strerror(errno))); check TMP") }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        guard ok, fsync(fd) == 0 else {
            unlink(temp)
            throw EncodaError(.workDirectory, "writing in \(staging) failed: \(String(cString: strerror(errno))); check free space in TMP")
        }
        return temp
    }

    /// Replaces `path` atomically with `data`.
    public static func write(_ data: Data, to path: String, staging: String) throws {
        let temp = try writeTemp(data, staging: staging)
        if rename(temp, path) != 0 {
            let e = errno
            unlink(temp)
            throw EncodaError(.workDirectory, "cannot publish \(path): \(String(cString: strerror(e)))")
        }
    }

    /// Publishes `data` at `path` only if nothing is there yet. Returns false when another writer won.
    public static func publishExclusive(_ data: Data, to path: String, staging: String) throws -> Bool {
        let temp = try writeTemp(data, staging: staging)
        defer { unlink(temp) }
        if link(temp, path) == 0 { return true }
        let e = errno
        if e == EEXIST {
            // Over NFS a retransmitted LINK can report EEXIST although it was ours: compare contents.
            if let existing = FileManager.default.contents(atPath: path), existing == data { return true }
            return false
        }
        throw EncodaError(.workDirectory, "cannot publish \(path): \(String(cString: strerror(e)))")
    }

    public static func writeJSON<T: Encodable>(_ value: T, to path: String, staging: String) throws {
        try write(try JSONCoding.encode(value), to: path, staging: staging)
    }

    public static func publishJSONExclusive<T: Encodable>(_ value: T, to path: String, staging: String) throws -> Bool {
        try publishExclusive(try JSONCoding.encode(value), to: path, staging: staging)
    }
}

/// JSON in and out of TMP. Reading treats the file as untrusted: size-limited, type errors reported clearly.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(value)
    }

    public static func read<T: Decodable>(_ type: T.Type, from path: String, what: String) throws -> T {
        var attempts = 0
        while true {
            attempts += 1
            let fd = open(path, O_RDONLY)
            if fd < 0 {
                if errno == ESTALE && attempts < 5 { usleep(50_000); continue }
                throw EncodaError(.stateCorrupt, "cannot read \(what) \(path): \(String(cString: strerror(errno)))")
            }
            var st = stat()
            fstat(fd, &st)
            close(fd)
            guard st.st_size <= Int64(Limits.maxStateFileBytes) else {
                throw EncodaError(.stateCorrupt, "\(what) \(path) is \(st.st_size) bytes, too large to be genuine")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                if attempts < 5 { usleep(50_000); continue }
                throw EncodaError(.stateCorrupt, "cannot read \(what) \(path)")
            }
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
                throw EncodaError(.stateCorrupt, "\(what) \(path) is malformed at \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)")
            } catch let DecodingError.keyNotFound(key, _) {
                throw EncodaError(.stateCorrupt, "\(what) \(path) is malformed: missing \(key.stringValue)")
            } catch let DecodingError.dataCorrupted(ctx) {
                throw EncodaError(.stateCorrupt, "\(what) \(path) is not valid JSON: \(ctx.debugDescription)")
            } catch {
                throw EncodaError(.stateCorrupt, "\(what) \(path) cannot be decoded: \(error)")
            }
        }
    }
}
