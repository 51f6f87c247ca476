import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation

/// The table at the end of a `--target-quality` or `--bitrate` job: each chunk's frames, CRF (or share of the rate),
/// score and kb/s, shown and written
/// as TMP/summary.json (kept by the cleanup, read by `encoda status`). Chunks whose target lay outside the CRF
/// range are named in one more line, as are chunks whose final encode after a `--probe-preset` search missed the
/// target; the job does not fail for them.
public enum SummaryStep {
    static func write(_ dir: WorkDirectory, manifest: JobManifest, state: JobState, quiet: Bool) {
        guard JobSummary.applies(to: manifest.settings) else { return }
        let summary = JobSummary(manifest: manifest, results: state.done)
        do { try AtomicFile.writeJSON(summary, to: path(dir), staging: dir.staging) } catch {
            Report.warn("could not write \(path(dir)): \((error as? EncodaError)?.message ?? "\(error)")")
        }
        guard !quiet else { return }
        summary.lines.forEach(Report.note)
        let outside = summary.outsideRange
        if !outside.isEmpty, let q = manifest.settings.quality {
            Report.note("\(outside.count) chunk(s) could not be brought to \(q.metric.rawValue) \(QualityTarget.describe(q.target)) inside --crf-range \(q.crfLow):\(q.crfHigh) and were encoded at its end: " +
                             outside.map { "\(Chunk.name($0.chunk)) (crf \(Int($0.crf)), \(String(format: "%.2f", $0.score ?? .nan)))" }.joined(separator: ", "))
        }
        let missed = summary.chunks.filter { $0.finalMissed == true }
        if !missed.isEmpty, let q = manifest.settings.quality, let p = q.probePreset {
            Report.note("\(missed.count) chunk(s) searched at --probe-preset \(p) missed \(q.metric.rawValue) \(QualityTarget.describe(q.target)) by more than \(QualityTarget.describe(PresetCorrection.tolerance)) in their final encode at --preset \(manifest.settings.preset) and were kept: " +
                        missed.map { "\(Chunk.name($0.chunk)) (crf \(Int($0.crf)), \(String(format: "%.2f", $0.score ?? .nan)))" }.joined(separator: ", "))
        }
    }

    static func path(_ dir: WorkDirectory) -> String { dir.root + "/summary.json" }

    /// The summary of the last finished `--target-quality` or `--bitrate` job in TMP, if any.
    public static func read(_ dir: WorkDirectory) -> JobSummary? {
        try? JSONCoding.read(JobSummary.self, from: path(dir), what: "job summary")
    }
}
