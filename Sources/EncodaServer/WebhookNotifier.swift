import AsyncHTTPClient
import Foundation
import NIOCore

/// Tells a job's `webhook` and the server's `--webhook` when the job finishes or fails: one JSON POST each,
/// `{"event", "id", "state", "input", "output", "error"}`, tried up to `tries` times (a connection error, a
/// timeout or a status outside 2xx counts as a failed try), waiting `backoff`, 2×, 4×… seconds between tries.
/// Redirects are not followed. A delivery that fails every try is reported in one note.
final class WebhookNotifier: Sendable {
    /// Payload of one notification.
    struct Notice: Codable, Equatable, Sendable {
        /// `job.finished` or `job.failed`.
        var event: String
        var id: String
        var state: String
        var input: String
        var output: String
        var error: String?
        var endedAt: Double?
    }

    let serverWide: String?
    let tries: Int
    let backoff: Double
    let note: @Sendable (String) -> Void
    let metrics: ServerMetrics?
    private let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                    configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(30))))

    init(serverWide: String?, tries: Int, backoff: Double, metrics: ServerMetrics?, note: @escaping @Sendable (String) -> Void) {
        self.serverWide = serverWide; self.tries = max(1, tries); self.backoff = backoff; self.metrics = metrics; self.note = note
    }

    /// An http:// or https:// URL of the same form a job request's `webhook` must have.
    static func isAcceptable(_ url: String) -> Bool {
        url.utf8.count <= 2048 && url.range(of: JobRequest.webhookPattern, options: .regularExpression) != nil
    }

    /// Sends a notice for every job that ends finished or failed, until `events` ends; then closes the client.
    func watch(_ queue: JobQueue, events: AsyncStream<ServerEvent>) async {
        await withTaskGroup(of: Void.self) { group in
            for await e in events where e.type == "state" && (e.state == "finished" || e.state == "failed") {
                guard let job = try? await queue.get(e.job) else { continue }
                func text(_ v: JSONValue?) -> String? { if case .string(let s)? = v { return s }; return nil }
                var targets: [String] = []
                if case .object(let r)? = job["request"], let w = text(r["webhook"]) { targets.append(w) }
                if let w = serverWide, !targets.contains(w) { targets.append(w) }
                guard !targets.isEmpty else { continue }
                var ended: Double? = nil
                if case .number(let t)? = job["endedAt"] { ended = t }
                let notice = Notice(event: "job." + e.state, id: e.job, state: e.state, input: text(job["input"]) ?? "",
                                    output: text(job["output"]) ?? "", error: text(job["error"]), endedAt: ended)
                for url in targets { group.addTask { await self.deliver(notice, to: url) } }
            }
        }
        try? await client.shutdown().get()
    }

    /// POSTs `notice` to `url`, retrying with exponential backoff; true once a try got a 2xx answer.
    @discardableResult
    func deliver(_ notice: Notice, to url: String) async -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard Self.isAcceptable(url), let body = try? encoder.encode(notice) else {
            note("webhook \(url) for job \(notice.id) is not an http:// or https:// URL; nothing sent")
            metrics?.webhookDeliveries.failed.increment()
            return false
        }
        var why = ""
        for attempt in 1...tries {
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "User-Agent", value: "encoda-serve")
                request.headers.add(name: "X-Encoda-Delivery", value: "\(notice.id)/\(notice.state)/\(attempt)")
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await client.execute(request, timeout: .seconds(30))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(response.status.code) {
                    metrics?.webhookDeliveries.delivered.increment()
                    return true
                }
                why = "it answered \(response.status.code)"
            } catch {
                why = "\(error)"
            }
            if attempt < tries { try? await Task.sleep(nanoseconds: UInt64(backoff * Double(1 << (attempt - 1)) * 1e9)) }
        }
        note("webhook \(url) for job \(notice.id) (\(notice.state)) failed \(tries) times, last because \(why); the job itself is \(notice.state)")
        metrics?.webhookDeliveries.failed.increment()
        return false
    }
}

extension EncodaService {
    /// Whether `url` may be a `--webhook`: an http:// or https:// URL.
    public static func isWebhookURL(_ url: String) -> Bool { WebhookNotifier.isAcceptable(url) }
}
