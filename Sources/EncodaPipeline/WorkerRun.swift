import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation
import Synchronization

/// `encoda worker TMP`: joins the job in TMP (or, with `watch`, every job under a folder) and encodes unclaimed
/// chunks until it is finished; with more than one worker, a pool of worker processes of this same command.
/// The fields are the command's options (see `WorkerCommand`).
public struct WorkerRun: Sendable {
    public var tmp: String
    public var watch = false
    public var workers: Int?
    public var threads: Int?
    public var input: String?
    public var inputRoot: String?
    public var exitWhenIdle = false
    public var pollSeconds: Double = 1
    /// --quiet and -v/-vv, handed on to the worker processes of a pool (this process's own lines follow the
    /// command's log level, `EncodaLog`).
    public var quiet = false
    public var verbose = 0
    public var logStdout = false
    public var supervisedBy: Int32?
    public var overrides: String?
    public var noOverrides = false
    public var poolSlot: Int?
    public var budgetThreads: Int?

    public init(tmp: String) { self.tmp = tmp }

    public func run() throws {
        ProcessMemoryPolicy.apply(.worker)
        let root = JobSetup.absolute(tmp)
        let drain = DrainRequest()
        let current = CurrentWorker()
        let log = WorkerLog(stdout: logStdout)
        let machine = noOverrides ? WorkerOverrides() : try WorkerOverrides.load(explicit: overrides)
        if let file = machine.file, supervisedBy == nil { log.line("worker overrides from \(file): \(machine.entries.count) entr\(machine.entries.count == 1 ? "y" : "ies")") }
        // One job: its profile's overrides decide this machine's processes and threads, so the job comes first.
        var local = WorkerOverrides.Resolved()
        if !watch && machine.file != nil {
            guard waitForJob(WorkDirectory(root), log: log, drain: drain) else { return }
            let profile = JobContext.peekProfile(WorkDirectory(root))
            local = machine.resolve(profile: profile)
            if !local.serve {
                log.line("this worker does not serve jobs of \(Self.profileText(profile)) (\(machine.file!), \(Self.entriesText(local))); leaving")
                return
            }
        }
        let budget = workers == 1 ? (workers: 1, threads: threads ?? local.threads ?? budgetThreads ?? CPUGrant.current.cpus)
            : chooseBudget(root, workers: workers ?? local.workers, threads: threads ?? local.threads)
        if budget.workers > 1 {
            // Problems with the job (another version, INPUT not found) are found here, once, not by every child.
            if !watch {
                guard waitForJobOrAnalysis(WorkDirectory(root), log: log, drain: drain) else { return }
                if WorkDirectory(root).list(root).contains("job.json") { _ = try JobContext.load(WorkDirectory(root), input: input, inputRoot: inputRoot) }
            }
            return try runPool(budget, log: log)
        }
        SignalWatcher.shared.install(ignoringInterrupt: supervisedBy != nil) { n in
            if n == 1 {
                drain.request { log.line("draining: finishing the current chunk, then leaving (signal again to stop now)") }
            } else {
                log.line("stopping now; the current chunk's claim is released")
                current.get()?.abandon()
                current.analysing()?.abandon()
                Foundation.exit(130)
            }
        }
        if let parent = supervisedBy {
            ParentWatch.start(parent: parent) {
                drain.request { log.line("the process that started this worker (pid \(parent)) is gone; finishing the current chunk, then leaving") }
            }
        }
        let nice = NiceLevel(log: log)
        if watch {
            try serveFolder(root, drain: drain, current: current, log: log, threads: budget.threads, machine: machine, nice: nice)
            return
        }
        guard try waitForJobAnalysing(WorkDirectory(root), log: log, drain: drain, current: current, threads: budget.threads) else { return }
        var job = try JobContext.load(WorkDirectory(root), input: input, inputRoot: inputRoot)
        // One identity for every unit this process takes, so it keeps one journal and one worker record.
        let identity = Self.newIdentity()
        // The job's profile is in job.json from the start, also while its plan streams: overrides apply to every unit.
        local = machine.resolve(profile: job.manifest.profile)
        let threads = self.threads ?? local.threads ?? budget.threads
        log.line("joining job \(job.manifest.jobID) with \(threads) encoder thread(s)"
                 + (self.threads != nil ? " (--threads)" : local.threads != nil ? " (worker overrides)"
                    : budgetThreads != nil ? " (this machine's share)" : " (the CPUs granted: \(CPUGrant.current))"))
        applyOverrides(local, machine: machine, job: job, threads: threads, nice: nice, log: log)
        // Chunks encoded while the plan streamed, counted with the rest when leaving.
        var encodedWhilePlanned = 0
        if job.manifest.planStreaming == true {
            let followed = try followStreamingPlan(job, drain: drain, current: current, log: log, threads: threads, identity: identity)
            guard let whole = followed.job else {
                log.line("leaving; encoded \(followed.encoded) chunk(s) and analysed \(followed.analysed) segment(s) while the job was planned")
                return
            }
            job = whole
            encodedWhilePlanned = followed.encoded
        }
        let worker = makeWorker(job, drain: drain, exitWhenIdle: exitWhenIdle, log: log, threads: threads, identity: identity)
        current.set(worker)
        let done = try worker.run()
        log.line("leaving; encoded \(encodedWhilePlanned + done.count) chunk(s)"
                 + (encodedWhilePlanned > 0 ? " (\(encodedWhilePlanned) while the job was planned)" : "") + " [\(describe(worker.tally))]")
    }

