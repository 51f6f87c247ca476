import Foundation
import XCTest

/// `/metrics`: Prometheus text that prometheus_client's parser reads (Tests/Web/parse_metrics.py), behind the
/// same token as the API, whose numbers move with a job.
final class MetricsTests: XCTestCase {
    func testMetricsParseNeedTheTokenAndCountAFinishedJob() throws {
        let scratch = Scratch()
        let root = scratch.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try WebTools.clip(root + "/in.mp4", seconds: 2)
        let server = try ServerProcess(root: root)
        defer { server.stop() }

        let refused = try server.call("GET", "/metrics", signedOut: true)
        XCTAssertEqual(refused.status, 401, refused.body)
        XCTAssertFalse(refused.body.contains("encoda_jobs"))

        func scrape() throws -> [String: Any] {
            let r = try server.call("GET", "/metrics")
            XCTAssertEqual(r.status, 200, r.body)
            let text = scratch.file("metrics-\(UUID().uuidString.prefix(6)).txt")
            try Data(r.body.utf8).write(to: URL(fileURLWithPath: text))
            let p = try WebTools.python("parse_metrics.py", [text])
            XCTAssertEqual(p.status, 0, "\(p.stderr)\n\(r.body)")
            return (try? JSONSerialization.jsonObject(with: Data(p.stdout.utf8))) as? [String: Any] ?? [:]
        }
        func value(_ m: [String: Any], _ key: String) -> Double? { m[key] as? Double ?? (m[key] as? Int).map(Double.init) }

        let before = try scrape()
        XCTAssertEqual(before["_types"] as? [String: String], ["encoda_jobs": "gauge", "encoda_workers": "gauge",
                                                             "encoda_frames_encoded": "counter", "encoda_chunk_encode_seconds": "histogram",
                                                             "encoda_webhook_deliveries": "counter"])
        for s in ["queued", "analysing", "encoding", "joining", "finished", "failed", "cancelled"] {
            XCTAssertEqual(value(before, "encoda_jobs{state=\(s)}"), 0, s)
        }
        XCTAssertEqual(value(before, "encoda_frames_encoded_total"), 0)
        XCTAssertEqual(value(before, "encoda_chunk_encode_seconds_count"), 0)
        XCTAssertEqual(value(before, "encoda_workers"), 0)

        let id = try server.submit("in.mp4", "out.mkv", settings: ["encoder": "h264", "lossless": true, "preset": "ultrafast", "maxSceneLength": 1])
        let job = try server.waitForState(id, ["finished", "failed", "cancelled"])
        XCTAssertEqual(job["state"] as? String, "finished")

        let after = try scrape()
        let frames = try Tool.frameHashes(root + "/in.mp4").count
        XCTAssertEqual(frames, 50)
        XCTAssertEqual(value(after, "encoda_frames_encoded_total"), Double(frames), "every frame of the finished job, once")
        XCTAssertEqual(value(after, "encoda_jobs{state=finished}"), 1)
        XCTAssertEqual(value(after, "encoda_jobs{state=queued}"), 0)
        XCTAssertEqual(value(after, "encoda_workers"), 0, "no job runs, so no worker")
        // Chunk seconds come from the result records the server saw before the job removed them: as many as the
        // plan's chunks at most, every one counted in the +Inf bucket, none negative.
        let count = value(after, "encoda_chunk_encode_seconds_count") ?? -1
        XCTAssertTrue((0...Double(job["chunks"] as? Int ?? 2)).contains(count), "\(count)")
        XCTAssertEqual(value(after, "encoda_chunk_encode_seconds_bucket{le=+Inf}"), count)
        XCTAssertGreaterThanOrEqual(value(after, "encoda_chunk_encode_seconds_sum") ?? -1, 0)

        // A signed-in browser's session cookie opens /metrics too, as it opens the API.
        let jar = scratch.file("cookies")
        let signIn = try Tool.run("curl", ["-s", "-c", jar, "-H", "Content-Type: application/json", "--data-binary",
                                           "{\"token\":\"\(server.token)\"}", server.base + "/api/v1/session"])
        XCTAssertTrue(signIn.stdout.contains("signedIn"), signIn.stdout)
        let withCookie = try Tool.run("curl", ["-s", "-b", jar, "-o", "/dev/null", "-w", "%{http_code}", server.base + "/metrics"])
        XCTAssertEqual(withCookie.stdout, "200")
    }
}
