import EncodaModel
import EncodaSystem
import Foundation

/// A snapshot of a job's progress, read from TMP by listing its folders (listings are fresh over NFS;
/// lookups of names that were missing before are not, see `WorkDirectory.list`).
public struct JobState: Sendable {
    /// Chunks with a result record that checks out against the plan.
    public var done: [Int: ChunkResult] = [:]
    /// Chunks with a result file listed (checked or not): nobody should encode these again.
    public var published: Set<Int> = []
    public var quarantined: [Int: String] = [:]
    public var failures: [Int: Int] = [:]
    public var leased: Set<Int> = []
    /// Result records that do not check out, with why; only a read-only scan keeps them (see `scan`).
    public var invalid: [Int: String] = [:]

    public init() {}

    public func isFinished(_ chunk: Int) -> Bool { done[chunk] != nil || quarantined[chunk] != nil }
    /// Worth claiming: no result listed and not quarantined.
    public func isOpen(_ chunk: Int) -> Bool { !published.contains(chunk) && quarantined[chunk] == nil }

    /// Reads the state. Result records that do not check out against the plan (malformed, hostile, or their
    /// chunk file is missing) are moved aside (renamed to `.invalid-*`), so the chunk gets encoded again
    /// instead of blocking the job. `known` holds records already checked by the caller: a published record
    /// never changes, so only its presence in the listing is checked again. With `readOnly` (`encoda status`),
    /// nothing is renamed: such a record does not count as done and is listed in `invalid`, left for the workers
    /// and the coordinator to move aside. With `resultsOnly`, only `results/` is read.
    public static func scan(_ dir: WorkDirectory, manifest: JobManifest, known: [Int: ChunkResult] = [:], readOnly: Bool = false,
                            resultsOnly: Bool = false) -> JobState {
        var s = JobState()
        let count = manifest.chunks.count
        for id in dir.chunkIDs(in: dir.results, suffix: ".json") where id < count {
            s.published.insert(id)
            if let r = known[id] { s.done[id] = r; continue }
            switch check(dir, manifest: manifest, id: id, readOnly: readOnly) {
            case .done(let r): s.done[id] = r
            case .invalid: s.published.remove(id)
            case .unreadable(let why): if readOnly, let why { s.invalid[id] = why }
            }
        }
        if !resultsOnly { s.scanClaims(dir, manifest: manifest) }
        return s
    }

    /// The state with the results `view` follows (refreshed now: only what is new is read), and the quarantine,
    /// failures and leases listed (small folders: they hold the chunks in trouble or in work, not the done ones).
    public static func scan(_ dir: WorkDirectory, manifest: JobManifest, view: ResultView) -> JobState {
        view.refresh()
        var s = JobState()
        s.published = view.published
        s.done = view.done
        s.scanClaims(dir, manifest: manifest)
        return s
    }

    private mutating func scanClaims(_ dir: WorkDirectory, manifest: JobManifest) {
        let count = manifest.chunks.count
        for id in dir.chunkIDs(in: dir.quarantine, suffix: ".json") where id < count {
            let q = try? JSONCoding.read(ChunkFailure.self, from: dir.quarantineRecord(id), what: "quarantine record")
            quarantined[id] = q?.error ?? "failed too often"
        }
        for name in dir.list(dir.failures) where name.hasSuffix(".json") {
            if let id = Self.failureChunk(name), id < count { failures[id, default: 0] += 1 }
        }
        leased = dir.chunkIDs(in: dir.leases, suffix: ".lock")
    }

    /// `unreadable` carries the reason when the record was read and did not check out (nil: not there to read).
    public enum RecordCheck { case done(ChunkResult), invalid, unreadable(String?) }

    /// Reads and checks the result record of chunk `id`. One that does not check out is moved aside (unless
    /// `readOnly`): `.invalid` when it was (or is gone), `.unreadable` when it is still there.
    public static func check(_ dir: WorkDirectory, manifest: JobManifest, id: Int, readOnly: Bool) -> RecordCheck {
        let path = dir.result(id)
        do {
            let r = try JSONCoding.read(ChunkResult.self, from: path, what: "result record")
            try r.validate(against: manifest, chunkID: id)
            guard (try? FileSystem.stat(dir.chunkFile(named: r.file))) != nil else {
                throw EncodaError(.stateCorrupt, "chunk file \(r.file) is missing")
            }
            return .done(r)
        } catch {
            if readOnly { return .unreadable("\(error)") }
            if (try? FileSystem.rename(path, to: path + ".invalid-\(UInt32.random(in: 0...UInt32.max))")) != nil { return .invalid }
            return .unreadable(nil)
        }
    }

    /// The chunk a failure record `NNNNN-TOKEN-N.json` is about.
    static func failureChunk(_ name: String) -> Int? {
        let stem = name.prefix(5)
        guard name.count > 6, stem.allSatisfy(\.isNumber), name.dropFirst(5).first == "-" else { return nil }
        return Int(stem)
    }

    public func framesDone(_ manifest: JobManifest) -> Int {
        // A chunk past `manifest`'s (a plan that streams, seen by a view that has not read that far) by its record.
        done.reduce(0) { $0 + ($1.key < manifest.chunks.count ? manifest.chunks[$1.key].range.count : $1.value.frames) }
    }
    public func bytesDone() -> Int64 { done.values.reduce(0) { $0 + $1.bytes } }
}
