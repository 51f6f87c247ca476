import EncodaModel
import Foundation
import Hummingbird
import Logging

/// `encoda serve`: the job queue, the status watcher and the HTTP server, until SIGTERM or SIGINT.
///
/// Routes are grouped so that later parts mount beside the API without touching it: the web page at `/`,
/// `/metrics`; notifiers subscribe to `bus` for state changes.
public struct EncodaService {
    public let config: ServerConfiguration
    public let bus = EventBus()

    public init(config: ServerConfiguration) { self.config = config }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: config.root + "/jobs", withIntermediateDirectories: true)
        let queue = JobQueue(config: config, bus: bus)
        let metrics = ServerMetrics()
        let notifier = WebhookNotifier(serverWide: config.webhook, tries: config.webhookTries, backoff: config.webhookBackoffSeconds,
                                       metrics: metrics, note: config.note)
        let (metricsEvents, webhookEvents) = (bus.subscribe(), bus.subscribe())   // before load: no outcome is missed
        await queue.load()

        let router = Router()
        let sessions = Sessions(lifetime: config.sessionSeconds)
        let api = APIRoutes<BasicRequestContext>(queue: queue, bus: bus, config: config, sessions: sessions)
        api.registerSignIn(on: router.group("api/v1"))
        api.register(on: router.group("api/v1").add(middleware: AuthMiddleware(token: config.token, sessions: sessions)))
        WebPage.register(on: router)
        router.group("metrics").add(middleware: AuthMiddleware(token: config.token, sessions: sessions)).get { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: await metrics.scrape(queue))))
        }

        var logger = Logger(label: "encoda.serve")
        logger.logLevel = .warning
        let config = self.config
        let app = Application(router: router, configuration: .init(address: .hostname(config.host, port: config.port), serverName: "encoda"),
                              onServerRunning: { channel in config.listening(config.host, channel.localAddress?.port ?? config.port) },
                              logger: logger)
        let watcher = Task { await Self.watch(queue, every: config.pollSeconds, report: config.statusReport) }
        let counting = Task { await metrics.watch(queue, events: metricsEvents, every: config.pollSeconds) }
        let notifying = Task { await notifier.watch(queue, events: webhookEvents) }
        defer { watcher.cancel(); counting.cancel(); notifying.cancel() }
        try await app.runService()
    }

    /// Looks at every running job's TMP each `seconds` (the status reads happen outside the queue, so the API
    /// never waits for them) and hands the reports to the queue.
    private static func watch(_ queue: JobQueue, every seconds: Double, report: @escaping @Sendable (String) -> Data?) async {
        while !Task.isCancelled {
            var fresh: [String: [String: JSONValue]] = [:]
            for (id, folder) in await queue.runningFolders() {
                if let d = report(folder), case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: d) { fresh[id] = o }
            }
            await queue.update(fresh)
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        }
    }
}
