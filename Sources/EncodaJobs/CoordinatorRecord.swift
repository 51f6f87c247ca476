import EncodaModel
import EncodaSystem
import Foundation

/// What the coordinator is doing, written as `TMP/coordinator.json` at every phase change (temp file, fsync,
/// rename), so that `encoda status` can tell a job that is analysing, encoding or joining from one that
/// finished, failed or was interrupted, from the moment TMP exists (before job.json does).
public struct CoordinatorRecord: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public enum Phase: String, Codable, Sendable, CaseIterable {
        /// The scene pass (or reading its cache) and planning: no job.json yet for a new job.
        case analysing
        /// job.json exists; workers encode chunks.
        case encoding
        /// Every chunk is done; the coordinator joins them into OUTPUT.
        case joining
        /// OUTPUT was written and renamed into place.
        case finished
        /// The coordinator stopped with an error (`error` says which).
        case failed
        /// The coordinator stopped on a signal; a re-run of the same command resumes.
        case interrupted

        /// Phases in which a live coordinator process is expected.
        public var isActive: Bool { self == .analysing || self == .encoding || self == .joining }
    }

    /// The encode settings as asked for; `pixelFormat` is unknown (nil) until the source's pixel format is known.
    public struct Settings: Codable, Sendable, Equatable {
        public var encoder: String
        public var preset: String
        public var crf: Double
        public var lossless: Bool
        public var pixelFormat: String?
        public var encoderParams: String
        /// `--target-quality` and its metric: each chunk's CRF is searched for, `crf` is unused.
        public var targetQuality: Double?
        public var metric: String?
        /// `--bitrate`, bits/s: `crf` is unused.
        public var bitRate: Int?
        public init(encoder: String, preset: String, crf: Double, lossless: Bool, pixelFormat: String?, encoderParams: String,
                    targetQuality: Double? = nil, metric: String? = nil, bitRate: Int? = nil) {
            self.encoder = encoder; self.preset = preset; self.crf = crf; self.lossless = lossless
            self.pixelFormat = pixelFormat; self.encoderParams = encoderParams
            self.targetQuality = targetQuality; self.metric = metric; self.bitRate = bitRate
        }
        public init(_ s: EncodeSettings) {
            self.init(encoder: s.encoder.rawValue, preset: s.preset, crf: s.crf, lossless: s.lossless,
                      pixelFormat: s.pixelFormat.rawValue, encoderParams: s.encoderParams,
                      targetQuality: s.quality?.target, metric: s.quality?.metric.rawValue, bitRate: s.bitRate)
        }

        /// How quality is chosen, as `status` says it: "lossless", "crf 23", "target ssimulacra2 80", "2500 kb/s".
        public var qualityText: String {
            if lossless { return "lossless" }
            if let t = targetQuality { return "target \(metric ?? "") \(QualityTarget.describe(t))" }
            if let b = bitRate { return "\(b / 1000) kb/s" }
            return "crf \(crf == crf.rounded() && abs(crf) < 1e9 ? String(Int(crf)) : String(crf))"
        }
    }

    public var formatVersion: Int
    public var phase: Phase
    public var host: String
    public var pid: Int32
    /// Boot id and PID namespace of the coordinator (`ProcessLiveness.currentLocality`): a reader with the same
    /// host and locality can tell whether `pid` is still running.
    public var locality: String
    /// INPUT and OUTPUT as absolute paths on the coordinator's machine.
    public var input: String
    public var output: String
    public var settings: Settings
    /// Known once the plan exists (from phase `encoding` on).
    public var jobID: String?
    public var frames: Int?
    public var chunks: Int?
    /// Seconds since the epoch, by the file server's clock where the coordinator could read it (as lease times
    /// are), else by the coordinator's clock.
    public var startedAt: Double
    public var updatedAt: Double
    /// When phase `encoding` began, and how many frames were done already then (a resumed job): the rate of
    /// this run is (frames done now − framesDoneAtEncodingStart) / (now − encodingStartedAt).
    public var encodingStartedAt: Double?
    public var framesDoneAtEncodingStart: Int?
    /// Why the coordinator stopped (phases failed and interrupted).
    public var error: String?
    /// OUTPUT's size in bytes (phase finished).
    public var outputBytes: Int64?

    public init(phase: Phase, host: String, pid: Int32, locality: String, input: String, output: String,
                settings: Settings, startedAt: Double) {
        formatVersion = Self.formatVersion
        self.phase = phase; self.host = host; self.pid = pid; self.locality = locality
        self.input = input; self.output = output; self.settings = settings
        self.startedAt = startedAt; updatedAt = startedAt
    }

    public static func path(in dir: WorkDirectory) -> String { dir.root + "/coordinator.json" }

    /// The record in TMP, nil when there is none; throws when it is there but unreadable or of another version.
    public static func read(_ dir: WorkDirectory) throws -> CoordinatorRecord? {
        let path = Self.path(in: dir)
        guard dir.list(dir.root).contains("coordinator.json") else { return nil }
        let r = try JSONCoding.read(CoordinatorRecord.self, from: path, what: "coordinator record")
        guard r.formatVersion == Self.formatVersion else {
            throw EncodaError(.stateCorrupt, "coordinator record \(path) has format version \(r.formatVersion), this encoda reads \(Self.formatVersion); use the encoda that made the job")
        }
        return r
    }

    /// True when the recorded coordinator process is certainly gone: only answerable on the same machine and
    /// PID namespace (otherwise false: it may be alive elsewhere).
    public func isProvablyDead(host here: String) -> Bool {
        ProcessLiveness.isProvablyDead(WorkerIdentity(host: host, pid: pid, token: "", locality: locality),
                                       judgedBy: WorkerIdentity(host: here, pid: getpid(), token: "", locality: ProcessLiveness.currentLocality))
    }
}

