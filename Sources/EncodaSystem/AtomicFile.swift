import EncodaModel
import Foundation
import SystemPackage

/// Write-to-temp → fsync → rename (or link, when the first writer must win). Nothing in TMP is ever
/// rewritten in place, so a reader sees either nothing or a whole file, also after a crash of the machine.
public enum AtomicFile {
    /// Writes `data` to a new file at `temp` and flushes it to storage; removes it again when that fails.
    static func writeTemp(_ data: Data, at temp: String, flags: Int32 = O_EXCL) throws {
        do {
            try FileSystem.writeDurably(data, to: temp, flags: O_CREAT | O_WRONLY | O_CLOEXEC | flags)
        } catch {
            if error.operation != .open { try? FileSystem.unlink(temp) }
            throw EncodaError(.workDirectory, "cannot write a temporary file", error,
                              advice: error.operation == .open ? "check TMP" : "check free space in TMP")
        }
    }

    static func writeTemp(_ data: Data, staging: String) throws -> String {
        let temp = staging + "/\(UInt64.random(in: 0...UInt64.max)).tmp"
        try writeTemp(data, at: temp)
        return temp
    }

    /// Replaces `path` atomically with `data`, through a temporary name in `staging`.
    public static func write(_ data: Data, to path: String, staging: String) throws {
        try publish(try writeTemp(data, staging: staging), at: path)
    }

    /// Replaces `path` atomically with `data`, through the temporary name `temp` (a name its folder's readers
    /// know to skip); an earlier file at `temp` is replaced.
    public static func write(_ data: Data, to path: String, temp: String) throws {
        try writeTemp(data, at: temp, flags: O_TRUNC)
        try publish(temp, at: path)
    }

    private static func publish(_ temp: String, at path: String) throws {
        do { try FileSystem.rename(temp, to: path) } catch {
            try? FileSystem.unlink(temp)
            throw EncodaError(.workDirectory, "cannot publish \(path)", error)
        }
    }

    /// Publishes `data` at `path` only if nothing is there yet. Returns false when another writer won.
    public static func publishExclusive(_ data: Data, to path: String, staging: String) throws -> Bool {
        let temp = try writeTemp(data, staging: staging)
        defer { try? FileSystem.unlink(temp) }
        do {
            try FileSystem.link(temp, to: path)
            return true
        } catch where error.errno == .fileExists {
            // Over NFS a retransmitted LINK can report EEXIST although it was ours: compare contents.
            if let existing = FileManager.default.contents(atPath: path), existing == data { return true }
            return false
        } catch {
            throw EncodaError(.workDirectory, "cannot publish \(path)", error)
        }
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
        let read: (size: Int64, data: Data?)
        do {
            read = try SystemCall.retryingStale { () throws(FileSystemError) -> (size: Int64, data: Data?) in
                let fd = try FileSystem.open(path, O_RDONLY | O_CLOEXEC)
                defer { FileSystem.close(fd) }
                let size = Int64(try FileSystem.stat(fd, path: path).st_size)
                guard size <= Int64(Limits.maxStateFileBytes) else { return (size, nil) }
                return (size, try FileSystem.read(fd, count: Int(size), path: path))
            }
        } catch {
            throw EncodaError(.stateCorrupt, "cannot read \(what)", error)
        }
        guard let data = read.data else {
            throw EncodaError(.stateCorrupt, "\(what) \(path) is \(read.size) bytes, too large to be genuine")
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
