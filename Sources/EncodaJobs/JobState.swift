import EncodaModel
import Foundation

/// A snapshot of a job's progress, read from TMP by listing its folders.
public struct JobState: Sendable {
    public var done: [Int: ChunkResult] = [:]
    public var quarantined: [Int: String] = [:]
    public var failures: [Int: Int] = [:]
    public var leased: Set<Int> = []

    public func isFinished(_ chunk: Int) -> Bool { done[chunk] != nil || quarantined[chunk] != nil }

    /// Reads the state. Result records that do not check out against the plan are moved aside (renamed to
    /// `.invalid-*`), so the chunk gets encoded again instead of blocking the job.
    public static func scan(_ dir: WorkDirectory, manifest: JobManifest) -> JobState {
        var s = JobState()
        for id in dir.chunkIDs(in: dir.results, suffix: ".json") where id < manifest.chunks.count {
            let path = dir.result(id)
            do {
                let r = try JSONCoding.read(ChunkResult.self, from: path, what: "result record")
                try r.validate(against: manifest, chunkID: id)
                guard FileManager.default.fileExists(atPath: dir.chunkFile(named: r.file)) else {
                    throw EncodaError(.stateCorrupt, "chunk file \(r.file) is missing")
                }
                s.done[id] = r
            } catch {
                rename(path, path + ".invalid-\(UInt32.random(in: 0...UInt32.max))")
            }
        }
        for id in dir.chunkIDs(in: dir.quarantine, suffix: ".json") where id < manifest.chunks.count {
            let q = try? JSONCoding.read(ChunkFailure.self, from: dir.quarantineRecord(id), what: "quarantine record")
            s.quarantined[id] = q?.error ?? "failed too often"
        }
        for name in dir.list(dir.failures) where name.hasSuffix(".json") {
            if let id = Int(name.prefix(5)), name.count > 6 { s.failures[id, default: 0] += 1 }
        }
        s.leased = dir.chunkIDs(in: dir.leases, suffix: ".lock")
        return s
    }

    public func framesDone(_ manifest: JobManifest) -> Int {
        done.keys.reduce(0) { $0 + manifest.chunks[$1].range.count }
    }
    public func bytesDone() -> Int64 { done.values.reduce(0) { $0 + $1.bytes } }
}
