import EncodaModel
import EncodaSystem
import Foundation

/// The chunks of a plan that streams (`JobManifest.planStreaming`), as TMP/plan holds them: the coordinator publishes
/// each `PlanRecord` once, in plan order, and everyone else reads them in that order. Because they are published in
/// order, a reader asks only for the name after the last it read: no listing, however long the plan.
public enum PlanStream {
    /// `manifest` with the chunks published after the ones it holds (unchanged for a plan that does not stream, or
    /// when no new chunk is published). Reads up to `limit` records at a time.
    public static func extend(_ manifest: JobManifest, in dir: WorkDirectory, limit: Int = 10_000) throws -> JobManifest {
        guard manifest.planStreaming == true else { return manifest }
        var records: [PlanRecord] = []
        var next = manifest.chunks.count
        // The folder is opened once first, so a name this client found missing before is looked up fresh
        // (`WorkDirectory.exists`).
        while records.count < limit, records.last?.last != true,
              records.isEmpty ? dir.exists(dir.planRecord(next), in: dir.plan) : (try? FileSystem.stat(dir.planRecord(next))) != nil {
            records.append(try JSONCoding.read(PlanRecord.self, from: dir.planRecord(next), what: "plan record"))
            next += 1
        }
        return try manifest.appending(records)
    }

    /// Publishes `records` (the coordinator, the only writer). A record already there (a re-run of the same job)
    /// must be the same one: a plan is never rewritten.
    public static func publish(_ records: [PlanRecord], in dir: WorkDirectory) throws {
        for r in records where try !AtomicFile.publishJSONExclusive(r, to: dir.planRecord(r.chunk.id), staging: dir.staging) {
            let there = try JSONCoding.read(PlanRecord.self, from: dir.planRecord(r.chunk.id), what: "plan record")
            guard there == r else {
                throw EncodaError(.stateCorrupt, "TMP/plan/\(r.chunk.name).json holds another chunk (\(there.chunk.range)) than this run plans (\(r.chunk.range)); re-run with --restart")
            }
        }
    }
}
