import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation

/// What a job's TMP says of it, read without changing anything in it: `encoda status` prints it, `encoda serve`
/// shows it for each job. Ages are judged by the file server's clock when TMP is writable, else by this machine's.
public enum JobStatus {
    /// `status --json`. Field meanings are documented in docs/status.schema.json; change both together.
    public struct Report: Codable {
        public var formatVersion = 2
        public var state: String
        public var tmp: String
        public var clock: String
        public var now: Double
        public var jobID: String?
        public var input: String?
        public var output: String?
        public var outputExists: Bool?
        public var outputBytes: Int64?
        public var settings: CoordinatorRecord.Settings?
        public var coordinator: Coordinator?
        public var error: String?
        public var frames: Int?
        public var framesDone: Int
        public var percentDone: Double?
        public var chunks: Int?
        /// True while the plan streams: `chunks` counts the chunks planned so far.
        public var planning: Bool?
        public var chunksDone: Int
        public var bytesDone: Int64
        public var estimatedBytes: Int64?
        public var kbps: Double?
        public var fps: Double?
        public var etaSeconds: Double?
        public var elapsedSeconds: Double?
        public var done: [Int]
        public var running: [Running]
        public var failed: [Failed]
        public var quarantined: [Quarantined]
        /// Result records that do not check out (left in place; a worker or the coordinator moves them aside).
        public var invalid: [Invalid]? = nil
        public var workersAlive: Int
        public var workers: [Worker]
        public var leaseSeconds: Double?
        public var maxAttempts: Int?
        /// A timeline job's outputs, one per clip.
        public var clips: [Clip]?
        /// `--target-quality`: each chunk's frames, CRF, score and kb/s (the chunks done so far while it runs).
        public var summary: JobSummary?
        /// INPUT's analysis as leased segments, when the job has one (analysis.json).
        public var analysis: Analysis? = nil

        public struct Coordinator: Codable {
            public var host: String; public var pid: Int32; public var phase: String
            /// true: running here; false: provably gone; nil: on another machine, cannot tell.
            public var alive: Bool?
            public var startedAt: Double; public var updatedAt: Double
        }
        public struct Running: Codable {
            public var chunk: Int; public var frames: Int; public var framesEncoded: Int?
            public var host: String; public var pid: Int32
            /// The scheduler task of its worker (`slurm:123_4`), if it runs as one.
            public var task: String? = nil
            /// Seconds since the claim was made (nil for leases that do not say).
            public var runningSeconds: Double?
            public var heartbeatAgeSeconds: Double
            public var stale: Bool
        }
        public struct Clip: Codable {
            public var clip: String; public var path: String
            public var frames: Int; public var framesDone: Int; public var chunks: Int; public var chunksDone: Int
            public var written: Bool
        }
        public struct Failed: Codable { public var chunk: Int; public var attempts: Int }
        public struct Quarantined: Codable { public var chunk: Int; public var error: String }
        public struct Invalid: Codable { public var chunk: Int; public var record: String; public var error: String }
        public struct Worker: Codable {
            public var host: String; public var pid: Int32
            public var task: String? = nil
            public var chunk: Int?; public var chunkFrames: Int?; public var framesEncoded: Int?
            public var heartbeatAgeSeconds: Double
        }
    }

