/// The OpenAPI 3 document of API v1, compiled in from docs/openapi.json (a symlink in this target).
enum OpenAPIDocument {
    static let bytes: [UInt8] = PackageResources.openapi_json
}
