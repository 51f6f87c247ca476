import Foundation
import Hummingbird

/// A refused request: the HTTP status and one line saying what was wrong and what to do, with the request field
/// at fault when there is one. Sent as `{"error": "...", "field": "..."}`.
struct APIError: Error, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    var field: String?

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    var description: String { message }

    struct Body: Encodable { var error: String; var field: String? }

    func response() -> Response {
        let data = (try? JSONEncoder().encode(Body(error: message, field: field))) ?? Data("{\"error\":\"internal error\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"encoda\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