/// Writes the coordinator's record at each phase change. Nothing is written before `enter` is first called,
/// so a coordinator that fails before it touched TMP leaves no record.
public final class CoordinatorPhases {
    public let directory: WorkDirectory
    private var record: CoordinatorRecord
    private var written = false
    /// The record in TMP before this coordinator wrote its own: put back when this run is refused (another input,
    /// range or settings than the job in TMP), so `status` still tells that job's story, not the refusal's.
    private var previous: Data?
    /// When this coordinator started, and when it entered phase encoding, by this host's clock.
    public let began = Date()
    public private(set) var encodingBegan: Date?
    /// Frames done when phase encoding began (see `CoordinatorRecord.framesDoneAtEncodingStart`).
    public var framesDoneAtEncodingStart: Int { record.framesDoneAtEncodingStart ?? 0 }
    private let clock: ServerClock

    public init(directory: WorkDirectory, host: String, input: String, output: String, settings: CoordinatorRecord.Settings) {
        self.directory = directory
        clock = ServerClock(directory: directory, owner: "coordinator-record-\(host)-\(getpid())")
        record = CoordinatorRecord(phase: .analysing, host: host, pid: getpid(), locality: ProcessLiveness.currentLocality,
                                   input: input, output: output, settings: settings, startedAt: Date().timeIntervalSince1970)
    }

    /// Now by the file server's clock, or by this host's when the probe cannot be written (a full TMP).
    private func now() -> Double {
        defer { clock.remove() }
        return (try? clock.now()) ?? Date().timeIntervalSince1970
    }

    /// Records `phase` (after `update` has filled in what is known by then) and publishes the record.
    public func enter(_ phase: CoordinatorRecord.Phase, _ update: (inout CoordinatorRecord) -> Void = { _ in }) throws {
        let t = now()
        if !written {
            record.startedAt = t
            previous = try? Data(contentsOf: URL(fileURLWithPath: CoordinatorRecord.path(in: directory)))
        }
        record.phase = phase
        record.updatedAt = t
        if phase == .encoding && record.encodingStartedAt == nil { record.encodingStartedAt = t; encodingBegan = Date() }
        update(&record)
        try AtomicFile.writeJSON(record, to: CoordinatorRecord.path(in: directory), staging: directory.staging)
        written = true
    }

    /// Records how the coordinator ended when `error` stops it: interrupted for a signal, failed otherwise.
    /// Best effort (TMP may be full), and only if this coordinator recorded a phase before.
    public func ended(by error: Error) {
        guard written else { return }
        let e = error as? EncodaError
        if record.phase == .analysing, let previous, let code = e?.code, code == .workDirectory || code == .versionMismatch {
            // Refused before any work: TMP's job is untouched, and so is its record.
            try? AtomicFile.write(previous, to: CoordinatorRecord.path(in: directory), staging: directory.staging)
            return
        }
        try? enter(e?.code == .interrupted ? .interrupted : .failed) { $0.error = e?.description ?? "\(error)" }
    }
}
