import ArgumentParser
import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Join the job in TMP and encode unclaimed chunks until it is finished.",
        discussion: "First Ctrl-C/SIGTERM: finish and publish the current chunk, then leave. Second: stop now and release the claim.")

    @Argument(help: "The job's work folder (the shared folder the coordinator uses).") var tmp: String
    @Option(name: .long, help: "Encoder threads for this worker.") var threads: Int = 1
    @Option(name: .long, help: "Path of INPUT as this machine sees it (when it differs from the coordinator's).") var input: String?
    @Option(name: .long, help: "Folder holding INPUT on this machine: INPUT is looked up here by its file name.") var inputRoot: String?
    @Option(name: .long, help: "Seconds without a heartbeat after which a claim counts as abandoned.") var leaseSeconds: Double = 60
    @Option(name: .long, help: "Failed attempts after which a chunk is quarantined.") var maxAttempts: Int = 3
    @Flag(name: .long, help: "Leave as soon as nothing is claimable, instead of waiting for the job to finish.") var exitWhenIdle = false
    @Flag(name: .long, help: "No log lines on stderr.") var quiet = false

    func run() throws {
        guard threads >= 1, threads <= 256 else { throw EncodaError(.usage, "--threads must be between 1 and 256") }
        guard leaseSeconds >= 1, maxAttempts >= 1 else { throw EncodaError(.usage, "--lease-seconds and --max-attempts must be positive") }
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        guard FileManager.default.fileExists(atPath: dir.manifest) else {
            throw EncodaError(.workDirectory, "TMP \(dir.root) holds no job (no job.json); start the job with `encoda INPUT OUTPUT TMP` first")
        }
        let manifest = try JSONCoding.read(JobManifest.self, from: dir.manifest, what: "job manifest")
        try manifest.validate()
        if let why = manifest.versions.mismatch(with: .installed, encoder: manifest.settings.encoder) {
            throw EncodaError(.versionMismatch, "this worker cannot take job \(manifest.jobID): \(why). Install the same versions as the coordinator (or use the same container image)")
        }
        let inputPath = try resolveInput(manifest, dir)
        let cache = try JSONCoding.read(SceneCache.self, from: dir.sceneCache, what: "scene cache")
        try cache.validate()
        guard cache.fingerprint == manifest.input.fingerprint, cache.index.frameCount == manifest.frameCount else {
            throw EncodaError(.stateCorrupt, "the scene cache in TMP belongs to another input than job \(manifest.jobID); re-run the coordinator")
        }
        let identity = WorkerIdentity(host: HostName.current, pid: getpid(), token: Token.make())
        var options = WorkerOptions()
        options.leaseSeconds = leaseSeconds
        options.maxAttempts = maxAttempts
        options.exitWhenIdle = exitWhenIdle
        let encoding = MediaChunkEncoding(input: inputPath, manifest: manifest, index: cache.index, threads: threads)
        let worker = Worker(directory: dir, manifest: manifest, encoder: encoding, identity: identity, options: options)
        let quiet = self.quiet
        worker.log = { line in
            if !quiet { FileHandle.standardError.write(Data("encoda worker \(identity.host):\(identity.pid): \(line)\n".utf8)) }
        }
        SignalWatcher.shared.install { n in
            if n == 1 {
                worker.log("draining: finishing the current chunk, then leaving (signal again to stop now)")
                worker.drain()
            } else {
                worker.abandon()
                Foundation.exit(130)
            }
        }
        let done = try worker.run()
        worker.log("leaving; encoded \(done.count) chunk(s)")
    }

    /// Finds INPUT on this machine and proves it is the same file the job was planned for.
    private func resolveInput(_ m: JobManifest, _ dir: WorkDirectory) throws -> String {
        var candidates: [String] = []
        if let input { candidates.append(JobSetup.absolute(input)) }
        else if let inputRoot { candidates.append(JobSetup.absolute(inputRoot) + "/" + (m.input.absolutePath as NSString).lastPathComponent) }
        else {
            if let rel = m.input.pathRelativeToWorkDirectory { candidates.append(((dir.root + "/" + rel) as NSString).standardizingPath) }
            candidates.append(m.input.absolutePath)
        }
        var problems: [String] = []
        for path in candidates {
            guard FileManager.default.fileExists(atPath: path) else { problems.append("\(path) does not exist"); continue }
            let fp: String
            do { fp = try InputFingerprint.compute(path: path).fingerprint } catch { problems.append("\(path) cannot be read"); continue }
            if fp == m.input.fingerprint { return path }
            problems.append("\(path) is a different file (fingerprint mismatch)")
        }
        throw EncodaError(.inputUnreadable, "this worker cannot find the job's INPUT: \(problems.joined(separator: "; ")). Give its location here with --input PATH or --input-root DIR")
    }
}
