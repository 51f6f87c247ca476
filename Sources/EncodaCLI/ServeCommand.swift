import ArgumentParser
import EncodaJobs
import EncodaModel
import EncodaPipeline
import EncodaServer
import EncodaSystem
import Foundation
import Synchronization

/// `encoda serve ROOT`: the HTTP job service (JSON API v1) over a shared folder; each job is coordinated by an
/// `encoda INPUT OUTPUT ROOT/jobs/<id>` child process, and `encoda worker ROOT/jobs --watch` anywhere helps.
struct ServeCommand: ParsableCommand, QuietOption {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the JSON API v1: submit, watch, cancel and retry jobs over HTTP; jobs live in ROOT/jobs/<id> as ordinary work folders.",
        discussion: "Every API route needs `Authorization: Bearer TOKEN`. The token is read from --token-file (which must be private, mode 0600) or made on first start in ROOT/.encoda-token. Inputs and outputs must be paths inside ROOT. The API is described in docs/openapi.json, also served at /api/v1/openapi.json.")

    @Argument(help: "The shared folder: inputs and outputs lie inside it, jobs in ROOT/jobs.") var root: String
    @Option(name: .long, help: "Address to listen on, HOST:PORT (port 0: any free port, printed).") var listen = "127.0.0.1:8640"
    @Option(name: .long, help: "File holding the API token (mode 0600). Default: ROOT/.encoda-token, made on first start.") var tokenFile: String?
    @Option(name: .long, help: "Jobs coordinated at once; more wait in FIFO order, higher priority first.") var maxJobs = 2
    @Option(name: .long, help: "Local worker processes per job (0: only `encoda worker ROOT/jobs --watch` workers encode). Default: from cores and memory.") var workers: Int?
    @Option(name: .long, help: "http:// or https:// URL that gets a JSON POST when any job finishes or fails (besides the job's own webhook).") var webhook: String?
    @Flag(name: .long, help: "Only errors on stderr.") var quiet = false

    func run() throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port),
              colon != listen.startIndex else {
            throw EncodaError(.usage, "--listen \(listen) is not HOST:PORT; write e.g. 127.0.0.1:8640 or 0.0.0.0:8640")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard (1...64).contains(maxJobs) else { throw EncodaError(.usage, "--max-jobs must be between 1 and 64") }
        if let w = workers, w < 0 || w > 1024 { throw EncodaError(.usage, "--workers must be between 0 and 1024") }
        if let w = webhook, !EncodaService.isWebhookURL(w) { throw EncodaError(.usage, "--webhook \(w) is not an http:// or https:// URL; give e.g. http://notify.example:8080/encoda") }
        var isDir: ObjCBool = false
        let rootPath = JobSetup.absolute(root)
        guard FileManager.default.fileExists(atPath: rootPath, isDirectory: &isDir), isDir.boolValue else {
            throw EncodaError(.usage, "ROOT \(root) is not a folder; give the shared folder that holds the inputs and outputs")
        }
        let token = try ServerToken.load(tokenFile: tokenFile, root: rootPath)
        let quiet = self.quiet
        let note: @Sendable (String) -> Void = { if !quiet { Diagnostics.note($0) } }
        if token.made { note("made the API token in \(token.path) (mode 0600); clients send it as `Authorization: Bearer TOKEN`") }
        else { note("API token from \(token.path)") }
        var config = ServerConfiguration(
            root: rootPath, host: host, port: port, maxJobs: maxJobs, workers: workers,
            encoda: Bundle.main.executablePath ?? CommandLine.arguments[0], token: token.token,
            statusReport: { tmp in (try? JobStatus.report(WorkDirectory(tmp))).flatMap { try? JSONCoding.encode($0) } },
            note: note,
            listening: { h, p in
                // Always printed (also with --quiet): a caller that asked for port 0 needs it.
                print("encoda serve: listening on http://\(h.contains(":") ? "[\(h)]" : h):\(p)/ (ROOT \(rootPath))")
                fflush(nil) // every output stream, stdout among them (Glibc's `stdout` is a mutable global)
            })
        config.webhook = webhook
        config.checkOptions = { JobOptionCheck.check($0, output: $1) }
        let service = EncodaService(config: config)
        let finished = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do { try await service.run() } catch { failure.error = error }
            finished.signal()
        }
        finished.wait()
        if let e = failure.error {
            throw (e as? EncodaError) ?? EncodaError(.usage, "cannot serve on \(listen): \(e); choose another --listen address")
        }
    }
}

/// Carries the server's error from its task to the waiting command.
private final class FailureBox: Sendable {
    private let stored = Mutex<Error?>(nil)
    var error: Error? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
