import Foundation
import XCTest

/// The web page at `/`: served by the binary itself with nothing from elsewhere, and used in a real browser
/// (headless Chromium driven by selenium, Tests/Web/browser_test.py): sign in, submit, watch, cancel.
final class WebPageTests: XCTestCase {
    /// The page, its script and its style need no token, carry a strict content security policy, and name no
    /// other host; the sign-in form has a `token` field and posts (never a GET, so the token is not in a URL).
    func testPageIsServedWithoutTokenAndLoadsNothingFromElsewhere() throws {
        let scratch = Scratch()
        let root = scratch.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let server = try ServerProcess(root: root)
        defer { server.stop() }

        let headers = scratch.file("headers")
        let page = try Tool.run("curl", ["-s", "-D", headers, server.base + "/"])
        let head = (try? String(contentsOfFile: headers, encoding: .utf8)) ?? ""
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"), head)
        XCTAssertTrue(head.lowercased().contains("content-type: text/html"), head)
        XCTAssertTrue(head.contains("script-src 'self'") && head.contains("default-src 'none'"), head)
        XCTAssertTrue(page.stdout.contains(#"name="token""#) && page.stdout.contains(#"method="post""#), page.stdout)
        for path in ["/web/web-page.js", "/web/web-page.css"] {
            let r = try server.call("GET", path, signedOut: true)
            XCTAssertEqual(r.status, 200, path)
            for text in [page.stdout, r.body] {
                XCTAssertNil(text.range(of: #"(https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}"#, options: .regularExpression), "a reference to another host in \(path)")
            }
        }
        // The data behind the page is not public: the API still wants the token or the session.
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs", signedOut: true).status, 401)

        // A page left open (its event stream connected) does not keep the server from stopping.
        let stream = Process()
        stream.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        stream.arguments = ["-s", "-N", "-o", scratch.file("events"), "-H", "Authorization: Bearer \(server.token)", server.base + "/api/v1/events"]
        try stream.run()
        defer { if stream.isRunning { stream.terminate() } }
        for _ in 0..<300 where ((try? String(contentsOfFile: scratch.file("events"), encoding: .utf8)) ?? "").isEmpty { usleep(50_000) }
        XCTAssertTrue(((try? String(contentsOfFile: scratch.file("events"), encoding: .utf8)) ?? "").hasPrefix(": encoda events"))
        XCTAssertTrue(server.stopsOnSIGTERM(), "encoda serve did not stop on SIGTERM while an event stream was open")
    }

    /// Signs in, submits a lossless job from the form and sees it `finished` (OUTPUT frame-exact against INPUT by
    /// framemd5 and timestamps), then submits a slow one, sees its running chunk and holder in the job view,
    /// cancels it with the button and sees `cancelled`, with nothing at its OUTPUT.
    func testBrowserSignsInSubmitsWatchesAndCancels() throws {
        for exe in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: exe), "\(exe) is missing; run scripts/setup.sh")
        }
        let scratch = Scratch()
        let root = scratch.file("root")
        try FileManager.default.createDirectory(atPath: root + "/media", withIntermediateDirectories: true)
        let input = root + "/media/in.mp4", slow = root + "/media/slow.mp4"
        try WebTools.clip(input, seconds: 2)
        try WebTools.clip(slow, seconds: 8, size: "320x240")
        let server = try ServerProcess(root: root, ["--workers", "2"])
        defer { server.stop() }

        let r = try WebTools.python("browser_test.py", ["--base", server.base, "--token-file", server.tokenFile,
                                         "--input", "media/in.mp4", "--output", "media/out.mkv",
                                         "--slow-input", "media/slow.mp4", "--slow-output", "media/slow.mkv"])
        XCTAssertEqual(r.status, 0, "browser test: \(r.stderr)\nserver: \(server.stderr)")
        let ids = (try? JSONSerialization.jsonObject(with: Data((r.stdout.split(separator: "\n").last ?? "").utf8))) as? [String: Any] ?? [:]
        guard let finished = ids["finished"] as? String, let cancelled = ids["cancelled"] as? String else {
            return XCTFail("the browser test named no jobs: \(r.stdout)")
        }

        let output = root + "/media/out.mkv"
        let source = try Tool.frameHashes(input)
        XCTAssertEqual(source.count, 50)
        XCTAssertEqual(try Tool.frameHashes(output), source, "OUTPUT is not frame-exact")
        XCTAssertEqual(try Tool.frameTimes(output), try Tool.frameTimes(input))
        XCTAssertEqual(try server.waitForState(finished, ["finished"])["state"] as? String, "finished")
        XCTAssertEqual(try server.waitForState(cancelled, ["cancelled"])["state"] as? String, "cancelled")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/media/slow.mkv"), "a cancelled job wrote OUTPUT")
        // The browser has gone; the event stream it left must not hold the server's shutdown.
        XCTAssertTrue(server.stopsOnSIGTERM(), "encoda serve did not stop on SIGTERM after the browser left")
    }
}
