import EncodaModel

/// What encoding one chunk produced, as reported by the codec layer.
public struct EncodedChunk: Sendable {
    public var frames: Int
    public var bytes: Int64
    public var crc32: UInt32
    public var seekSeconds: Double
    public var framesSkipped: Int
    /// With `--target-quality`: what the chunk's CRF search chose (goes into its result record).
    public var quality: ChunkQuality? = nil
    public init(frames: Int, bytes: Int64, crc32: UInt32, seekSeconds: Double, framesSkipped: Int) {
        self.frames = frames; self.bytes = bytes; self.crc32 = crc32; self.seekSeconds = seekSeconds; self.framesSkipped = framesSkipped
    }
}

/// The codec side of a worker, injected so the protocol can be tested with a fake encoder.
public protocol ChunkEncoding: Sendable {
    func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk
    /// As `encode(chunk:outputPath:)`, calling `progress` with the number of frames put out so far (cheap, on
    /// the encoding thread; the worker's heartbeat reports it).
    func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk
    /// The first frame of a chunk this encoder could start more cheaply than the others (its decoder already
    /// stands there, and reaching that frame by seeking would mean decoding source frames only to discard them),
    /// or nil.
    func cheapStart() -> Int?
    /// Gives up state kept between chunks (a waiting worker should hold no more memory than it needs).
    func releaseKeptState()
}

extension ChunkEncoding {
    /// An encoder that cannot tell its progress reports none until the chunk is done.
    public func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        try encode(chunk: chunk, outputPath: outputPath)
    }
    public func cheapStart() -> Int? { nil }
    public func releaseKeptState() {}
}
