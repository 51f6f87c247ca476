/// Who did a piece of work.
public struct WorkerIdentity: Codable, Sendable, Hashable {
    public var host: String
    public var pid: Int32
    public var token: String
    /// Where `pid` means something: boot id and PID namespace of the worker's machine (absent in older
    /// records). Two identities with the same locality can check each other's processes directly.
    public var locality: String?
    /// The scheduler task the worker ran as (`slurm:123_4`, `opencue:JOB/FRAME`, a Kubernetes pod), if any.
    public var task: String?
    public init(host: String, pid: Int32, token: String, locality: String? = nil, task: String? = nil) {
        self.host = host; self.pid = pid; self.token = token; self.locality = locality; self.task = task
    }
}

/// The record that makes a chunk file trustworthy: written after the chunk file, published by atomic link.
public struct ChunkResult: Codable, Sendable {
    public static let formatVersion = 1
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    /// File name inside TMP/chunks (a plain name, never a path).
    public var file: String
    public var frames: Int
    public var bytes: Int64
    public var crc32: UInt32
    public var worker: WorkerIdentity
    public var startedAt: Double
    public var finishedAt: Double
    /// Seconds spent seeking (decoding frames before the chunk start).
    public var seekSeconds: Double
    /// Frames decoded and dropped to reach the first frame (0 when the chunk starts on a keyframe).
    public var framesSkipped: Int
    /// With `--target-quality`: the CRF chosen for the chunk and its measured score (absent otherwise).
    public var quality: ChunkQuality? = nil

    public init(jobID: String, chunk: Int, file: String, frames: Int, bytes: Int64, crc32: UInt32, worker: WorkerIdentity,
                startedAt: Double, finishedAt: Double, seekSeconds: Double, framesSkipped: Int) {
        self.formatVersion = Self.formatVersion
        self.jobID = jobID; self.chunk = chunk; self.file = file; self.frames = frames; self.bytes = bytes
        self.crc32 = crc32; self.worker = worker; self.startedAt = startedAt; self.finishedAt = finishedAt
        self.seekSeconds = seekSeconds; self.framesSkipped = framesSkipped
    }

    /// Checks the record against the plan; throws when it cannot be trusted.
    public func validate(against manifest: JobManifest, chunkID: Int) throws {
        func bad(_ what: String) -> EncodaError {
            EncodaError(.stateCorrupt, "result for chunk \(Chunk.name(chunkID)) is invalid: \(what); it will be re-encoded")
        }
        guard formatVersion == Self.formatVersion else { throw bad("format version \(formatVersion)") }
        guard jobID == manifest.jobID else { throw bad("it belongs to job \(jobID)") }
        guard chunk == chunkID, chunkID >= 0, chunkID < manifest.chunks.count else { throw bad("chunk number \(chunk)") }
        guard PathSafety.isPlainFileName(file), file.hasPrefix(Chunk.name(chunkID) + "-") else { throw bad("file name \(file)") }
        guard frames == manifest.chunks[chunkID].range.count else {
            throw bad("\(frames) frames, the plan says \(manifest.chunks[chunkID].range.count)")
        }
        guard bytes > 0, bytes < Int64(1) << 40 else { throw bad("size \(bytes)") }
    }
}

/// A failed attempt at a chunk, kept as its own file so that attempts can be counted without a shared counter.
public struct ChunkFailure: Codable, Sendable {
    public static let formatVersion = 1
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    public var worker: WorkerIdentity
    public var at: Double
    public var error: String
    public init(jobID: String, chunk: Int, worker: WorkerIdentity, at: Double, error: String) {
        self.formatVersion = Self.formatVersion
        self.jobID = jobID; self.chunk = chunk; self.worker = worker; self.at = at; self.error = error
    }
}
