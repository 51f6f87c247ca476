import EncodaModel
import Foundation
import Prometheus
import Synchronization

/// `/metrics` in Prometheus text format: jobs by state and live workers (read from the queue at each scrape),
/// frames encoded and chunk encode seconds (from the chunks' result records, TMP/results/NNNNN.json).
///
/// A finished job's coordinator removes its result records, and a small chunk can be published and removed
/// between two looks; so when a job finishes, the frames of chunks not seen are added from its plan (the frame
/// counter is exact for every finished job), while the histogram holds the chunks whose records were seen.
final class ServerMetrics: Sendable {
    static let states = ["queued", "analysing", "encoding", "joining", "finished", "failed", "cancelled"]

    let registry = PrometheusCollectorRegistry()
    private let jobs: [String: Gauge]
    private let workers: Gauge
    private let frames: Counter
    private let chunkSeconds: ValueHistogram
    let webhookDeliveries: (delivered: Counter, failed: Counter)

    private struct Tally {
        /// Per job: the chunks counted so far and their frames.
        var counted: [String: (chunks: Set<Int>, frames: Int)] = [:]
        /// Jobs whose frames were completed from the plan at finish: nothing more is counted for them.
        var closed: Set<String> = []
    }
    private let tally = Mutex(Tally())

    init() {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "encoda", metricName: metric, unitName: unit, helpText: help)
        }
        let byState = name("jobs", "", "Jobs of this server by state.")
        let registry = self.registry
        jobs = Dictionary(uniqueKeysWithValues: Self.states.map { ($0, registry.makeGauge(descriptor: byState, labels: [("state", $0)])) })
        workers = registry.makeGauge(descriptor: name("workers", "", "Live workers on this server's running jobs (local and remote)."))
        frames = registry.makeCounter(descriptor: name("frames_encoded", "total", "Frames in chunks encoded and published since the server started."))
        chunkSeconds = registry.makeValueHistogram(descriptor: name("chunk_encode", "seconds", "Seconds from a chunk's claim to its publication, from its result record."),
                                                   buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600])
        let deliveries = name("webhook_deliveries", "total", "Webhook notices by outcome (delivered, or failed after every try).")
        webhookDeliveries = (registry.makeCounter(descriptor: deliveries, labels: [("result", "delivered")]),
                             registry.makeCounter(descriptor: deliveries, labels: [("result", "failed")]))
    }

    /// The text a scrape gets: the gauges set from the queue now, then every metric.
    func scrape(_ queue: JobQueue) async -> [UInt8] {
        var byState = Dictionary(uniqueKeysWithValues: Self.states.map { ($0, 0) })
        for j in await queue.list() { if case .string(let s)? = j["state"] { byState[s, default: 0] += 1 } }
        for (s, g) in jobs { g.set(Double(byState[s] ?? 0)) }
        workers.set(Double(await queue.workers().count))
        return registry.emitToBuffer()
    }

    /// Looks at the running jobs' result records every `seconds`, and completes a job's frames when it finishes.
    func watch(_ queue: JobQueue, events: AsyncStream<ServerEvent>, every seconds: Double) async {
        let finishes = Task {
            for await e in events where e.type == "state" && e.state == "finished" {
                guard let job = try? await queue.get(e.job), case .number(let n)? = job["frames"] else { close(e.job, frames: nil); continue }
                close(e.job, frames: Int(n))
            }
        }
        defer { finishes.cancel() }
        while !Task.isCancelled {
            for (id, folder) in await queue.runningFolders() { sample(id, results: folder + "/results") }
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        }
    }

    /// Counts the result records in `results` not counted yet for job `id`.
    func sample(_ id: String, results: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []
        for name in names where name.hasSuffix(".json") && name.count == 10 {
            guard let chunk = Int(name.prefix(5)) else { continue }
            let known = tally.withLock { $0.closed.contains(id) || $0.counted[id]?.chunks.contains(chunk) == true }
            guard !known, let data = FileManager.default.contents(atPath: results + "/" + name),
                  let r = try? JSONDecoder().decode(ChunkResult.self, from: data), r.chunk == chunk else { continue }
            tally.withLock { t in
                guard !t.closed.contains(id), t.counted[id]?.chunks.contains(chunk) != true else { return }
                t.counted[id, default: ([], 0)].chunks.insert(chunk)
                t.counted[id, default: ([], 0)].frames += r.frames
                frames.increment(by: Int64(r.frames))
                chunkSeconds.record(max(0, r.finishedAt - r.startedAt))
            }
        }
    }

    /// A job finished: the frames of its plan not counted yet are counted now, and nothing more for it after.
    func close(_ id: String, frames total: Int?) {
        tally.withLock { t in
            guard !t.closed.contains(id) else { return }
            t.closed.insert(id)
            if let total, case let missing = total - (t.counted[id]?.frames ?? 0), missing > 0 { frames.increment(by: Int64(missing)) }
            t.counted[id] = nil
        }
    }
}