    /// Worker processes and encoder threads for this machine: as the coordinator chooses for the job (its picture
    /// size sets the memory per worker), or from cores and memory alone with --watch.
    private func chooseBudget(_ root: String, workers: Int?, threads: Int?) -> (workers: Int, threads: Int) {
        let manifest = watch ? nil : try? JSONCoding.read(JobManifest.self, from: WorkDirectory(root).manifest, what: "job manifest")
        return WorkerBudget.choose(requestedWorkers: workers, requestedThreads: threads, video: manifest?.video,
                                   chunks: manifest?.planStreaming == true ? Int.max : manifest?.chunks.count ?? Int.max)
    }

    /// `--workers N` (N > 1): N worker processes of this same command on this machine, each with its own claims.
    /// Signals are forwarded (first: drain, second: stop now); a child that crashes is not restarted here.
    private func runPool(_ budget: (workers: Int, threads: Int), log: WorkerLog) throws {
        let pool = LocalWorkerPool()
        let signals = SignalWatcherFlag()
        SignalWatcher.shared.install(ignoringInterrupt: supervisedBy != nil) { n in
            signals.set(n)
            pool.signalAll(SIGTERM)
            log.line(n == 1 ? "draining: each worker finishes its current chunk, then leaves (signal again to stop now)"
                            : "stopping now; claims are released")
        }
        // With --watch each job's overrides are applied by the process that takes it: threads given here are a
        // default it may override, and its slot says whether it is among a profile's `workers`.
        var args = [tmp, "--workers", "1", (watch && threads == nil ? "--budget-threads" : "--threads"), String(budget.threads),
                    "--poll-seconds", String(pollSeconds)]
        if let overrides { args += ["--overrides", overrides] }
        if watch { args.append("--watch") }
        if exitWhenIdle { args.append("--exit-when-idle") }
        if quiet { args.append("--quiet") }
        if verbose > 0 { args.append("-" + String(repeating: "v", count: verbose)) }
        if logStdout { args.append("--log-stdout") }
        if let input { args += ["--input", input] }
        if let inputRoot { args += ["--input-root", inputRoot] }
        log.line("starting \(budget.workers) worker processes with \(budget.threads) encoder thread(s) each")
        for slot in 0..<budget.workers { try pool.spawn(arguments: args + (watch ? ["--pool-slot", String(slot)] : []), log: nil) }
        var stopDeadline: Date? = nil
        while !pool.running.isEmpty {
            if signals.value >= 2 {
                let d = stopDeadline ?? Date().addingTimeInterval(1.5)
                stopDeadline = d
                if Date() >= d { pool.killAll(); break }
            }
            _ = pool.exited.wait(timeout: .now() + 0.2)
        }
        let statuses = pool.processes.map { $0.terminationReason == .exit ? $0.terminationStatus : 128 + $0.terminationStatus }
        if let bad = statuses.first(where: { $0 != 0 }) {
            if signals.value > 0 { throw EncodaError(.interrupted, "stopped; the worker processes released their claims") }
            // The child's own status, so scripts see the same code as from a single worker.
            let code = EncodaError.Code.allCases.first { EncodaError($0, "").exitStatus == bad } ?? .chunkFailed
            throw EncodaError(code, "a worker process exited with status \(bad); see its lines above")
        }
    }

