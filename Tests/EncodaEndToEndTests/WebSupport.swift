import Foundation
import XCTest

/// What the web page, webhook and metrics tests add to `ServerProcess`: submitting a job, waiting for a state,
/// a stop that must happen, and the Python helpers in Tests/Web. Every wait is bounded only to stop a hung test.
extension ServerProcess {
    var tokenFile: String { root + "/.encoda-token" }

    /// Submits `{"input", "output", "settings", "webhook"?}` and returns the new job's id.
    func submit(_ input: String, _ output: String, settings: [String: Any], webhook: String? = nil,
                file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var req: [String: Any] = ["input": input, "output": output, "settings": settings]
        if let webhook { req["webhook"] = webhook }
        let r = try call("POST", "/api/v1/jobs", body: String(decoding: try JSONSerialization.data(withJSONObject: req), as: UTF8.self))
        XCTAssertEqual(r.status, 201, r.body, file: file, line: line)
        return r.object["id"] as? String ?? ""
    }

    /// Polls the job until its state is one of `states`; returns the job.
    @discardableResult
    func waitForState(_ id: String, _ states: Set<String>) throws -> [String: Any] {
        try waitForJob(id) { states.contains($0["state"] as? String ?? "") }
    }

    /// SIGTERM, then waits for the server to exit; false (and SIGKILL) if it has not after many polls.
    func stopsOnSIGTERM() -> Bool {
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<600 where process.isRunning { usleep(100_000) }
        if process.isRunning { killHard(); return false }
        return true
    }
}

/// The Python helpers in Tests/Web and the clips the web tests encode.
enum WebTools {
    static func script(_ name: String) -> String { Tool.packageRoot.appendingPathComponent("Tests/Web/" + name).path }

    /// Runs a helper with the `python3` on PATH (the one scripts/setup.sh installs packages into).
    static func python(_ name: String, _ args: [String]) throws -> Tool.Result {
        try Tool.run("/usr/bin/env", ["python3", script(name)] + args)
    }

    /// A moving clip (lavfi testsrc2 with a turning hue), made inside ROOT as the server's inputs must be: 25 fps.
    static func clip(_ path: String, seconds: Int, size: String = "160x120") throws {
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=\(size):r=25:d=\(seconds)", "-vf", "hue=H=2*PI*t",
                         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", path])
    }
}
