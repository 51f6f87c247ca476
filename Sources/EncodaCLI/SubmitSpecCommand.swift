import ArgumentParser
import EncodaJobs
import Foundation

extension SubmitSpec.Engine: ExpressibleByArgument {}

/// `encoda submit-spec ENGINE TMP --workers N`: prints what Slurm, OpenCue or Kubernetes needs to run N workers on
/// the job in TMP (see deploy/ for the README of each engine).
struct SubmitSpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit-spec",
        abstract: "Print a scheduler's job for N workers on the job in TMP: an sbatch script (slurm), a pyoutline script (opencue) or an indexed Job (kubernetes).",
        discussion: """
        Each task runs `encoda worker TMP --workers 1 --threads T --exit-when-idle --log-stdout`: it claims chunks \
        until none is left to claim and exits 0, finishes and publishes its chunk on SIGTERM, and its result records \
        name the engine's task. Write it to a file and submit it: `encoda submit-spec slurm /shared/job1 --workers 8 \
        > workers.sbatch && sbatch workers.sbatch`. Nothing is read or written in TMP.
        """)

    @Argument(help: "The engine: \(SubmitSpec.Engine.allCases.map(\.rawValue).joined(separator: ", ")).") var engine: SubmitSpec.Engine
    @Argument(help: "The job's work folder as the workers see it.") var tmp: String
    @Option(name: .long, help: "Worker tasks (array tasks, frames, pods).") var workers: Int = 4
    @Option(name: .long, help: "CPUs each task asks the engine for, and its encoder threads.") var threads: Int = 1
    @Option(name: .long, help: "The encoda binary on the workers.") var encoda: String = "encoda"
    @Option(name: .long, help: "Where the workers see the coordinator's input folder (worker --input-root).") var inputRoot: String?
    @Option(name: .long, help: "kubernetes: the container image.") var image: String = "localhost/encoda:latest"
    @Option(name: .long, help: "kubernetes: the ReadWriteMany PersistentVolumeClaim holding TMP.") var claim: String = "encoda-shared"
    @Option(name: .long, help: "kubernetes: where the claim is mounted in the pod.") var mountPath: String = "/shared"
    @Option(name: .long, help: "kubernetes: seconds a pod gets after SIGTERM to finish its chunk (longer than one chunk's encode).") var gracePeriod: Int = 600

    func validate() throws {
        guard workers >= 1, workers <= 10000 else { throw ValidationError("--workers must be between 1 and 10000") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard gracePeriod >= 1 else { throw ValidationError("--grace-period must be at least 1 second") }
        guard tmp.hasPrefix("/") else { throw ValidationError("TMP must be an absolute path, as the workers see it (got \(tmp))") }
        if engine == .kubernetes, !(tmp + "/").hasPrefix(mountPath.hasSuffix("/") ? mountPath : mountPath + "/") {
            throw ValidationError("TMP (\(tmp)) must be under --mount-path \(mountPath), where the pods mount the share")
        }
    }

    func run() throws {
        var spec = SubmitSpec(tmp: (tmp as NSString).standardizingPath, workers: workers, threads: threads)
        spec.encoda = encoda
        spec.inputRoot = inputRoot
        spec.image = image
        spec.claim = claim
        spec.mountPath = mountPath
        spec.gracePeriodSeconds = gracePeriod
        print(spec.text(engine), terminator: "")
    }
}
