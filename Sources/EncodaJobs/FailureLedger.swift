import EncodaModel
import EncodaSystem
import Foundation
import SystemPackage

/// Failed attempts at chunks, one file each (`failures/NNNNN-TOKEN-N.json`), and the quarantine that follows
/// `maxAttempts` of them. Only failures of the chunk itself are recorded: the encoder refused or crashed on it,
/// its input could not be decoded, its output failed a check. A lease taken over from a worker that was
/// killed, frozen or cut off from the share is not the chunk's fault and is never recorded here, so killing
/// workers cannot quarantine a healthy chunk.
///
/// Analysis segments keep the same ledger in TMP/analysis (`WorkDirectory.analysis`), numbered by segment.
public struct FailureLedger: Sendable {
    public let directory: WorkDirectory
    public let jobID: String
    public let maxAttempts: Int
    /// How many chunks (or segments) the job has: numbers at or above it are not the job's.
    public let units: Int

    public init(directory: WorkDirectory, jobID: String, maxAttempts: Int, units: Int) {
        self.directory = directory; self.jobID = jobID; self.maxAttempts = maxAttempts; self.units = units
    }

    public init(directory: WorkDirectory, manifest: JobManifest) {
        self.init(directory: directory, jobID: manifest.jobID, maxAttempts: manifest.farmSettings.maxAttempts, units: manifest.chunks.count)
    }

    /// The failure records (by name) counting against `chunk`.
    public func records(_ chunk: Int) -> [String] {
        directory.list(directory.failures).filter { JobState.failureChunk($0) == chunk && $0.hasSuffix(".json") }
    }

    public func count(_ chunk: Int) -> Int { records(chunk).count }

    /// Records one failed attempt. Throws when the record cannot be written (a full TMP): a failure that cannot
    /// be counted must stop the worker, not send it round the same chunk again.
    public func record(_ chunk: Int, error: String, by who: WorkerIdentity, at time: Double) throws {
        let f = ChunkFailure(jobID: jobID, chunk: chunk, worker: who, at: time, error: error)
        let path = directory.failures + "/\(Chunk.name(chunk))-\(who.token)-\(UInt32.random(in: 0...UInt32.max)).json"
        try AtomicFile.writeJSON(f, to: path, staging: directory.staging)
    }

    /// Whether `chunk` is quarantined now (listed: a listing is fresh over NFS).
    public func isQuarantined(_ chunk: Int) -> Bool {
        directory.chunkIDs(in: directory.quarantine, suffix: ".json").contains(chunk)
    }

    /// Quarantines `chunk` once it has failed `maxAttempts` times. Returns true if this call quarantined it.
    @discardableResult
    public func quarantineIfNeeded(_ chunk: Int, by who: WorkerIdentity, at time: Double) -> Bool {
        quarantine(chunk, by: who, at: time) != nil
    }

    /// As `quarantineIfNeeded`, returning the failed attempts counted when this call quarantined it, else nil.
    public func quarantine(_ chunk: Int, by who: WorkerIdentity, at time: Double) -> Int? {
        let names = records(chunk)
        guard names.count >= maxAttempts else { return nil }
        let failures = names.compactMap { try? JSONCoding.read(ChunkFailure.self, from: directory.failures + "/" + $0, what: "failure record") }
        let lastError = failures.max(by: { $0.at < $1.at })?.error ?? "unknown error"
        let q = ChunkFailure(jobID: jobID, chunk: chunk, worker: who, at: time,
                             error: "failed \(names.count) times; last error: \(lastError)")
        return (try? AtomicFile.publishJSONExclusive(q, to: directory.quarantineRecord(chunk), staging: directory.staging)) == true
            ? names.count : nil
    }

    /// Gives every quarantined chunk one more attempt: its quarantine record goes, and its oldest failure
    /// records are retired (renamed `*.json.retired`, kept for the record but no longer counted) until one
    /// attempt is left before the limit. Returns the chunks released, with their last error.
    public func releaseQuarantine() -> [(chunk: Int, error: String)] {
        var released: [(Int, String)] = []
        let limit = maxAttempts
        for id in directory.chunkIDs(in: directory.quarantine, suffix: ".json").sorted() where id < units {
            let path = directory.quarantineRecord(id)
            let q = try? JSONCoding.read(ChunkFailure.self, from: path, what: "quarantine record")
            guard (try? FileSystem.unlink(path)) != nil else { continue }
            let failures = records(id).compactMap { name -> (String, Double)? in
                let f = try? JSONCoding.read(ChunkFailure.self, from: directory.failures + "/" + name, what: "failure record")
                return (name, f?.at ?? 0)
            }.sorted { $0.1 < $1.1 }
            for (name, _) in failures.prefix(max(0, failures.count - (limit - 1))) {
                let p = directory.failures + "/" + name
                try? FileSystem.rename(p, to: p + ".retired")
            }
            released.append((id, q?.error ?? "failed too often"))
        }
        return released
    }
}

/// Whether a failed write means TMP is out of space (or the user's quota), rather than a fault of the chunk.
public enum StorageExhaustion {
    public static let errnos: Set<Int32> = [ENOSPC, EDQUOT]

    /// True if `message` carries the text of ENOSPC/EDQUOT (libav and encoda's own errors quote strerror), or a
    /// fresh probe write of 1 MiB into TMP fails with one of them.
    public static func isExhausted(_ directory: WorkDirectory, message: String) -> Bool {
        for e in errnos where message.contains(FileSystemError.reason(Errno(rawValue: e))) { return true }
        return probeFails(directory)
    }

    /// Writes and syncs 1 MiB in TMP's staging folder, then removes it.
    public static func probeFails(_ directory: WorkDirectory, bytes: Int = 1 << 20) -> Bool {
        let probe = directory.staging + "/space-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd: FileDescriptor
        do { fd = try FileSystem.open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC) } catch { return errnos.contains(error.errno.rawValue) }
        defer { FileSystem.close(fd); try? FileSystem.unlink(probe) }
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        do {
            for _ in stride(from: 0, to: bytes, by: chunk.count) { try FileSystem.write(fd, chunk, path: probe) }
            try FileSystem.fsync(fd, path: probe)
        } catch {
            return errnos.contains(error.errno.rawValue)
        }
        return false
    }

    /// Free bytes for an unprivileged writer in TMP, or nil.
    public static func freeBytes(_ directory: WorkDirectory) -> Int64? {
        var s = statvfs()
        guard statvfs(directory.root, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    public static func fullError(_ directory: WorkDirectory) -> EncodaError {
        let free = freeBytes(directory).map { String(format: " (%.1f MB free)", Double($0) / 1e6) } ?? ""
        return EncodaError(.workDirectory, "TMP \(directory.root) is full\(free); every published chunk is kept. Free some space (or give TMP more), then re-run the same command to resume")
    }
}
