import EncodaModel
import EncodaSystem
import Foundation

extension WorkDirectory {
    /// `--target-quality`: each chunk's probe records (NNNNN-CRF.json) and probe encodes (NNNNN-CRF-TOKEN.chunk);
    /// with `--probe-preset`, each chunk's final encode (NNNNN-final.json, NNNNN-final-TOKEN.chunk).
    public var probes: String { root + "/probes" }
}

/// The probes of a job's CRF searches in TMP/probes. A record is published exclusively once its probe is encoded
/// and scored (write → fsync → link), so a killed worker's probes stand and the worker that takes the chunk over
/// reads them instead of encoding them again. The records are read by listing, as everything in the protocol.
public struct ProbeBook: Sendable {
    public let directory: WorkDirectory
    public let manifest: JobManifest
    public init(directory: WorkDirectory, manifest: JobManifest) { self.directory = directory; self.manifest = manifest }

    /// Creates TMP/probes (jobs planned before it existed have no such folder).
    public func prepare() throws {
        do { try FileSystem.mkdir(directory.probes) } catch where error.errno == .fileExists {} catch {
            throw EncodaError(.workDirectory, "cannot create TMP's probes folder", error, advice: "check TMP")
        }
    }

    public func path(_ name: String) -> String { directory.probes + "/" + name }

    /// The valid records of chunk `id`, by CRF. A record of another job, chunk or a damaged one is left out (and
    /// that probe is made again; publishing it again fails harmlessly, the old record standing).
    public func records(_ id: Int) -> [ProbeRecord] {
        let prefix = Chunk.name(id) + "-"
        return directory.list(directory.probes).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let r = try? JSONCoding.read(ProbeRecord.self, from: path(name), what: "probe record"),
                  r.formatVersion == ProbeRecord.formatVersion, r.jobID == manifest.jobID, r.chunk == id,
                  ProbeRecord.name(chunk: id, crf: r.crf) == name, r.score.isFinite, PathSafety.isPlainFileName(r.file) else { return nil }
            return r
        }.sorted { $0.crf < $1.crf }
    }

    /// `--probe-preset`: the final encode of chunk `id`, if one was recorded.
    public func finalRecord(_ id: Int) -> FinalEncodeRecord? {
        readFinal(FinalEncodeRecord.name(chunk: id), chunk: id)
    }

    /// `--probe-preset`: the final encodes recorded so far, every worker's, by chunk: the shifts measured.
    public func finalRecords() -> [FinalEncodeRecord] {
        directory.list(directory.probes).filter { $0.hasSuffix("-final.json") }.sorted().compactMap { name in
            Int(name.prefix { $0 != "-" }).flatMap { readFinal(name, chunk: $0) }
        }
    }

    private func readFinal(_ name: String, chunk id: Int) -> FinalEncodeRecord? {
        guard let r = try? JSONCoding.read(FinalEncodeRecord.self, from: path(name), what: "final encode record"),
              r.formatVersion == FinalEncodeRecord.formatVersion, r.jobID == manifest.jobID, r.chunk == id,
              FinalEncodeRecord.name(chunk: id) == name, r.score.isFinite, r.probeScore.isFinite,
              PathSafety.isPlainFileName(r.file) else { return nil }
        return r
    }

    /// Publishes `record` unless the chunk has one; returns the record that stands.
    public func publish(_ record: FinalEncodeRecord) throws -> FinalEncodeRecord {
        let target = path(FinalEncodeRecord.name(chunk: record.chunk))
        if try AtomicFile.publishJSONExclusive(record, to: target, staging: directory.staging) { return record }
        return readFinal(FinalEncodeRecord.name(chunk: record.chunk), chunk: record.chunk) ?? record
    }

    /// Publishes `record` unless one for its CRF exists; returns the record that stands.
    public func publish(_ record: ProbeRecord) throws -> ProbeRecord {
        let target = path(ProbeRecord.name(chunk: record.chunk, crf: record.crf))
        if try AtomicFile.publishJSONExclusive(record, to: target, staging: directory.staging) { return record }
        return (try? JSONCoding.read(ProbeRecord.self, from: target, what: "probe record")) ?? record
    }
}
