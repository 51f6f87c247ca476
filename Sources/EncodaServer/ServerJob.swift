import EncodaJobs
import EncodaSystem
import Foundation

/// One job as the server keeps it: the request, the command it became, and how it ended. Saved as
/// ROOT/jobs/<id>/server-job.json (write, fsync, rename), so a restarted server picks every job up where it was.
struct ServerJob: Codable, Sendable {
    var formatVersion = 1
    var id: String
    /// Submission order, for FIFO among equal priorities.
    var sequence: Int
    var createdAt: Double
    /// Real paths inside ROOT.
    var input: String
    var output: String
    var profile: String?
    var settings: [String: JSONValue]
    /// Higher runs first; equal priorities run in submission order.
    var priority: Int
    /// Where a later notifier POSTs the outcome (stored only).
    var webhook: String?
    /// The options after INPUT OUTPUT TMP, fixed at submission so every run of the job is the same command.
    var options: [String]
    var cancelRequested = false
    /// Set once the job is over: finished, failed or cancelled.
    var outcome: String?
    var error: String?
    var endedAt: Double?

    static let fileName = "server-job.json"

    static func folder(root: String, id: String) -> String { root + "/jobs/" + id }

    func save(root: String) throws {
        let dir = Self.folder(root: root, id: id)
        try AtomicFile.writeJSON(self, to: dir + "/" + Self.fileName, staging: dir)
    }

    /// Every job saved under ROOT/jobs, in submission order; unreadable records are skipped and named in `skipped`.
    static func loadAll(root: String) -> (jobs: [ServerJob], skipped: [String]) {
        var jobs: [ServerJob] = [], skipped: [String] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/jobs")) ?? []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = folder(root: root, id: name) + "/" + fileName
            guard FileManager.default.fileExists(atPath: path) else { continue }
            if let j = try? JSONCoding.read(ServerJob.self, from: path, what: "server job record"), j.id == name { jobs.append(j) }
            else { skipped.append(path) }
        }
        return (jobs.sorted { $0.sequence < $1.sequence }, skipped)
    }

    /// A new job id: time-ordered, then random (lower-case letters and digits, safe as a folder name).
    static func makeID() -> String {
        let ms = UInt64(Date().timeIntervalSince1970 * 1000)
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String(ms, radix: 36) + "-" + String((0..<8).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }
}
