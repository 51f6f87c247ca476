import EncodaModel
import Foundation

/// What encoding one chunk produced, as reported by the codec layer.
public struct EncodedChunk: Sendable {
    public var frames: Int
    public var bytes: Int64
    public var crc32: UInt32
    public var seekSeconds: Double
    public var framesSkipped: Int
    public init(frames: Int, bytes: Int64, crc32: UInt32, seekSeconds: Double, framesSkipped: Int) {
        self.frames = frames; self.bytes = bytes; self.crc32 = crc32; self.seekSeconds = seekSeconds; self.framesSkipped = framesSkipped
    }
}

/// The codec side of a worker, injected so the protocol can be tested with a fake encoder.
public protocol ChunkEncoding: Sendable {
    func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk
}

public struct WorkerOptions: Sendable {
    public var leaseSeconds: Double = 60
    public var maxAttempts: Int = 3
    public var pollSeconds: Double = 1
    /// Leave when nothing is claimable now instead of waiting for leases held by others to finish or go stale.
    public var exitWhenIdle = false
    public init() {}
}

/// Pulls chunks from TMP until the job is finished: claim, encode, fence, publish, release.
public final class Worker: @unchecked Sendable { // state shared with the heartbeat thread is guarded by `lock`
    public let directory: WorkDirectory
    public let manifest: JobManifest
    public let identity: WorkerIdentity
    let encoder: ChunkEncoding
    let options: WorkerOptions
    let leases: LeaseBook
    private let lock = NSLock()
    private var current: Int?
    private var draining = false
    private var heartbeatRunning = false
    public private(set) var encoded: [Int] = []
    public var log: (String) -> Void = { _ in }

    public init(directory: WorkDirectory, manifest: JobManifest, encoder: ChunkEncoding, identity: WorkerIdentity, options: WorkerOptions) {
        self.directory = directory; self.manifest = manifest; self.encoder = encoder; self.identity = identity; self.options = options
        leases = LeaseBook(directory: directory, jobID: manifest.jobID, me: identity, leaseSeconds: options.leaseSeconds)
    }

    /// Ask the worker to finish its current chunk and leave.
    public func drain() { lock.lock(); draining = true; lock.unlock() }
    var isDraining: Bool { lock.lock(); defer { lock.unlock() }; return draining }

    /// Stop now: give up the current lease (called from a signal handler queue before exiting).
    public func abandon() {
        lock.lock(); let c = current; lock.unlock()
        if let c { leases.release(c) }
        unlink(directory.workers + "/\(identity.token).json")
        leases.clock.remove()
    }

    private var workerRecord: String { directory.workers + "/\(identity.token).json" }

    /// Runs until every chunk is done or quarantined (or drained). Returns the chunks this worker encoded.
    public func run() throws -> [Int] {
        try AtomicFile.writeJSON(identity, to: workerRecord, staging: directory.staging)
        startHeartbeat()
        defer {
            stopHeartbeat()
            unlink(workerRecord)
            leases.clock.remove()
        }
        let order = ChunkPlanner.workOrder(manifest.chunks)
        while !isDraining {
            let state = JobState.scan(directory, manifest: manifest)
            let pending = order.filter { !state.isFinished($0.id) }
            if pending.isEmpty { break }
            var claimed: Chunk? = nil
            let candidates = pending.filter { !state.leased.contains($0.id) } + pending.filter { state.leased.contains($0.id) }
            for c in candidates {
                let r = try leases.acquire(c.id)
                if r == .heldByOther { continue }
                if case .stolen(let prev) = r {
                    log("chunk \(c.name): took over the stale lease of \(prev.host) pid \(prev.pid)")
                    recordFailure(c.id, "worker \(prev.host) pid \(prev.pid) stopped renewing its lease (crashed or lost the share)", by: prev)
                }
                // A result may have appeared between the scan and the claim.
                if directory.chunkIDs(in: directory.results, suffix: ".json").contains(c.id) { leases.release(c.id); continue }
                if failureCount(c.id) >= options.maxAttempts { quarantineIfNeeded(c.id); leases.release(c.id); continue }
                claimed = c
                break
            }
            guard let chunk = claimed else {
                if options.exitWhenIdle { break }
                Thread.sleep(forTimeInterval: options.pollSeconds)
                continue
            }
            lock.lock(); current = chunk.id; lock.unlock()
            defer { lock.lock(); current = nil; lock.unlock() }
            process(chunk)
        }
        return encoded
    }