    /// A worker may be started before the coordinator has planned the job: it waits for job.json (and for TMP
    /// itself) instead of leaving. Returns false if asked to leave while waiting.
    private func waitForJob(_ dir: WorkDirectory, log: WorkerLog, drain: DrainRequest) -> Bool {
        waitInTMP(dir, log: log, drain: drain) { $0.contains("job.json") ? .ready : .nothing }
    }

    func makeWorker(_ job: JobContext, drain: DrainRequest, exitWhenIdle: Bool, log: WorkerLog, threads: Int,
                    identity given: WorkerIdentity? = nil, maxUnits: Int? = nil) -> Worker {
        let identity = given ?? Self.newIdentity()
        var options = WorkerOptions()
        options.maxUnits = maxUnits
        options.keepsWorkerRecord = maxUnits != nil // one unit at a time: the caller keeps the record between them
        options.farm = job.manifest.farmSettings
        options.exitWhenIdle = exitWhenIdle
        options.pollSeconds = pollSeconds
        options.drain = drain
        options.chunkCosts = job.plan.costs
        options.whenIdle = { ProcessMemoryPolicy.releaseFreeMemory() }
        var media = MediaChunkEncoding(input: job.inputPath, manifest: job.manifest, plan: job.plan, threads: threads)
        media.directory = job.directory
        let jobName = (job.directory.root as NSString).lastPathComponent
        let watching = watch
        media.log = { log.line(watching ? "[\(jobName)] \($0)" : $0) }
        var encoding: ChunkEncoding = media
        if let failing = TestHooks.failingChunks() { encoding = FailingChunkEncoding(wrapped: encoding, failing: failing) }
        let worker = Worker(directory: job.directory, manifest: job.manifest, encoder: encoding, identity: identity, options: options)
        worker.log = { log.line(watch ? "[\(jobName)] \($0)" : $0) }
        return worker
    }

    /// A fresh identity for this process's work on one job (its token names its journal and worker record).
    static func newIdentity() -> WorkerIdentity {
        WorkerIdentity(host: HostName.current, pid: getpid(), token: Token.make(), locality: ProcessLiveness.currentLocality,
                       task: SchedulerTask.current)
    }

