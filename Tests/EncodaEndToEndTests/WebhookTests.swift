import Foundation
import XCTest

/// Webhooks: a job's own `webhook` and the server's `--webhook` each get a JSON POST when a job finishes or fails,
/// retried after a failed try. The receiver is Tests/Web/webhook_receiver.py on loopback; it answers 500 to the
/// first POST of each path.
final class WebhookTests: XCTestCase {
    func testFinishAndFailureArePostedAndRetriedAfterA500() throws {
        let scratch = Scratch()
        let root = scratch.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try WebTools.clip(root + "/in.mp4", seconds: 2)
        try Data("not a video\n".utf8).write(to: URL(fileURLWithPath: root + "/broken.mp4"))

        let (receiver, hook, log) = try startReceiver(scratch)
        defer { kill(receiver.processIdentifier, SIGTERM); receiver.waitUntilExit() }

        let server = try ServerProcess(root: root, ["--webhook", hook + "/server"])
        defer { server.stop() }
        let good = try server.submit("in.mp4", "out.mkv", settings: ["encoder": "h264", "lossless": true, "preset": "ultrafast", "maxSceneLength": 1],
                                     webhook: hook + "/job")
        let bad = try server.submit("broken.mp4", "broken.mkv", settings: ["encoder": "h264"], webhook: hook + "/job-failed")
        try server.waitForState(good, ["finished", "failed", "cancelled"])
        try server.waitForState(bad, ["finished", "failed", "cancelled"])

        // finished → /job (500, then 200) and /server; failed → /job-failed (500, then 200) and /server.
        var posts: [[String: Any]] = []
        for _ in 0..<600 {
            posts = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
            if posts.count >= 7 { break }
            usleep(100_000)
        }
        func at(_ path: String) -> [(status: Int, body: [String: Any], delivery: String)] {
            posts.filter { $0["path"] as? String == path }.map { p in
                let headers = p["headers"] as? [String: String] ?? [:]
                let body = (try? JSONSerialization.jsonObject(with: Data((p["body"] as? String ?? "").utf8))) as? [String: Any] ?? [:]
                return (p["status"] as? Int ?? 0, body, headers.first { $0.key.lowercased() == "x-encoda-delivery" }?.value ?? "")
            }
        }
        let real = { (name: String) in URL(fileURLWithPath: root + "/" + name).resolvingSymlinksInPath().path }

        let job = at("/job")
        XCTAssertEqual(job.map(\.status), [500, 200], "the job's webhook: \(posts)")
        XCTAssertEqual(job.map(\.delivery), ["\(good)/finished/1", "\(good)/finished/2"])
        for p in job {
            XCTAssertEqual(p.body["event"] as? String, "job.finished")
            XCTAssertEqual(p.body["id"] as? String, good)
            XCTAssertEqual(p.body["state"] as? String, "finished")
            XCTAssertEqual(p.body["input"] as? String, real("in.mp4"))
            XCTAssertEqual(p.body["output"] as? String, real("out.mkv"))
            XCTAssertNil(p.body["error"] as? String)
        }
        let failed = at("/job-failed")
        XCTAssertEqual(failed.map(\.status), [500, 200], "the failed job's webhook: \(posts)")
        XCTAssertEqual(failed.last?.body["state"] as? String, "failed")
        XCTAssertEqual(failed.last?.body["id"] as? String, bad)
        XCTAssertFalse((failed.last?.body["error"] as? String ?? "").isEmpty, "a failure's notice says why")

        // The server-wide hook hears both jobs, once each when delivered (its first try got the 500).
        let wide = at("/server")
        XCTAssertEqual(wide.map(\.status), [500, 200, 200], "the server's webhook: \(posts)")
        XCTAssertEqual(Set(wide.filter { $0.status == 200 }.compactMap { $0.body["id"] as? String }), [good, bad])
        XCTAssertEqual(try Tool.frameHashes(real("out.mkv")), try Tool.frameHashes(real("in.mp4")))
    }

