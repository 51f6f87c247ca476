import Hummingbird

/// The web page at `/`: one HTML page, its script and its style sheet, compiled in from Web/ (no CDN, font or
/// script from elsewhere, so it works on an offline facility network). The page itself holds no data and needs
/// no token; everything it shows comes from API v1 with the session cookie that signing in sets.
enum WebPage {
    static let html: [UInt8] = PackageResources.web_page_html
    static let script: [UInt8] = PackageResources.web_page_js
    static let style: [UInt8] = PackageResources.web_page_css

    /// Only this server's own script, style and API; no framing, no inline script, no form posts elsewhere.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/") { _, _ in response(html, type: "text/html; charset=utf-8") }
        router.get("/web/web-page.js") { _, _ in response(script, type: "text/javascript; charset=utf-8") }
        router.get("/web/web-page.css") { _, _ in response(style, type: "text/css; charset=utf-8") }
    }

    private static func response(_ bytes: [UInt8], type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
