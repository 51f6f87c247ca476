import EncodaJobs
import EncodaModel

/// How the coordinator's progress and its last line reach the front end, which decides how they look (a live
/// terminal display, plain lines in a log). Notes go through `Report`.
public struct CoordinatorObserver {
    /// The view of the encode's progress, made when the local workers start.
    public var progress: (WorkDirectory, JobManifest) -> JobProgressView
    /// OUTPUT was written (not called with `--quiet`).
    public var written: (WrittenOutput) -> Void

    public init(progress: @escaping (WorkDirectory, JobManifest) -> JobProgressView, written: @escaping (WrittenOutput) -> Void) {
        self.progress = progress; self.written = written
    }
}

/// A live view of the job's progress, fed by the worker supervisor's polls.
public protocol JobProgressView: AnyObject {
    func start(framesAlreadyDone: Int)
    /// Called on every poll (about five times a second); the view decides how often it draws.
    func update(state: JobState, workers: Int)
    func finish()
}

/// The figures of the line that ends a job.
public struct WrittenOutput {
    public var output: String
    public var frames: Int
    public var bytes: Int64
    /// The whole run, from the coordinator's start.
    public var seconds: Double
    public var frameRate: Double
    /// Frames encoded in this run (not by an earlier one).
    public var framesEncoded: Int
    public var encodeSeconds: Double
    public var joinSeconds: Double
}

/// What `--dry-run` shows: the plan the coordinator would encode.
public struct DryRunPlan {
    public var input: String
    public var cache: SceneCache
    public var settings: EncodeSettings
    public var scene: SceneSettings
    public var cuts: [Int]
    public var cutSource: String
    public var shots: [FrameRange]
    public var chunks: [Chunk]
    public var workers: Int
    public var threads: Int
    public var cropNote: String?
    public var mux: MuxPlan?
    public var conversions: [String]
    /// The trim, described (`TrimStep.describe`).
    public var trim: String?
    /// A timeline's clips, one line each (`TimelineStep.describe`).
    public var clips: String?
}
