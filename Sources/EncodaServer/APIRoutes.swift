import Foundation
import Hummingbird
import ServiceLifecycle

/// The JSON API v1 under /api/v1, as docs/openapi.json describes it.
struct APIRoutes<Context: RequestContext> {
    let queue: JobQueue
    let bus: EventBus
    let config: ServerConfiguration
    let sessions: Sessions

    /// `POST session`, the only route without a token (it is how a browser proves it has one).
    func registerSignIn(on group: RouterGroup<Context>) {
        group.post("session") { request, _ in
            let body = try await Self.body(request, limit: 4096)
            guard case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: body), case .string(let t)? = o["token"], o.count == 1 else {
                return APIError(.badRequest, "send {\"token\": \"…\"}", field: "token").response()
            }
            guard config.token.matches(Substring(t)) else { return APIError(.unauthorized, "wrong token").response() }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let cookie = Cookie(name: Sessions.cookieName, value: sessions.open(), maxAge: Int(sessions.lifetime), path: "/",
                                httpOnly: true, sameSite: .strict)
            headers[.setCookie] = cookie.description
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: #"{"signedIn":true}"#)))
        }
    }

    /// Every other route; `group` carries the authentication middleware.
    func register(on group: RouterGroup<Context>) {
        group.get("openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        group.post("jobs") { request, _ in
            try await Self.answer(status: .created) {
                let r = try JobRequest(json: try await Self.body(request, limit: config.maxBodyBytes))
                return .object(try await queue.submit(r))
            }
        }
        group.get("jobs") { _, _ in
            try await Self.answer { .array(await queue.list().map { .object($0) }) }
        }
        group.get("jobs/:id") { _, context in
            try await Self.answer { .object(try await queue.get(try Self.id(context))) }
        }
        group.delete("jobs/:id") { _, context in
            try await Self.answer(status: .accepted) { .object(try await queue.cancel(try Self.id(context))) }
        }
        group.post("jobs/:id/retry") { _, context in
            try await Self.answer { .object(try await queue.retry(try Self.id(context))) }
        }
        group.post("jobs/:id/purge") { _, context in
            do {
                try await queue.purge(try Self.id(context))
                return Response(status: .noContent)
            } catch let e as APIError {
                return e.response()
            }
        }
        group.get("workers") { _, _ in
            try await Self.answer { .array(await queue.workers().map { .object($0) }) }
        }
        group.get("events") { _, _ in
            let stream = bus.subscribe()
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": encoda events\n\n"))
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                // Ends on SIGTERM/SIGINT too: an open stream would otherwise hold the graceful shutdown forever.
                for await event in stream.cancelOnGracefulShutdown() {
                    let data = try encoder.encode(event)
                    try await writer.write(ByteBuffer(string: "event: \(event.type)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
                }
                try await writer.finish(nil)
            })
        }
    }

    private static func id(_ context: Context) throws -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw APIError(.badRequest, "no job id in the path", field: "id") }
        return id
    }

    /// The request body, refused with 413 past `limit` bytes.
    private static func body(_ request: Request, limit: Int) async throws -> Data {
        var r = request
        do { return Data(buffer: try await r.collectBody(upTo: limit)) } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(limit) bytes", field: "body")
        }
    }

    /// Runs `make` and sends its value as JSON, or its `APIError` as one.
    private static func answer(status: HTTPResponse.Status = .ok, _ make: () async throws -> JSONValue) async throws -> Response {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = try encoder.encode(try await make())
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch let e as APIError {
            return e.response()
        }
    }
}
