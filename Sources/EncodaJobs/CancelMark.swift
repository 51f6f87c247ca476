import EncodaSystem
import Foundation

/// TMP/cancel.json: the job is cancelled, not merely stopped. `encoda serve` writes it before it signals a job's
/// coordinator; a coordinator that finds it when a signal comes stops without joining, even with every chunk done,
/// so nothing is written at OUTPUT. Without it a signal keeps its command-line meaning (the first lets the workers
/// finish their chunks, and a job whose chunks are then all done is still joined). `clean` removes it with TMP's
/// other records (`OwnNames.topLevel`).
public enum CancelMark {
    public static let fileName = "cancel.json"

    struct Record: Codable { var cancelledAt: Double; var by: String }

    public static func path(_ dir: WorkDirectory) -> String { dir.root + "/" + fileName }

    /// Marks the job cancelled (temp file, fsync, rename in TMP).
    public static func write(_ dir: WorkDirectory, by: String) throws {
        try AtomicFile.writeJSON(Record(cancelledAt: Date().timeIntervalSince1970, by: by), to: path(dir), staging: dir.root)
    }

    public static func isMarked(_ dir: WorkDirectory) -> Bool { FileManager.default.fileExists(atPath: path(dir)) }
}