    /// A job whose coordinator finishes while the server is down is finished when the server starts again (its
    /// TMP says OUTPUT is written and checked), and its webhook hears job.finished; it is not run again.
    func testJobFinishedWhileTheServerWasDownIsFinishedAfterRestart() throws {
        let scratch = Scratch()
        let root = scratch.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try WebTools.clip(root + "/in.mp4", seconds: 8, size: "320x240")   // a few seconds of work: long enough to be caught running
        let (receiver, hook, log) = try startReceiver(scratch)
        defer { kill(receiver.processIdentifier, SIGTERM); receiver.waitUntilExit() }

        var server = try ServerProcess(root: root, ["--workers", "1"])
        let id = try server.submit("in.mp4", "out.mkv", settings: ["encoder": "h264", "preset": "veryslow", "maxSceneLength": 1, "threads": 1],
                                   webhook: hook + "/job")
        // Any phase while its coordinator runs will do; a job that ended first cannot show the case.
        let running = ["analysing", "encoding", "joining"]
        let busy = try server.waitForJob(id) {
            let state = $0["state"] as? String ?? ""
            return (running.contains(state) && ($0["coordinator"] as? [String: Any])?["pid"] != nil) || ["finished", "failed"].contains(state)
        }
        guard running.contains(busy["state"] as? String ?? "") else { XCTFail("the job ended before it could be caught running: \(busy)"); return }
        let coordinator = try XCTUnwrap((busy["coordinator"] as? [String: Any])?["pid"] as? Int)
        // Held still while the server dies, so it cannot end between the look and the kill.
        kill(pid_t(coordinator), SIGSTOP)
        server.killHard()   // the server only: its coordinator runs on to the end
        kill(pid_t(coordinator), SIGCONT)
        for _ in 0..<3000 where processExists(coordinator) { usleep(100_000) }
        XCTAssertFalse(processExists(coordinator))
        let status = try Tool.mustRun(Tool.encoda, ["status", root + "/jobs/" + id, "--json"])
        XCTAssertTrue(status.stdout.contains(#""state":"finished""#), "the coordinator finished on its own: \(status.stdout)")

        server = try ServerProcess(root: root, ["--workers", "1"])
        defer { server.stop() }
        let job = try server.job(id)
        XCTAssertEqual(job["state"] as? String, "finished", "\(job)")
        XCTAssertNil(job["error"], "\(job)")
        var posts: [[String: Any]] = []
        for _ in 0..<600 where !posts.contains(where: { $0["status"] as? Int == 200 }) {
            usleep(100_000)
            posts = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
        }
        let bodies = posts.compactMap { (try? JSONSerialization.jsonObject(with: Data(($0["body"] as? String ?? "").utf8))) as? [String: Any] }
        XCTAssertEqual(Set(bodies.compactMap { $0["event"] as? String }), ["job.finished"], "\(posts)")
        XCTAssertEqual(Set(bodies.compactMap { $0["id"] as? String }), [id])
        let serverLog = try String(contentsOfFile: root + "/jobs/\(id)/server-log.txt", encoding: .utf8)
        XCTAssertFalse(serverLog.contains("encoda: error:"), "the job was not run again: \(serverLog.suffix(1000))")
        XCTAssertEqual(try Tool.frameHashes(root + "/out.mkv").count, try Tool.frameHashes(root + "/in.mp4").count)
    }

    /// Tests/Web/webhook_receiver.py on a free loopback port (the first POST of each path gets a 500): the
    /// process, its URL and the file it logs each POST to.
    private func startReceiver(_ scratch: Scratch) throws -> (Process, String, String) {
        let portFile = scratch.file("port"), log = scratch.file("posts.jsonl")
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        receiver.arguments = ["python3", WebTools.script("webhook_receiver.py"), portFile, log, "1"]
        try receiver.run()
        var port = ""
        for _ in 0..<300 where port.isEmpty {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if port.isEmpty { usleep(100_000) }
        }
        XCTAssertFalse(port.isEmpty, "the receiver did not start")
        return (receiver, "http://127.0.0.1:\(port)", log)
    }

    /// `--webhook` takes only http:// and https:// URLs (exit 64, before listening).
    func testServerWebhookMustBeHTTP() throws {
        let scratch = Scratch()
        let r = try Tool.encoda(["serve", scratch.path, "--listen", "127.0.0.1:0", "--webhook", "file:///etc/passwd"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--webhook file:///etc/passwd is not an http:// or https:// URL"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }
}
