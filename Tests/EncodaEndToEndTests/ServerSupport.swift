import Foundation
import XCTest

/// An `encoda serve` process on loopback (a free port chosen by the server) and a client for its API, by curl.
final class ServerProcess {
    let root: String
    let process = Process()
    let outFile: String
    let errFile: String
    private(set) var base = ""

    /// Starts `encoda serve ROOT --listen 127.0.0.1:0 ARGS` and waits for the line that names its port.
    init(root: String, _ args: [String] = []) throws {
        self.root = root
        outFile = root + "/../serve-\(UUID().uuidString.prefix(6)).out"
        errFile = outFile + ".err"
        FileManager.default.createFile(atPath: outFile, contents: nil)
        FileManager.default.createFile(atPath: errFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Tool.encoda)
        process.arguments = ["serve", root, "--listen", "127.0.0.1:0"] + args
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<600 {   // a bound, not a timing claim
            let out = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
            if let r = out.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { base = String(out[r]); return }
            if !process.isRunning { break }
            usleep(100_000)
        }
        throw NSError(domain: "serve", code: 1, userInfo: [NSLocalizedDescriptionKey: "encoda serve did not start: \(stderr)"])
    }

    var stderr: String { (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? "" }
    var token: String { ((try? String(contentsOfFile: root + "/.encoda-token", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }

    struct Reply {
        var status: Int
        var body: String
        var headers: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
    }

    /// One request, with the server's token unless `bearer` names another or `signedOut` sends none.
    func call(_ method: String, _ path: String, body: String? = nil, bearer: String? = nil, signedOut: Bool = false,
              headers: [String] = []) throws -> Reply {
        let hdr = NSTemporaryDirectory() + "encoda-hdr-\(UUID().uuidString)"
        defer { unlink(hdr) }
        var args = ["-s", "-X", method, "-D", hdr, "-w", "\n%{http_code}"]
        if !signedOut { args += ["-H", "Authorization: Bearer \(bearer ?? token)"] }
        for h in headers { args += ["-H", h] }
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let r = try Tool.run("curl", args + [base + path])
        let parts = r.stdout.components(separatedBy: "\n")
        return Reply(status: Int(parts.last ?? "") ?? 0, body: parts.dropLast().joined(separator: "\n"),
                     headers: (try? String(contentsOfFile: hdr, encoding: .utf8)) ?? "")
    }

    func job(_ id: String) throws -> [String: Any] { try call("GET", "/api/v1/jobs/\(id)").object }

    /// Polls the job until `done` says so (bounded, not timed: the bound only stops a hung test).
    @discardableResult
    func waitForJob(_ id: String, polls: Int = 3000, until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        var j: [String: Any] = [:]
        for _ in 0..<polls {
            j = try job(id)
            if done(j) { return j }
            usleep(100_000)
        }
        XCTFail("job \(id) never reached the expected state; last: \(j)\nserver: \(stderr)")
        return j
    }

    func killHard() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
        unlink(outFile); unlink(errFile)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// True while a process with this id exists.
func processExists(_ pid: Int) -> Bool { kill(pid_t(pid), 0) == 0 || errno != ESRCH }