    /// --watch: every job folder under `root` (and `root` itself), round after round, until drained.
    private func serveFolder(_ root: String, drain: DrainRequest, current: CurrentWorker, log: WorkerLog, threads: Int,
                             machine: WorkerOverrides, nice: NiceLevel) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw EncodaError(.workDirectory, "\(root) is not a folder; give the shared folder that holds the job folders")
        }
        log.line("watching \(root) for jobs")
        var refused: [String: String] = [:] // job folder + job id → why, said once
        var finished: Set<String> = []
        var total = 0
        while !drain.isRequested {
            var worked = false
            for dir in JobContext.jobFolders(under: root) {
                if drain.isRequested { break }
                let key = dir.root
                guard let jobID = JobContext.peekJobID(dir) else { continue }
                let id = key + "#" + jobID
                if refused[id] != nil || finished.contains(id) { continue }
                var job: JobContext
                do { job = try JobContext.load(dir, input: nil, inputRoot: inputRoot) } catch {
                    let why = (error as? EncodaError)?.description ?? "\(error)"
                    refused[id] = why
                    log.line("skipping job in \(dir.root): \(why)")
                    continue
                }
                let local = machine.resolve(profile: job.manifest.profile)
                if let why = notServed(local, machine: machine, profile: job.manifest.profile) {
                    refused[id] = why
                    log.line("[\((dir.root as NSString).lastPathComponent)] skipping job \(job.manifest.jobID): \(why)")
                    continue
                }
                let jobThreads = self.threads ?? local.threads ?? threads
                let identity = Self.newIdentity()
                if job.manifest.planStreaming == true {
                    applyOverrides(local, machine: machine, job: job, threads: jobThreads, nice: nice, log: log)
                    let name = "[\((dir.root as NSString).lastPathComponent)] "
                    let followed = try followStreamingPlan(job, drain: drain, current: current, log: log, threads: jobThreads,
                                                           identity: identity, prefix: name)
                    total += followed.encoded
                    if followed.encoded + followed.analysed > 0 { worked = true }
                    guard let whole = followed.job else { continue }
                    job = whole
                }
                let state = JobState.scan(dir, manifest: job.manifest)
                if job.manifest.chunks.allSatisfy({ state.isFinished($0.id) }) { finished.insert(id); continue }
                applyOverrides(local, machine: machine, job: job, threads: jobThreads, nice: nice, log: log)
                let worker = makeWorker(job, drain: drain, exitWhenIdle: true, log: log, threads: jobThreads, identity: identity)
                current.set(worker)
                let done = try worker.run()
                current.set(nil)
                if !done.isEmpty {
                    worked = true
                    total += done.count
                    log.line("[\((dir.root as NSString).lastPathComponent)] encoded \(done.count) chunk(s) [\(describe(worker.tally))]")
                }
            }
            if !worked && !drain.isRequested {
                ProcessMemoryPolicy.releaseFreeMemory()
                Thread.sleep(forTimeInterval: max(pollSeconds, 1))
            }
        }
        log.line("leaving; encoded \(total) chunk(s) across jobs")
    }

    /// Why this process leaves a job to others under the machine's overrides, nil when it takes it: the profile is
    /// not served here, or this process's pool slot is beyond the profile's `workers`.
    private func notServed(_ local: WorkerOverrides.Resolved, machine: WorkerOverrides, profile: String?) -> String? {
        guard let file = machine.file else { return nil }
        if !local.serve { return "this worker does not serve jobs of \(Self.profileText(profile)) (\(file), \(Self.entriesText(local)))" }
        if let n = local.workers, workers == nil || supervisedBy != nil, (poolSlot ?? 0) >= n {
            return "jobs of \(Self.profileText(profile)) take \(n) worker process\(n == 1 ? "" : "es") on this machine and this is number \((poolSlot ?? 0) + 1) (\(file), \(Self.entriesText(local)))"
        }
        return nil
    }

    /// Sets this process's nice level for the job and says what the overrides changed (one line, when any matched).
    private func applyOverrides(_ local: WorkerOverrides.Resolved, machine: WorkerOverrides, job: JobContext, threads: Int,
                                nice: NiceLevel, log: WorkerLog) {
        let level = nice.set(local.nice)
        guard let file = machine.file, !local.entries.isEmpty else { return }
        let name = (job.directory.root as NSString).lastPathComponent
        log.line("[\(name)] job \(job.manifest.jobID) of \(Self.profileText(job.manifest.profile)): threads \(threads), nice \(level)"
                 + (local.workers.map { ", workers \($0)" } ?? "") + " (\(file), \(Self.entriesText(local)))")
    }

    static func profileText(_ profile: String?) -> String { profile.map { "profile \($0)" } ?? "no profile" }
    static func entriesText(_ r: WorkerOverrides.Resolved) -> String {
        r.entries.isEmpty ? "no entry matches" : "entr\(r.entries.count == 1 ? "y" : "ies") \(r.entries.map(String.init).joined(separator: ", "))"
    }

    private func describe(_ t: WorkerTally) -> String {
        "claims won \(t.claimed), stale leases taken over \(t.stolen), claim races lost \(t.racesLost), results discarded \(t.discarded), failures \(t.failed)"
    }
}

/// One job as a worker sees it: job.json (its plan's decisions and frame index slices), and where INPUT is on this
/// machine. A worker never reads scenes.json.
struct JobContext {
    let directory: WorkDirectory
    let manifest: JobManifest
    let plan: JobPlan
    let inputPath: String

