import EncodaModel
import EncodaSystem
import Foundation
import Synchronization

/// What `TMP/workers/T.json` says about a live worker: who it is (the fields of `WorkerIdentity`, so a reader
/// that only wants the identity decodes it unchanged) and the chunk it is encoding, with the frames the encoder
/// has put out so far. Rewritten atomically on every heartbeat; its mtime is the heartbeat.
public struct WorkerRecord: Codable, Sendable, Equatable {
    public var host: String
    public var pid: Int32
    public var token: String
    public var locality: String?
    public var task: String?
    public var jobID: String?
    /// The chunk being encoded now (nil: waiting for work).
    public var chunk: Int?
    /// Frames in that chunk, and how many of them the encoder has put out so far.
    public var chunkFrames: Int?
    public var framesEncoded: Int?

    public init(identity: WorkerIdentity, jobID: String?, chunk: Int? = nil, chunkFrames: Int? = nil, framesEncoded: Int? = nil) {
        host = identity.host; pid = identity.pid; token = identity.token; locality = identity.locality; task = identity.task
        self.jobID = jobID; self.chunk = chunk; self.chunkFrames = chunkFrames; self.framesEncoded = framesEncoded
    }

    public var identity: WorkerIdentity { WorkerIdentity(host: host, pid: pid, token: token, locality: locality, task: task) }

    /// A record read from TMP with the age of its heartbeat.
    public struct Seen: Sendable {
        public var record: WorkerRecord
        public var heartbeatAgeSeconds: Double
    }

    /// Records in TMP/workers whose heartbeat is younger than `within` seconds at `now` (both by the same clock),
    /// sorted by host and pid. Only reads.
    public static func live(_ dir: WorkDirectory, now: Double, within: Double) -> [Seen] {
        var found: [Seen] = []
        for name in dir.list(dir.workers) where name.hasSuffix(".json") && PathSafety.isPlainFileName(name) {
            let path = dir.workers + "/" + name
            guard let r = try? JSONCoding.read(WorkerRecord.self, from: path, what: "worker record"),
                  let m = try? FileTimes.mtime(path), now - m < within else { continue }
            found.append(Seen(record: r, heartbeatAgeSeconds: max(0, now - m)))
        }
        return found.sorted { ($0.record.host, $0.record.pid) < ($1.record.host, $1.record.pid) }
    }

    /// Workers with a fresh record (younger than `within` seconds at `now`) for a job known by any of `jobIDs`: a
    /// worker analysing a segment writes the analysis's id in its record, one encoding a chunk the job's.
    public static func count(_ dir: WorkDirectory, now: Double, within: Double, jobIDs: Set<String>) -> Int {
        live(dir, now: now, within: within).filter { $0.record.jobID.map(jobIDs.contains) ?? false }.count
    }

    /// Frames encoded so far inside chunks that are not done yet, by chunk id (the most any live worker reports
    /// for it, capped at the chunk's length): what a progress display adds to the frames of finished chunks.
    public static func framesInProgress(_ workers: [Seen], manifest: JobManifest, state: JobState) -> [Int: Int] {
        var partial: [Int: Int] = [:]
        for w in workers {
            guard let c = w.record.chunk, c >= 0, c < manifest.chunks.count, state.done[c] == nil,
                  w.record.jobID == nil || w.record.jobID == manifest.jobID,
                  let n = w.record.framesEncoded, n > 0 else { continue }
            partial[c] = max(partial[c] ?? 0, min(n, manifest.chunks[c].range.count))
        }
        return partial
    }
}

/// Frames the encoder has put out in the current chunk: written by the encoding thread for every frame, read
/// by the heartbeat thread.
final class FrameCounter: Sendable {
    private let n = Atomic<Int>(0)
    func set(_ v: Int) { n.store(v, ordering: .relaxed) }
    var value: Int { n.load(ordering: .relaxed) }
}
