import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation

/// The workers that announced themselves in TMP/workers.
enum WorkerRecords {
    struct Alive { var host: String; var pid: Int32; var heartbeatAgeSeconds: Double }

    /// Records whose heartbeat (mtime) is younger than `within` seconds by the file server's clock.
    static func alive(_ dir: WorkDirectory, within: Double, clock: ServerClock) -> [Alive] {
        guard let now = try? clock.now() else { return [] }
        var found: [Alive] = []
        for name in dir.list(dir.workers) where name.hasSuffix(".json") && PathSafety.isPlainFileName(name) {
            let path = dir.workers + "/" + name
            guard let w = try? JSONCoding.read(WorkerIdentity.self, from: path, what: "worker record"),
                  let m = try? FileTimes.mtime(path), now - m < within else { continue }
            found.append(Alive(host: w.host, pid: w.pid, heartbeatAgeSeconds: max(0, now - m)))
        }
        return found.sorted { ($0.host, $0.pid) < ($1.host, $1.pid) }
    }
}
