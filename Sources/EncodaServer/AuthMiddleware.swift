import Hummingbird

/// Lets a request through only with `Authorization: Bearer <token>` (compared in constant time) or a live
/// session cookie; from any address alike. Everything else gets 401.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: ServerToken
    let sessions: Sessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer", token.matches(parts[1]) {
                return try await next(request, context)
            }
            return APIError(.unauthorized, "wrong token in the Authorization header; send the token from the server's token file").response()
        }
        if let cookie = request.cookies[Sessions.cookieName], sessions.isValid(cookie.value) {
            return try await next(request, context)
        }
        return APIError(.unauthorized, "this API needs `Authorization: Bearer <token>` (the token is in the server's token file) or a session from POST /api/v1/session").response()
    }
}