    static func load(_ dir: WorkDirectory, input: String?, inputRoot: String?) throws -> JobContext {
        guard FileManager.default.fileExists(atPath: dir.manifest) else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no job (no job.json); start the job with `encoda INPUT OUTPUT TMP` first")
        }
        let manifest = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
        try manifest.validate()
        if let why = manifest.versions.mismatch(with: .installed, encoder: manifest.settings.encoder) {
            throw EncodaError(.versionMismatch, "this worker cannot take job \(manifest.jobID): \(why). Install the same versions as the coordinator (or use the same container image)")
        }
        if manifest.settings.quality?.metric == .vmaf {
            // Every chunk's probes are scored with VMAF: without a libvmaf ffmpeg each chunk would fail here, three
            // times, and be quarantined, failing the job for every worker. Refused up front, like other versions.
            do { _ = try VmafFFmpeg.locate(explicit: ProcessInfo.processInfo.environment[VmafEnvironment.name]) } catch let e as EncodaError {
                throw EncodaError(.versionMismatch, "this worker cannot take job \(manifest.jobID): its chunks are scored with VMAF, and \(e.message). Give `encoda worker --vmaf-ffmpeg PATH` or install one (scripts/install.sh --with-vmaf)")
            }
        }
        let inputPath = try resolveInput(manifest, dir, input: input, inputRoot: inputRoot)
        return try JobContext(directory: dir, manifest: manifest, plan: manifest.requirePlan(), inputPath: inputPath).extended()
    }

    /// The same job with the chunks published since in TMP/plan, when its plan streams (`PlanStream`).
    func extended() throws -> JobContext {
        guard manifest.planStreaming == true else { return self }
        let m = try PlanStream.extend(manifest, in: directory)
        return JobContext(directory: directory, manifest: m, plan: try m.requirePlan(), inputPath: inputPath)
    }

    /// Folders directly under `root` that hold a job.json, and `root` itself if it does; sorted by name.
    static func jobFolders(under root: String) -> [WorkDirectory] {
        let top = WorkDirectory(root)
        var found: [WorkDirectory] = []
        if top.list(top.root).contains("job.json") { found.append(top) }
        for name in top.list(top.root).sorted() where PathSafety.isPlainFileName(name) && !name.hasPrefix(".") {
            let d = WorkDirectory(top.root + "/" + name)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: d.root, isDirectory: &isDir), isDir.boolValue else { continue }
            if d.list(d.root).contains("job.json") { found.append(d) }
        }
        return found
    }

    /// The job's profile (nil: none, or no readable job.json), cheaply, before the job is loaded.
    static func peekProfile(_ dir: WorkDirectory) -> String? {
        struct Peek: Decodable { var profile: String? }
        return (try? JSONCoding.read(Peek.self, from: dir.manifest, what: "job manifest"))?.profile
    }

    /// The job id, cheaply, to tell a new job in a reused folder from the one seen before.
    static func peekJobID(_ dir: WorkDirectory) -> String? {
        struct Peek: Decodable { var jobID: String }
        return (try? JSONCoding.read(Peek.self, from: dir.manifest, what: "job manifest"))?.jobID
    }

    /// Finds INPUT on this machine and proves it is the same file the job was planned for.
    static func resolveInput(_ m: JobManifest, _ dir: WorkDirectory, input: String?, inputRoot: String?) throws -> String {
        try resolveInput(m.input, jobID: m.jobID, dir, input: input, inputRoot: inputRoot)
    }

    /// Where job `jobID`'s INPUT (`reference`, from job.json or analysis.json) is on this machine.
    static func resolveInput(_ reference: InputReference, jobID: String, _ dir: WorkDirectory, input: String?, inputRoot: String?) throws -> String {
        let m = (input: reference, jobID: jobID)
        var candidates: [String] = []
        if let input { candidates.append(JobSetup.absolute(input)) }
        else {
            if let inputRoot {
                let r = JobSetup.absolute(inputRoot)
                // The input's place in the shared folder (…/job1/../in.mkv → ROOT/in.mkv), then its name alone.
                if let rel = m.input.pathRelativeToWorkDirectory {
                    let inShared = rel.hasPrefix("../") ? String(rel.dropFirst(3)) : (dir.root as NSString).lastPathComponent + "/" + rel
                    candidates.append(r + "/" + inShared)
                }
                candidates.append(r + "/" + (m.input.absolutePath as NSString).lastPathComponent)
                if ImageSequence.isPattern(m.input.absolutePath) { // a sequence's folder names the shot: ROOT/shot/f_%04d.png
                    let comps = (m.input.absolutePath as NSString).pathComponents
                    if comps.count >= 3 { candidates.append(r + "/" + comps.suffix(2).joined(separator: "/")) }
                }
            }
            if let rel = m.input.pathRelativeToWorkDirectory { candidates.append(((dir.root + "/" + rel) as NSString).standardizingPath) }
            candidates.append(m.input.absolutePath)
        }
        var problems: [String] = []
        var seen = Set<String>()
        for path in candidates where seen.insert(path).inserted {
            let probe = ImageSequence.isPattern(path) ? (path as NSString).deletingLastPathComponent : path // a sequence: its folder
            guard FileManager.default.fileExists(atPath: probe) else { problems.append("\(path) does not exist"); continue }
            let fp: String
            do { fp = try InputFingerprint.compute(path: path).fingerprint } catch { problems.append("\(path) cannot be read"); continue }
            if fp == m.input.fingerprint { return path }
            problems.append("\(path) is a different file (size or content differs from the job's input)")
        }
        throw EncodaError(.inputUnreadable, "this worker cannot find the input of job \(m.jobID): \(problems.joined(separator: "; ")). Give its location on this machine with --input PATH or --input-root DIR")
    }
}

