import EncodaModel
import EncodaSystem
import Foundation

extension WorkDirectory {
    /// `analysis.json`: the segments of INPUT's analysis (`AnalysisManifest`), written once before job.json.
    public var analysisManifest: String { root + "/analysis.json" }

    /// The analysis segments' share of the protocol: TMP/analysis laid out as TMP itself (leases/, results/ holding
    /// the `SegmentRecord`s, journal/, failures/, quarantine/, clock/, staging/), so that segments are claimed,
    /// renewed, taken over, fenced, published and quarantined by the same code as chunks (`LeaseBook`,
    /// `FailureLedger`, `ResultJournal`, `Debris`), numbered by segment instead of chunk.
    public var analysis: WorkDirectory { WorkDirectory(root + "/analysis") }

    /// The folders of TMP/analysis (a subset of TMP's: no chunk files, worker records or logs live there).
    public static let analysisSubdirectories = ["leases", "results", "failures", "quarantine", "clock", "staging", "journal"]

    /// Creates TMP/analysis and its folders (TMP itself is prepared already).
    public func prepareAnalysis() throws {
        for d in [analysis.root] + Self.analysisSubdirectories.map({ analysis.root + "/" + $0 }) {
            do { try FileSystem.mkdir(d) } catch where error.errno == .fileExists {} catch {
                throw EncodaError(.workDirectory, "cannot create TMP's analysis folders", error)
            }
        }
    }

    /// The analysis manifest, if TMP has one (nil when it does not), checked.
    public func readAnalysisManifest() throws -> AnalysisManifest? {
        guard list(root).contains("analysis.json") else { return nil }
        let m = try JSONCoding.read(AnalysisManifest.self, from: analysisManifest, what: "analysis manifest")
        try m.validate()
        return m
    }

    /// Writes `manifest` as analysis.json unless one exists already (first writer wins). Returns the one in TMP.
    public func publishAnalysisManifest(_ manifest: AnalysisManifest) throws -> AnalysisManifest {
        try prepareAnalysis()
        if try AtomicFile.publishJSONExclusive(manifest, to: analysisManifest, staging: staging) { return manifest }
        guard let there = try readAnalysisManifest() else {
            throw EncodaError(.workDirectory, "analysis.json vanished while it was being written; re-run the same command")
        }
        return there
    }
}
