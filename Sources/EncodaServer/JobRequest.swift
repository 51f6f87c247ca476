import Foundation

/// `POST /api/v1/jobs`: `{"input", "output", "profile"?, "settings"?, "priority"?, "webhook"?}`, checked field by
/// field so that every refusal names the field.
struct JobRequest {
    var input: String
    var output: String
    var profile: String?
    var settings: [String: JSONValue]
    var priority: Int
    var webhook: String?

    static let fields = ["input", "output", "profile", "settings", "priority", "webhook"]
    /// The same pattern as docs/openapi.json's `webhook`.
    static let webhookPattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"

    init(json data: Data) throws {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw APIError(.badRequest, "the request body is not JSON; send an object such as {\"input\": \"in.mov\", \"output\": \"out.mkv\"}", field: "body")
        }
        guard case .object(let o) = value else {
            throw APIError(.badRequest, "the request body must be a JSON object with input and output", field: "body")
        }
        for key in o.keys.sorted() where !Self.fields.contains(key) {
            throw APIError(.badRequest, "\(key) is not a field of a job request; use \(Self.fields.joined(separator: ", "))", field: key)
        }
        func string(_ name: String, required: Bool) throws -> String? {
            switch o[name] {
            case .string(let s)? where !s.contains("\0") && !(required && s.isEmpty): return s
            case nil: if required { throw APIError(.badRequest, "\(name) is missing; give a path under ROOT", field: name) }; return nil
            default: throw APIError(.badRequest, "\(name) must be a \(required ? "non-empty " : "")string", field: name)
            }
        }
        input = try string("input", required: true)!
        output = try string("output", required: true)!
        profile = try string("profile", required: false)
        if let p = profile, p.isEmpty || p.count > 64 || !p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            throw APIError(.badRequest, "profile must be a profile name (letters, digits, - _ .)", field: "profile")
        }
        switch o["settings"] {
        case .object(let s)?: settings = s
        case nil: settings = [:]
        default: throw APIError(.badRequest, "settings must be an object of the encode command's long options in camelCase", field: "settings")
        }
        switch o["priority"] {
        case .number(let n)? where n == n.rounded() && abs(n) <= 1_000_000: priority = Int(n)
        case nil: priority = 0
        default: throw APIError(.badRequest, "priority must be a whole number between -1000000 and 1000000 (higher runs first)", field: "priority")
        }
        webhook = try string("webhook", required: false)
        if let w = webhook, w.utf8.count > 2048 || w.range(of: Self.webhookPattern, options: .regularExpression) == nil {
            throw APIError(.badRequest, "webhook must be an http:// or https:// URL", field: "webhook")
        }
    }
}