/// This process's nice level per job: a job's override, else the level the process started with. Raising it is
/// always allowed; lowering it back needs privilege, and a refusal is said once and the level kept.
final class NiceLevel {
    private let base: Int32
    private let log: WorkerLog
    private var said = false
    init(log: WorkerLog) {
        errno = 0
        let n = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        base = errno == 0 ? n : 0
        self.log = log
    }

    /// Sets the level (nil: the starting level) and returns the level now in force, as the kernel reports it.
    func set(_ level: Int?) -> Int32 {
        let target = level.map(Int32.init) ?? base
        errno = 0
        let now = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        if errno == 0 && now == target { return now }
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, target) != 0 && !said {
            said = true
            log.line("cannot set nice level \(target) (\(String(cString: strerror(errno)))); keeping \(now)")
        }
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }
}

/// The worker being run now, for the second signal to release its claim.
final class CurrentWorker: Sendable {
    private let worker = Mutex<Worker?>(nil)
    private let segments = Mutex<SegmentWorker?>(nil)
    func set(_ w: Worker?) { worker.withLock { $0 = w } }
    func get() -> Worker? { worker.withLock { $0 } }
    func set(analysing w: SegmentWorker?) { segments.withLock { $0 = w } }
    func analysing() -> SegmentWorker? { segments.withLock { $0 } }
}

/// Worker log lines, prefixed with host and pid, and the scheduler task when there is one (the farm tests read
/// them): swift-log records (`EncodaLog.workerLine`), so the command's --quiet and -v apply as for encode's notes;
/// on stdout with `--log-stdout`. Each line is one write.
struct WorkerLog: Sendable {
    let stdout: Bool
    let prefix = "encoda worker \(HostName.current):\(getpid())" + (SchedulerTask.current.map { " [\($0)]" } ?? "") + ": "
    init(stdout: Bool = false) { self.stdout = stdout }
    func line(_ s: String) { EncodaLog.workerLine(prefix + s, stdout: stdout) }
}

/// Test hooks, used only by the farm tests (scripts/nfs/test-farm.sh) and documented there.
enum TestHooks {
    /// ENCODA_TEST_FAIL_CHUNKS=3,7: the encode of these chunk numbers always fails, as an encoder error would,
    /// so that retry and quarantine can be shown end to end. Nothing else reads it.
    static func failingChunks() -> Set<Int>? {
        guard let v = ProcessInfo.processInfo.environment["ENCODA_TEST_FAIL_CHUNKS"], !v.isEmpty else { return nil }
        return Set(v.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
    }
}

struct FailingChunkEncoding: ChunkEncoding {
    let wrapped: ChunkEncoding
    let failing: Set<Int>
    func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk {
        try encode(chunk: chunk, outputPath: outputPath, progress: { _ in })
    }
    func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        if failing.contains(chunk.id) {
            throw EncodaError(.encoder, "chunk \(chunk.name): encoder failure forced by ENCODA_TEST_FAIL_CHUNKS (test hook)")
        }
        return try wrapped.encode(chunk: chunk, outputPath: outputPath, progress: progress)
    }
    func cheapStart() -> Int? { wrapped.cheapStart() }
    func releaseKeptState() { wrapped.releaseKeptState() }
}
