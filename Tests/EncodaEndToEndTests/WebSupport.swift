import Foundation
import XCTest

/// `encoda serve ROOT --listen 127.0.0.1:0` for the web page, webhook and metrics tests, with a curl client and
/// the Python helpers in Tests/Web. Every wait is bounded only to stop a hung test.
final class ServeRun {
    let root: String
    let process = Process()
    private let log: String
    private(set) var base = ""

    init(root: String, _ args: [String] = []) throws {
        self.root = root
        log = root + "/../serve-\(UUID().uuidString.prefix(6)).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: Tool.encoda)
        process.arguments = ["serve", root, "--listen", "127.0.0.1:0"] + args
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<600 {
            if let r = output.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { base = String(output[r]); return }
            if !process.isRunning { break }
            usleep(100_000)
        }
        throw NSError(domain: "serve", code: 1, userInfo: [NSLocalizedDescriptionKey: "encoda serve did not start: \(output)"])
    }

    /// Everything the server printed so far.
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    var tokenFile: String { root + "/.encoda-token" }
    var token: String { ((try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }

    /// One request by curl: (status, body). With the server's token unless `token` is false.
    func call(_ method: String, _ path: String, json: String? = nil, token: Bool = true) throws -> (status: Int, body: String) {
        var args = ["-s", "-X", method, "-w", "\n%{http_code}"]
        if token { args += ["-H", "Authorization: Bearer \(self.token)"] }
        if let json { args += ["-H", "Content-Type: application/json", "--data-binary", json] }
        let r = try Tool.run("curl", args + [base + path])
        var lines = r.stdout.components(separatedBy: "\n")
        let status = Int(lines.removeLast()) ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    func object(_ body: String) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }

    /// Submits `{"input", "output", "settings", "webhook"?}` and returns the new job's id.
    func submit(_ input: String, _ output: String, settings: [String: Any], webhook: String? = nil,
                file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var req: [String: Any] = ["input": input, "output": output, "settings": settings]
        if let webhook { req["webhook"] = webhook }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: req), as: UTF8.self)
        let r = try call("POST", "/api/v1/jobs", json: body)
        XCTAssertEqual(r.status, 201, r.body, file: file, line: line)
        return object(r.body)["id"] as? String ?? ""
    }

    /// Polls the job until its state is one of `states`; returns the job.
    @discardableResult
    func waitForState(_ id: String, _ states: Set<String>, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        var job: [String: Any] = [:]
        for _ in 0..<3000 {
            job = object(try call("GET", "/api/v1/jobs/\(id)").body)
            if let s = job["state"] as? String, states.contains(s) { return job }
            usleep(100_000)
        }
        XCTFail("job \(id) never reached \(states); last: \(job)\nserver: \(output)", file: file, line: line)
        return job
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
        unlink(log)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// A Python helper from Tests/Web.
    static func script(_ name: String) -> String { Tool.packageRoot.appendingPathComponent("Tests/Web/" + name).path }

    /// Runs a helper from Tests/Web with the `python3` on PATH (the one scripts/setup.sh installs packages into).
    static func python(_ name: String, _ args: [String]) throws -> Tool.Result {
        try Tool.run("/usr/bin/env", ["python3", script(name)] + args)
    }

    /// A small clip with shots (lavfi), made inside ROOT as the server's inputs must be: `seconds` at 25 fps.
    static func clip(_ path: String, seconds: Int, size: String = "160x120") throws {
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=\(size):r=25:d=\(seconds)", "-vf", "hue=H=2*PI*t",
                         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", path])
    }
}
