import Foundation

/// What `encoda serve` was started with.
public struct ServerConfiguration: Sendable {
    /// The shared folder: inputs and outputs lie inside it, jobs live in ROOT/jobs/<id>.
    public var root: String
    public var host: String
    /// 0: any free port (the one bound is reported through `listening`).
    public var port: Int
    /// Jobs coordinated at once.
    public var maxJobs: Int
    /// `--workers` for each job's coordinator (0: only remote `encoda worker ROOT/jobs --watch` encode); nil: its default.
    public var workers: Int?
    /// The `encoda` binary each job runs as (this one).
    public var encoda: String
    public var token: ServerToken
    /// Largest request body accepted.
    public var maxBodyBytes = 64 * 1024
    /// How often running jobs are looked at for progress and state.
    public var pollSeconds = 1.0
    /// Between the first SIGTERM of a cancel (workers finish their chunk) and the second (they stop now).
    public var cancelGraceSeconds = 3.0
    /// How long a browser session lasts.
    public var sessionSeconds = 12 * 3600.0
    /// `--webhook`: told of every job that finishes or fails, besides the job's own `webhook`.
    public var webhook: String?
    /// Tries per webhook notice, and the wait before the second (doubled before each later one).
    public var webhookTries = 5
    public var webhookBackoffSeconds = 1.0
    /// `encoda status TMP --json` as an object, or nil when TMP holds no job yet.
    public var statusReport: @Sendable (String) -> Data?
    /// Reads a job's options as `encoda INPUT OUTPUT TMP OPTIONS…` would, before the job exists (handed in by the
    /// command line, which owns the options); nil: not checked here, the coordinator refuses them.
    public var checkOptions: (@Sendable (_ options: [String], _ output: String) -> OptionProblem?)?
    /// One line to the user (suppressed by --quiet).
    public var note: @Sendable (String) -> Void
    /// Called once the server listens, with the address it bound.
    public var listening: @Sendable (String, Int) -> Void

    public init(root: String, host: String, port: Int, maxJobs: Int, workers: Int?, encoda: String, token: ServerToken,
                statusReport: @escaping @Sendable (String) -> Data?, note: @escaping @Sendable (String) -> Void,
                listening: @escaping @Sendable (String, Int) -> Void) {
        self.root = root; self.host = host; self.port = port; self.maxJobs = maxJobs; self.workers = workers
        self.encoda = encoda; self.token = token; self.statusReport = statusReport; self.note = note; self.listening = listening
    }
}

/// What is wrong with a job's options, as the encode command would say it.
public struct OptionProblem: Sendable, Equatable {
    /// The option at fault as the command line spells it (`--encoder`, `--profile`), `OUTPUT` for OUTPUT's
    /// container; nil when the message names none.
    public var option: String?
    public var message: String
    public init(option: String?, message: String) { self.option = option; self.message = message }
}