    private func process(_ chunk: Chunk) {
        let name = directory.chunkFileName(chunk.id, token: identity.token)
        let path = directory.chunkFile(named: name)
        let started = Date().timeIntervalSince1970
        log("chunk \(chunk.name): encoding frames \(chunk.range)")
        do {
            let out = try encoder.encode(chunk: chunk, outputPath: path)
            guard out.frames == chunk.range.count else {
                throw EncodaError(.encoder, "chunk \(chunk.name) produced \(out.frames) frames, expected \(chunk.range.count); it was discarded and will be re-encoded")
            }
            // Fencing: publish only while the lease still names us.
            guard leases.stillHeld(chunk.id) else {
                unlink(path)
                log("chunk \(chunk.name): lost the lease while encoding; result discarded")
                return
            }
            let result = ChunkResult(jobID: manifest.jobID, chunk: chunk.id, file: name, frames: out.frames, bytes: out.bytes,
                                     crc32: out.crc32, worker: identity, startedAt: started, finishedAt: Date().timeIntervalSince1970,
                                     seekSeconds: out.seekSeconds, framesSkipped: out.framesSkipped)
            if try AtomicFile.publishJSONExclusive(result, to: directory.result(chunk.id), staging: directory.staging) {
                lock.lock(); encoded.append(chunk.id); lock.unlock()
                log("chunk \(chunk.name): published (\(out.frames) frames, \(out.bytes) bytes)")
            } else {
                unlink(path)
                log("chunk \(chunk.name): another worker published it first; ours discarded")
            }
            leases.release(chunk.id)
        } catch {
            unlink(path)
            let message = (error as? EncodaError)?.description ?? "\(error)"
            log("chunk \(chunk.name): failed: \(message)")
            recordFailure(chunk.id, message, by: identity)
            quarantineIfNeeded(chunk.id)
            leases.release(chunk.id)
        }
    }

    private func failureCount(_ id: Int) -> Int {
        directory.list(directory.failures).filter { $0.hasPrefix(Chunk.name(id) + "-") && $0.hasSuffix(".json") }.count
    }

    private func recordFailure(_ id: Int, _ message: String, by who: WorkerIdentity) {
        let f = ChunkFailure(jobID: manifest.jobID, chunk: id, worker: who, at: Date().timeIntervalSince1970, error: message)
        let path = directory.failures + "/\(Chunk.name(id))-\(identity.token)-\(UInt32.random(in: 0...UInt32.max)).json"
        try? AtomicFile.writeJSON(f, to: path, staging: directory.staging)
    }

    private func quarantineIfNeeded(_ id: Int) {
        guard failureCount(id) >= options.maxAttempts else { return }
        let last = directory.list(directory.failures).filter { $0.hasPrefix(Chunk.name(id) + "-") }.sorted().last
        let lastError = last.flatMap { try? JSONCoding.read(ChunkFailure.self, from: directory.failures + "/" + $0, what: "failure") }?.error ?? "unknown error"
        let q = ChunkFailure(jobID: manifest.jobID, chunk: id, worker: identity, at: Date().timeIntervalSince1970,
                             error: "failed \(options.maxAttempts) times; last error: \(lastError)")
        _ = try? AtomicFile.publishJSONExclusive(q, to: directory.quarantineRecord(id), staging: directory.staging)
        log("chunk \(Chunk.name(id)): quarantined after \(options.maxAttempts) failed attempts")
    }

    // MARK: heartbeat

    private func startHeartbeat() {
        lock.lock(); heartbeatRunning = true; lock.unlock()
        let interval = max(0.2, options.leaseSeconds / 6)
        let t = Thread { [self] in
            while true {
                lock.lock(); let running = heartbeatRunning; let c = current; lock.unlock()
                if !running { break }
                if let c { _ = leases.renew(c) }
                _ = FileTimes.touch(workerRecord)
                Thread.sleep(forTimeInterval: interval)
            }
        }
        t.start()
    }

    private func stopHeartbeat() { lock.lock(); heartbeatRunning = false; lock.unlock() }
}
