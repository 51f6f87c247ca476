import ArgumentParser
import EncodaPipeline
import Foundation

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Join the job in TMP and encode unclaimed chunks until it is finished.",
        discussion: """
        Any machine that mounts TMP (e.g. over NFS) can join a running job at any time. With --watch, FOLDER holds \
        jobs (each a TMP folder with a job.json); the worker serves them all and waits for new ones.
        First Ctrl-C/SIGTERM: finish and publish the current chunk, then leave (exit 0). Second: stop now and \
        release the claim (exit 130).
        The job's INPUT is found, in this order: --input; under --input-root by its path relative to the shared \
        folder, then by its file name; by its path relative to TMP; by the coordinator's absolute path. \
        Whichever is found must be the same file (size and content samples), or the worker refuses the job.
        """)

    @Argument(help: "The job's work folder (the shared folder the coordinator uses); with --watch, a folder of such job folders.") var tmp: String
    @Flag(name: .long, help: "Serve every job under the folder, one chunk at a time, and wait for new jobs until stopped.") var watch = false
    @Option(name: .long, help: "Worker processes on this machine (default: from the CPUs granted and memory, as the coordinator chooses).") var workers: Int?
    @Option(name: .long, help: "Encoder threads per worker process (default: the CPUs granted to this process — cgroup CPU quota, affinity mask — divided among the workers).") var threads: Int?
    @Option(name: .long, help: "Path of INPUT as this machine sees it (when it differs from the coordinator's; not with --watch).") var input: String?
    @Option(name: .long, help: "Folder where this machine sees the coordinator's input folder (or the shared folder): INPUT is looked up there.") var inputRoot: String?
    @Flag(name: .long, help: "Leave as soon as nothing is claimable, instead of waiting for the job to finish.") var exitWhenIdle = false
    @Option(name: .long, help: "Seconds between looks for new work when there is none.") var pollSeconds: Double = 1
    @Flag(name: .long, help: "No log lines on stderr.") var quiet = false
    @Flag(name: [.customShort("v"), .long], help: "More detail on stderr: the encoder libraries' information (-vv: debug).") var verbose: Int
    @Flag(name: .long, help: "Log lines on stdout instead of stderr (where a scheduler such as Slurm, Kubernetes or OpenCue collects a task's log).") var logStdout = false
    @Option(name: .long, help: .hidden) var supervisedBy: Int32?
    @Option(name: .customLong("vmaf-ffmpeg"), help: "An ffmpeg built with libvmaf, for jobs with --target-quality --metric vmaf (default: the first such ffmpeg on PATH).") var vmafFFmpeg: String?
    @Option(name: .long, help: "This machine's settings per profile (threads, workers, nice, serve), in YAML. Default: $ENCODA_WORKER_OVERRIDES, else /etc/encoda/worker.yaml if it exists.")
    var overrides: String?
    @Flag(name: .long, help: .hidden) var noOverrides = false // the workers an encode command starts: its options decide
    @Option(name: .long, help: .hidden) var poolSlot: Int? // which of a --watch pool's processes this is, from 0
    @Option(name: .long, help: .hidden) var budgetThreads: Int? // a pool's threads per process, unless overridden

    func validate() throws {
        if let threads { guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") } }
        if let workers { guard workers >= 1, workers <= 1024 else { throw ValidationError("--workers must be between 1 and 1024") } }
        guard pollSeconds >= 0.05, pollSeconds <= 3600 else { throw ValidationError("--poll-seconds must be between 0.05 and 3600") }
        if watch && input != nil { throw ValidationError("--input names one job's input; with --watch use --input-root") }
    }

    func run() throws {
        if let vmafFFmpeg { setenv(QualityOptions.vmafEnvironment, vmafFFmpeg, 1) }
        var w = WorkerRun(tmp: tmp)
        w.watch = watch; w.workers = workers; w.threads = threads; w.input = input; w.inputRoot = inputRoot
        w.exitWhenIdle = exitWhenIdle; w.pollSeconds = pollSeconds; w.quiet = quiet; w.verbose = verbose; w.logStdout = logStdout
        w.supervisedBy = supervisedBy; w.overrides = overrides; w.noOverrides = noOverrides; w.poolSlot = poolSlot
        w.budgetThreads = budgetThreads
        try w.run()
    }
}
