import EncodaJobs
import EncodaSystem
import Foundation

/// The server's jobs: submission, FIFO-by-priority scheduling of up to `maxJobs` coordinators, each an
/// `encoda INPUT OUTPUT ROOT/jobs/<id> …` child process, cancel, retry, and the state and progress the API shows.
actor JobQueue {
    let config: ServerConfiguration
    let bus: EventBus
    let paths: PathGuard
    private var jobs: [String: ServerJob] = [:]
    private var running: [String: Child] = [:]
    /// The last `status --json` report of each job that has one.
    private var reports: [String: [String: JSONValue]] = [:]
    /// The state and frames last published per job, so that only changes become events.
    private var published: [String: (state: String, frames: Int?)] = [:]
    private var nextSequence = 0

    /// A coordinator this server runs, or one a previous server started that is still alive (after a restart).
    enum Child {
        case process(Process)
        case adopted(pid_t)
        var pid: pid_t { switch self { case .process(let p): return p.processIdentifier; case .adopted(let pid): return pid } }
    }

    static let activeStates: Set<String> = ["analysing", "encoding", "joining"]
    /// The states a job that finishes goes through, in order.
    static let lifecycle = ["queued", "analysing", "encoding", "joining", "finished"]

    init(config: ServerConfiguration, bus: EventBus) {
        self.config = config
        self.bus = bus
        self.paths = PathGuard(root: config.root)
    }

    // MARK: start-up

    /// Loads the saved jobs; a job whose coordinator is still running (the server was killed, the coordinator
    /// was not) is adopted and watched; one whose coordinator finished while the server was down (its TMP says
    /// OUTPUT is written) is finished, one cancelled before the server went down is cancelled; every other
    /// unfinished job is queued again and resumes from its TMP.
    func load() {
        let (all, skipped) = ServerJob.loadAll(root: config.root)
        for path in skipped { config.note("skipping \(path): not a job record this server can read") }
        for j in all {
            jobs[j.id] = j
            nextSequence = max(nextSequence, j.sequence + 1)
            let report = readReport(j.id)
            reports[j.id] = report
            if j.outcome == nil, let c = report?["coordinator"], case .object(let co) = c,
               co["alive"] == .bool(true), case .number(let pid)? = co["pid"] {
                running[j.id] = .adopted(pid_t(pid))
                config.note("job \(j.id): its coordinator (pid \(Int(pid))) is still running; watching it")
            }
            if j.outcome == nil && running[j.id] == nil {
                // Told as they end now (the finished one to its webhooks); not sampled as queued first.
                if j.cancelRequested { endCancelled(j.id); continue }
                if case .string("finished")? = report?["state"] {
                    config.note("job \(j.id): its coordinator wrote OUTPUT while the server was down; finished")
                    finish(j.id, outcome: "finished", error: nil)
                    continue
                }
            }
            published[j.id] = (state(of: j.id), nil)
        }
        let waiting = jobs.values.filter { $0.outcome == nil && running[$0.id] == nil }.count
        if waiting > 0 { config.note("\(waiting) unfinished job(s) queued again; each resumes where it was") }
        schedule()
    }

    // MARK: the API's operations

    func submit(_ r: JobRequest) throws -> [String: JSONValue] {
        let input = try paths.input(r.input)
        let output = try paths.output(r.output)
        let options = try JobSettings.arguments(r.settings) + (r.profile.map { ["--profile", $0] } ?? [])
        if let check = config.checkOptions, let problem = check(options, output) { throw JobSettings.refusal(problem) }
        if PathGuard.sameFile(input, output) {
            throw APIError(.conflict, "output \(r.output) is the input; give another output path", field: "output")
        }
        for j in jobs.values where j.outcome == nil {
            if PathGuard.sameFile(j.output, output) {
                throw APIError(.conflict, "output \(r.output) is already the output of job \(j.id); give another output path or cancel that job", field: "output")
            }
            if PathGuard.sameFile(j.input, output) {
                throw APIError(.conflict, "output \(r.output) is the input of job \(j.id); give another output path", field: "output")
            }
        }
        if FileManager.default.fileExists(atPath: output), r.settings["overwrite"] != .bool(true) {
            throw APIError(.conflict, "output \(r.output) exists; give another path, or \"overwrite\": true in settings to replace it", field: "output")
        }
        let id = ServerJob.makeID()
        let folder = ServerJob.folder(root: config.root, id: id)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let job = ServerJob(id: id, sequence: nextSequence, createdAt: Date().timeIntervalSince1970, input: input, output: output,
                                profile: r.profile, settings: r.settings, priority: r.priority, webhook: r.webhook, options: options)
            try job.save(root: config.root)
            jobs[id] = job
            nextSequence += 1
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw APIError(.internalServerError, "could not save job \(id) in \(folder): \(error); check that ROOT/jobs is writable")
        }
        publishIfChanged(id)
        schedule()
        return view(id)!
    }

    func list() -> [[String: JSONValue]] {
        jobs.values.sorted { $0.sequence < $1.sequence }.compactMap { view($0.id) }
    }

    func get(_ id: String) throws -> [String: JSONValue] {
        guard let v = view(id) else { throw APIError(.notFound, "no job \(id); GET /api/v1/jobs lists them") }
        return v
    }

    /// Queued: cancelled at once. Running: `CancelMark` in its TMP, then SIGTERM (workers finish their chunk; the
    /// coordinator does not join), a second SIGTERM after a grace (they stop now, claims released), SIGKILL as a
    /// last resort; the state becomes `cancelled` when it exits, whatever its exit status.
    func cancel(_ id: String) throws -> [String: JSONValue] {
        guard var job = jobs[id] else { throw APIError(.notFound, "no job \(id); GET /api/v1/jobs lists them") }
        if let o = job.outcome { throw APIError(.conflict, "job \(id) is already \(o); nothing to cancel") }
        job.cancelRequested = true
        if running[id] == nil {
            job.outcome = "cancelled"
            job.endedAt = Date().timeIntervalSince1970
        }
        try? job.save(root: config.root)
        jobs[id] = job
        if let child = running[id] {
            let pid = child.pid, grace = config.cancelGraceSeconds
            // Before the signal: a coordinator that finds the mark never joins, however many chunks are done.
            let folder = ServerJob.folder(root: config.root, id: id)
            do { try CancelMark.write(WorkDirectory(folder), by: "encoda serve") } catch {
                config.note("job \(id): could not mark the cancel in \(folder) (\(error)); a job whose chunks are all done may still be joined")
            }
            kill(pid, SIGTERM)
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(grace * 1e9))
                guard let self, await self.isRunning(id, pid: pid) else { return }
                kill(pid, SIGTERM)
                try? await Task.sleep(nanoseconds: 30_000_000_000)
                if await self.isRunning(id, pid: pid) { kill(pid, SIGKILL) }
            }
        }
        publishIfChanged(id)
        schedule()
        return view(id)!
    }

    /// Clears the job's quarantine and failure records (`encoda clean TMP --quarantine`); a failed job is queued again.
    func retry(_ id: String) throws -> [String: JSONValue] {
        guard var job = jobs[id] else { throw APIError(.notFound, "no job \(id); GET /api/v1/jobs lists them") }
        if let o = job.outcome, o != "failed" { throw APIError(.conflict, "job \(id) is \(o); only a failed or running job can be retried") }
        let folder = ServerJob.folder(root: config.root, id: id)
        if FileManager.default.fileExists(atPath: folder + "/quarantine") || FileManager.default.fileExists(atPath: folder + "/failures") {
            let status = runTool(["clean", folder, "--quarantine"], log: folder)
            if status != 0 { throw APIError(.internalServerError, "clearing the quarantine of job \(id) failed (encoda clean exited \(status)); see \(folder)/server-log.txt") }
        }
        if job.outcome != nil {
            job.outcome = nil; job.error = nil; job.endedAt = nil; job.cancelRequested = false
            try? job.save(root: config.root)
            jobs[id] = job
            publishIfChanged(id)
            schedule()
        }
        return view(id)!
    }

    /// Removes an ended job: its folder ROOT/jobs/<id> (the server's own: PathGuard keeps every INPUT and OUTPUT
    /// out of ROOT/jobs) and its entry; listeners hear `purged`. A job that may still run must be cancelled first.
    func purge(_ id: String) throws {
        guard let job = jobs[id] else { throw APIError(.notFound, "no job \(id); GET /api/v1/jobs lists them") }
        guard job.outcome != nil, running[id] == nil else {
            throw APIError(.conflict, "job \(id) is \(state(of: id)); cancel it first (DELETE /api/v1/jobs/\(id)), then purge it once it is cancelled")
        }
        let folder = ServerJob.folder(root: config.root, id: id)
        // The folder itself, never a link to somewhere else: the id is one this server made.
        if let st = try? FileSystem.stat(folder, followLink: false) {
            guard st.isFolder else {
                throw APIError(.internalServerError, "\(folder) is not a folder; remove it by hand")
            }
            do { try FileManager.default.removeItem(atPath: folder) } catch {
                throw APIError(.internalServerError, "could not remove \(folder): \(error); check that ROOT/jobs is writable")
            }
        }
        jobs[id] = nil
        reports[id] = nil
        published[id] = nil
        bus.publish(ServerEvent(type: "state", job: id, state: "purged"))
    }

    /// Live workers of every job, as their jobs' status reports list them, each with its job's id.
    func workers() -> [[String: JSONValue]] {
        var all: [[String: JSONValue]] = []
        for id in running.keys.sorted() {
            guard case .array(let ws)? = reports[id]?["workers"] else { continue }
            for case .object(var w) in ws { w["job"] = .string(id); all.append(w) }
        }
        return all
    }

    // MARK: scheduling and children

    private func isRunning(_ id: String, pid: pid_t) -> Bool { running[id]?.pid == pid }

    /// Starts queued jobs, highest priority first, then in submission order, while fewer than `maxJobs` run.
    private func schedule() {
        let queued = jobs.values.filter { $0.outcome == nil && !$0.cancelRequested && running[$0.id] == nil }
            .sorted { ($0.priority, -$0.sequence) > ($1.priority, -$1.sequence) }
        for job in queued where running.count < config.maxJobs { start(job) }
    }

    /// The coordinator's command: `encoda INPUT OUTPUT TMP [--workers W] OPTIONS…`, the same for every run of the job.
    func command(_ job: ServerJob) -> [String] {
        [config.encoda, job.input, job.output, ServerJob.folder(root: config.root, id: job.id)]
            + (config.workers.map { ["--workers", String($0)] } ?? []) + job.options
    }

    private func start(_ job: ServerJob) {
        let folder = ServerJob.folder(root: config.root, id: job.id)
        let argv = command(job)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        p.standardInput = FileHandle.nullDevice
        if let log = Self.openLog(folder) { p.standardOutput = log; p.standardError = log }
        let id = job.id
        p.terminationHandler = { [weak self] ended in
            let status = ended.terminationStatus, signalled = ended.terminationReason == .uncaughtSignal
            Task { await self?.ended(id, status: status, signalled: signalled) }
        }
        do {
            try p.run()
            running[id] = .process(p)
            publishIfChanged(id)
        } catch {
            finish(id, outcome: "failed", error: "could not start \(argv[0]): \(error)")
        }
    }

    private static func openLog(_ folder: String) -> FileHandle? {
        let fd = open(folder + "/server-log.txt", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        return fd < 0 ? nil : FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Runs `encoda ARGS` to completion (short tools: clean), its output appended to the job's log.
    private func runTool(_ args: [String], log folder: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: config.encoda)
        p.arguments = args
        p.standardInput = FileHandle.nullDevice
        if let log = Self.openLog(folder) { p.standardOutput = log; p.standardError = log }
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A coordinator ended: after a cancel, cancelled whatever its exit status (see `endCancelled`); exit 0 is
    /// finished; otherwise failed, with the coordinator's reason.
    private func ended(_ id: String, status: Int32, signalled: Bool) {
        guard running[id] != nil, let job = jobs[id] else { return }
        running[id] = nil
        reports[id] = readReport(id)
        if job.cancelRequested {
            endCancelled(id)
        } else if status == 0 && !signalled {
            finish(id, outcome: "finished", error: nil)
        } else {
            let log = ServerJob.folder(root: config.root, id: id) + "/server-log.txt"
            let how = signalled ? "was killed by signal \(status)" : "exited \(status)"
            // The coordinator's own line says what to do; only without one does the server advise.
            if let why = reportError(id) ?? Self.lastLine(log) {
                finish(id, outcome: "failed", error: "the coordinator \(how): \(why)")
            } else {
                finish(id, outcome: "failed", error: "the coordinator \(how); see \(log), fix the cause and POST …/retry")
            }
        }
        schedule()
    }

    /// A cancelled job whose coordinator is gone: its TMP is cleaned (`encoda clean --force`: plan, chunks, leases,
    /// the cancel mark), so that remote workers leave it and `worker ROOT/jobs --watch` never joins it.
    private func endCancelled(_ id: String) {
        let folder = ServerJob.folder(root: config.root, id: id)
        _ = runTool(["clean", folder, "--force"], log: folder)
        reports[id] = nil
        finish(id, outcome: "cancelled", error: nil)
    }

    private func finish(_ id: String, outcome: String, error: String?) {
        guard var job = jobs[id] else { return }
        running[id] = nil
        job.outcome = outcome; job.error = error; job.endedAt = Date().timeIntervalSince1970
        try? job.save(root: config.root)
        jobs[id] = job
        publishIfChanged(id)
    }

    // MARK: watching running jobs

    /// The running jobs' folders, for a status look outside the actor.
    func runningFolders() -> [(id: String, folder: String)] {
        running.keys.sorted().map { ($0, ServerJob.folder(root: config.root, id: $0)) }
    }

    /// New status reports of running jobs: state and progress events for what changed; an adopted coordinator
    /// that has gone is judged by its TMP (finished, or queued again to resume).
    func update(_ fresh: [String: [String: JSONValue]]) {
        for (id, r) in fresh where running[id] != nil { reports[id] = r }
        for (id, child) in running {
            guard case .adopted(let pid) = child, kill(pid, 0) != 0, errno == ESRCH else { continue }
            running[id] = nil
            reports[id] = readReport(id)
            if jobs[id]?.cancelRequested == true { endCancelled(id) }
            else if case .string("finished")? = reports[id]?["state"] { finish(id, outcome: "finished", error: nil) }
        }
        for id in jobs.keys.sorted() { publishIfChanged(id) }
        schedule()
    }

    private func readReport(_ id: String) -> [String: JSONValue]? {
        guard let data = config.statusReport(ServerJob.folder(root: config.root, id: id)),
              case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        return o
    }

    private func reportError(_ id: String) -> String? {
        if case .string(let e)? = reports[id]?["error"] { return e }
        return nil
    }

    /// The coordinator's last error line in the job's log (`encoda: error: …` without its prefix, as the status
    /// report's error reads, or the option parser's `Error: …`).
    private static func lastLine(_ path: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path), let s = String(data: d.suffix(8192), encoding: .utf8) else { return nil }
        let lines = s.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let prefix = "encoda: error: "
        let line = lines.last { $0.hasPrefix(prefix) || $0.hasPrefix("Error:") } ?? lines.last
        return line.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
    }

    // MARK: what the API shows

    /// queued, analysing, encoding, joining, finished, failed or cancelled.
    func state(of id: String) -> String {
        if let o = jobs[id]?.outcome { return o }
        guard running[id] != nil else { return "queued" }
        switch reports[id]?["state"] {
        case .string(let s)? where Self.activeStates.contains(s): return s
        case .string("finished")?: return "joining"
        case nil: return "analysing"
        default: return published[id]?.state ?? "encoding"
        }
    }

    /// `status --json`'s fields for the job's TMP, then the server's own: id, input, output, state and the request.
    func view(_ id: String) -> [String: JSONValue]? {
        guard let job = jobs[id] else { return nil }
        var v = reports[id] ?? [:]
        v["id"] = .string(id)
        v["input"] = .string(job.input)
        v["output"] = .string(job.output)
        v["state"] = .string(state(of: id))
        // status --json's `settings` are the encoder settings the coordinator resolved; the request is kept apart.
        var request: [String: JSONValue] = ["priority": .number(Double(job.priority)), "settings": .object(job.settings)]
        if let p = job.profile { request["profile"] = .string(p) }
        if let w = job.webhook { request["webhook"] = .string(w) }
        v["request"] = .object(request)
        v["createdAt"] = .number(job.createdAt)
        v["cancelRequested"] = .bool(job.cancelRequested)
        v["command"] = .array(command(job).map { .string($0) })
        if let e = job.endedAt { v["endedAt"] = .number(e) }
        if let e = job.error { v["error"] = .string(e) } else if job.outcome == "finished" || job.outcome == "cancelled" { v["error"] = nil }
        if job.outcome == "cancelled" { v["outputExists"] = .bool(FileManager.default.fileExists(atPath: job.output)) }
        return v
    }

    private func publishIfChanged(_ id: String) {
        let s = state(of: id)
        var frames: Int? = nil
        if case .number(let n)? = reports[id]?["framesDone"] { frames = Int(n) }
        let before = published[id]
        published[id] = (s, frames)
        guard before?.state != s || (before?.frames != frames && frames != nil) else { return }
        // States are sampled from the job's TMP every poll, so a short job can pass through one between two polls
        // (analysing → finished at hundreds of frames a second). A job's life is linear up to finished, so the states
        // it must have passed through are told too, in order: a listener sees every state of every job.
        if let was = before?.state, let from = Self.lifecycle.firstIndex(of: was), let to = Self.lifecycle.firstIndex(of: s),
           to > from + 1 {
            for passed in Self.lifecycle[(from + 1)..<to] { bus.publish(ServerEvent(type: "state", job: id, state: passed)) }
        }
        func num(_ k: String) -> Double? { if case .number(let n)? = reports[id]?[k] { return n }; return nil }
        var e = ServerEvent(type: before?.state != s ? "state" : "progress", job: id, state: s)
        e.framesDone = frames
        e.frames = num("frames").map { Int($0) }
        e.percentDone = num("percentDone")
        e.fps = num("fps")
        e.etaSeconds = num("etaSeconds")
        e.workersAlive = num("workersAlive").map { Int($0) }
        e.error = jobs[id]?.error
        bus.publish(e)
    }
}
