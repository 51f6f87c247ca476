import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation

extension JobStatus.Report {
    /// `status --json`'s `analysis`: INPUT's analysis as leased segments (TMP/analysis.json and TMP/analysis), beside
    /// the chunks.
    public struct Analysis: Codable {
        public var segments: Int
        public var segmentsDone: Int
        public var frames: Int
        public var framesDone: Int
        /// Published segments: who analysed each, and when (the worker's clock).
        public var done: [Done]
        /// Segments done per worker, in the order workers first published one.
        public var byWorker: [ByWorker]
        public var running: [Running]
        public var failed: [Failed]
        public var quarantined: [Quarantined]

        public struct Done: Codable {
            public var segment: Int; public var frames: Int
            public var worker: String; public var host: String
            public var startedAt: Double; public var finishedAt: Double
        }
        public struct ByWorker: Codable { public var worker: String; public var host: String; public var segments: Int }
        public struct Running: Codable {
            public var segment: Int; public var frames: Int
            public var worker: String; public var host: String; public var pid: Int32
            public var runningSeconds: Double?
            public var heartbeatAgeSeconds: Double
            public var stale: Bool
        }
        public struct Failed: Codable { public var segment: Int; public var attempts: Int }
        public struct Quarantined: Codable { public var segment: Int; public var error: String }
    }
}

extension JobStatus {
    /// What TMP/analysis says of `manifest`'s segments at `now` (the server's clock when it could be read). Only reads.
    /// A record that is not what its segment asks for is not counted as done.
    static func analysis(_ dir: WorkDirectory, manifest m: AnalysisManifest, now: Double) -> Report.Analysis {
        let a = dir.analysis
        let count = m.segments.count
        var r = Report.Analysis(segments: count, segmentsDone: 0, frames: m.segments.reduce(0) { $0 + $1.segment.frames.count },
                                framesDone: 0, done: [], byWorker: [], running: [], failed: [], quarantined: [])
        for id in a.chunkIDs(in: a.results, suffix: ".json").sorted() where id < count {
            guard let rec = try? JSONCoding.read(SegmentRecord.self, from: a.result(id), what: "segment record"), m.accepts(rec, for: id) else { continue }
            r.done.append(.init(segment: id, frames: rec.segment.frames.count, worker: rec.worker, host: rec.host,
                                startedAt: rec.startedAt, finishedAt: rec.finishedAt))
        }
        r.segmentsDone = r.done.count
        r.framesDone = r.done.reduce(0) { $0 + $1.frames }
        for d in r.done.sorted(by: { $0.finishedAt < $1.finishedAt }) {
            if let i = r.byWorker.firstIndex(where: { $0.worker == d.worker && $0.host == d.host }) {
                r.byWorker[i].segments += 1
            } else {
                r.byWorker.append(.init(worker: d.worker, host: d.host, segments: 1))
            }
        }
        let doneIDs = Set(r.done.map(\.segment))
        let book = LeaseBook(directory: a, jobID: m.jobID, me: WorkerIdentity(host: "", pid: 0, token: ""), leaseSeconds: m.farmSettings.leaseSeconds)
        for id in Set(a.list(a.leases).compactMap(OwnNames.leaseID)).sorted() where id < count && !doneIDs.contains(id) {
            guard let o = try? book.readOwner(a.lease(id)), let t = try? FileTimes.mtime(a.lease(id)) else { continue }
            let age = max(0, now - t)
            r.running.append(.init(segment: id, frames: m.segments[id].segment.frames.count, worker: o.worker.token, host: o.worker.host,
                                   pid: o.worker.pid, runningSeconds: o.claimedAt.map { max(0, now - $0) }, heartbeatAgeSeconds: age,
                                   stale: age > m.farmSettings.leaseSeconds))
        }
        let quarantined = a.chunkIDs(in: a.quarantine, suffix: ".json").filter { $0 < count }
        r.quarantined = quarantined.sorted().map { id in
            let q = try? JSONCoding.read(ChunkFailure.self, from: a.quarantineRecord(id), what: "quarantine record")
            return .init(segment: id, error: q?.error ?? "failed too often")
        }
        var attempts: [Int: Int] = [:]
        for name in a.list(a.failures) where OwnNames.isOwn(name, in: "failures") {
            if let id = name.split(separator: "-").first.flatMap({ Int($0) }), id < count { attempts[id, default: 0] += 1 }
        }
        r.failed = attempts.keys.sorted().filter { !quarantined.contains($0) && !doneIDs.contains($0) }.map { .init(segment: $0, attempts: attempts[$0]!) }
        return r
    }
}