    /// Reads TMP without changing anything in it.
    public static func report(_ dir: WorkDirectory) throws -> Report {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.root, isDirectory: &isDir), isDir.boolValue else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) does not exist or is not a folder; give the work folder of a job")
        }
        let names = dir.list(dir.root)
        let coord = try CoordinatorRecord.read(dir)
        var manifest: JobManifest? = nil
        if names.contains("job.json") {
            let m = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
            try m.validate()
            // A plan that streams: the chunks published so far.
            manifest = try PlanStream.extend(m, in: dir)
        }
        let analysisManifest = names.contains("analysis.json") ? try dir.readAnalysisManifest() : nil
        guard coord != nil || manifest != nil || analysisManifest != nil else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no job (neither coordinator.json nor job.json); start one with `encoda INPUT OUTPUT TMP`")
        }
        // The file server's clock needs a probe file written (and removed again) in TMP/clock; a read-only or
        // full TMP is not touched at all and this machine's clock is used instead.
        var clockName = "local"
        var now = Date().timeIntervalSince1970
        var fs = statvfs()
        let hasRoom = statvfs(dir.root, &fs) == 0 && fs.f_bavail > 0 && (fs.f_files == 0 || fs.f_favail > 0)
        if hasRoom && access(dir.root, W_OK) == 0 && access(dir.clock, W_OK) == 0 {
            let clock = ServerClock(directory: dir, owner: "status-\(HostName.current)-\(getpid())-\(Token.make())")
            if let t = try? clock.now() { now = t; clockName = "server" }
            clock.remove()
        }

        var r = Report(state: "encoding", tmp: dir.root, clock: clockName, now: now, framesDone: 0, chunksDone: 0, bytesDone: 0,
                       done: [], running: [], failed: [], quarantined: [], workersAlive: 0, workers: [])
        var alive: Bool? = nil
        if let c = coord {
            let sameMachine = c.host == HostName.current && c.locality == ProcessLiveness.currentLocality
            alive = sameMachine ? !c.isProvablyDead(host: HostName.current) : nil
            r.coordinator = .init(host: c.host, pid: c.pid, phase: c.phase.rawValue, alive: alive, startedAt: c.startedAt, updatedAt: c.updatedAt)
            r.input = c.input; r.output = c.output; r.settings = c.settings
            r.jobID = c.jobID; r.frames = c.frames; r.chunks = c.chunks; r.error = c.error
            if sameMachine && !ClipOutputNames.isPattern(c.output) {   // a timeline's outputs are listed per clip
                let st = try? FileSystem.stat(c.output)
                r.outputExists = st != nil
                if let st { r.outputBytes = Int64(st.st_size) }
            }
        }
        if let a = analysisManifest { // the analysis that this TMP's job is planned from (its id is not the job's)
            if r.input == nil { r.input = a.input.absolutePath }
            r.analysis = analysis(dir, manifest: a, now: now)
            if manifest == nil { // before the plan: the workers analysing
                let live = WorkerRecord.live(dir, now: now, within: a.farmSettings.leaseSeconds)
                r.workersAlive = live.count
                r.workers = live.map { .init(host: $0.record.host, pid: $0.record.pid, task: $0.record.task, heartbeatAgeSeconds: $0.heartbeatAgeSeconds) }
                r.leaseSeconds = a.farmSettings.leaseSeconds; r.maxAttempts = a.farmSettings.maxAttempts
            }
        }
        var state: JobState? = nil
        var allFinished = false
        if let m = manifest {
            let s = JobState.scan(dir, manifest: m, readOnly: true)
            state = s
            allFinished = m.planStreaming != true && m.chunks.allSatisfy { s.isFinished($0.id) }
            if r.jobID == nil || r.jobID == m.jobID {
                r.jobID = m.jobID; r.frames = m.outputFrameCount; r.chunks = m.chunks.count
                r.planning = m.planStreaming
                if r.input == nil { r.input = m.input.absolutePath }
                if r.settings == nil { r.settings = .init(m.settings) }
            }
            r.leaseSeconds = m.farmSettings.leaseSeconds; r.maxAttempts = m.farmSettings.maxAttempts
            r.done = s.done.keys.sorted()
            r.chunksDone = s.done.count
            r.bytesDone = s.bytesDone()
            r.failed = s.failures.keys.sorted().filter { s.quarantined[$0] == nil }.map { .init(chunk: $0, attempts: s.failures[$0]!) }
            r.quarantined = s.quarantined.keys.sorted().map { .init(chunk: $0, error: s.quarantined[$0]!) }
            if !s.invalid.isEmpty {
                r.invalid = s.invalid.keys.sorted().map { .init(chunk: $0, record: "results/" + Chunk.name($0) + ".json", error: s.invalid[$0]!) }
            }
            let live = WorkerRecord.live(dir, now: now, within: m.farmSettings.leaseSeconds)
            let partial = WorkerRecord.framesInProgress(live, manifest: m, state: s)
            r.workersAlive = live.count
            r.workers = live.map { .init(host: $0.record.host, pid: $0.record.pid, task: $0.record.task, chunk: $0.record.chunk, chunkFrames: $0.record.chunkFrames,
                                         framesEncoded: $0.record.framesEncoded, heartbeatAgeSeconds: $0.heartbeatAgeSeconds) }
            let byToken = Dictionary(live.map { ($0.record.token, $0.record) }, uniquingKeysWith: { a, _ in a })
            let book = LeaseBook(directory: dir, jobID: m.jobID, me: WorkerIdentity(host: "", pid: 0, token: ""), leaseSeconds: m.farmSettings.leaseSeconds)
            for id in s.leased.sorted() where id < m.chunks.count && !s.published.contains(id) {
                guard let o = try? book.readOwner(dir.lease(id)), let t = try? FileTimes.mtime(dir.lease(id)) else { continue }
                let age = max(0, now - t)
                let mine = byToken[o.worker.token].flatMap { $0.chunk == id ? $0.framesEncoded : nil }
                r.running.append(.init(chunk: id, frames: m.chunks[id].range.count, framesEncoded: mine, host: o.worker.host, pid: o.worker.pid, task: o.worker.task,
                                       runningSeconds: o.claimedAt.map { max(0, now - $0) }, heartbeatAgeSeconds: age,
                                       stale: age > m.farmSettings.leaseSeconds))
            }
            r.framesDone = min(m.outputFrameCount, s.framesDone(m) + partial.values.reduce(0, +))
            if let outs = m.outputs {
                let written = JoinedOutputs.written(dir, jobID: m.jobID)
                r.clips = outs.indices.map { i in
                    let cs = m.chunks(ofOutput: i), done = cs.filter { s.done[$0.id] != nil }
                    return .init(clip: outs[i].clip, path: outs[i].path, frames: outs[i].range.count, framesDone: done.reduce(0) { $0 + $1.range.count },
                                 chunks: cs.count, chunksDone: done.count, written: written.contains(outs[i].path))
                }
            }
        }

        // The state: what the coordinator recorded, corrected by what can be checked from here.
        let quarantinedAny = !(state?.quarantined.isEmpty ?? true)
        if let c = coord {
            switch c.phase {
            case .finished:
                if r.outputExists == false {
                    r.state = "failed"
                    r.error = "the coordinator wrote OUTPUT \(c.output), but it is not there now (moved or deleted); re-run the same command to join it again"
                } else if let want = c.outputBytes, let have = r.outputBytes, want != have {
                    r.state = "failed"
                    r.error = "OUTPUT \(c.output) is \(have) bytes, not the \(want) bytes the coordinator wrote (replaced since?); re-run the same command to join it again"
                } else {
                    r.state = "finished"
                }
            case .failed: r.state = "failed"
            case .interrupted: r.state = "interrupted"
            case .analysing, .encoding, .joining:
                if allFinished && quarantinedAny && alive != true {
                    r.state = "failed"
                    r.error = r.error ?? "\(state!.quarantined.count) chunk(s) failed for good (quarantined)"
                } else if alive == false {
                    r.state = "interrupted"
                    r.error = "the coordinator (\(c.host) pid \(c.pid)) is gone while \(c.phase.rawValue) without recording why (killed?); re-run the same command to resume"
                } else {
                    r.state = c.phase.rawValue
                }
            }
        } else {
            // No coordinator record (a job planned by an older encoda, or a TMP holding only an analysis so far):
            // judged by the chunks alone. Whether a
            // coordinator joined them cannot be told, so a job with every chunk done is reported as joining.
            r.state = manifest == nil ? "analysing" : allFinished ? (quarantinedAny ? "failed" : "joining") : "encoding"
        }

        // Rates and estimates.
        if r.state == "finished", let frames = r.frames {
            r.framesDone = frames
            r.chunksDone = r.chunks ?? r.chunksDone
            r.done = Array(0..<(r.chunks ?? 0))
            r.running = []
            if r.outputBytes == nil { r.outputBytes = coord?.outputBytes }
        }
        if let frames = r.frames, frames > 0 { r.percentDone = (1000 * Double(r.framesDone) / Double(frames)).rounded() / 10 }
        if let c = coord {
            let end = c.phase.isActive && r.state != "interrupted" ? now : c.updatedAt
            r.elapsedSeconds = max(0, end - c.startedAt)
            if let start = c.encodingStartedAt, let base = c.framesDoneAtEncodingStart, end > start, r.framesDone > base {
                r.fps = (Double(r.framesDone - base) / (end - start) * 100).rounded() / 100
            }
        }
        if r.state == "encoding", let fps = r.fps, fps > 0, let frames = r.frames {
            r.etaSeconds = (Double(frames - r.framesDone) / fps).rounded()
        }
        if let m = manifest, let s = state {
            if r.state == "finished", let bytes = r.outputBytes, let e = m.sizeEstimate(bytes: bytes, frames: m.outputFrameCount) {
                r.kbps = (e.kbps * 10).rounded() / 10
                r.estimatedBytes = bytes
            } else if let e = m.sizeEstimate(bytes: r.bytesDone, frames: s.framesDone(m)) {
                r.kbps = (e.kbps * 10).rounded() / 10
                r.estimatedBytes = Int64(e.outputBytes)
            }
        }
        if let m = manifest, JobSummary.applies(to: m.settings), let s = state {
            r.summary = JobSummary(manifest: m, results: s.done)
        } else if let summary = SummaryStep.read(dir), summary.jobID == r.jobID {
            r.summary = summary
        }
        return r
    }
}
