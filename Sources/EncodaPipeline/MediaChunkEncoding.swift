import EncodaJobs
import EncodaMedia
import EncodaModel

/// The real codec side of a worker: seek + decode with libav, encode with SVT-AV1 or x264.
struct MediaChunkEncoding: ChunkEncoding {
    let input: String
    let manifest: JobManifest
    /// The manifest's plan: the picture, the pixel format and each chunk's frame index slice.
    let plan: JobPlan
    let threads: Int
    /// The decoder of the last chunk, standing at its end (see `cheapStart`).
    let carry = DecoderCarry()
    /// TMP, where `--target-quality` records its probes (needed only for such jobs).
    var directory: WorkDirectory? = nil
    /// The worker's log, for the probes of `--target-quality`.
    var log: @Sendable (String) -> Void = { _ in }

    func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk {
        try encode(chunk: chunk, outputPath: outputPath, progress: { _ in })
    }

    func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        if let target = manifest.settings.quality {
            guard let directory else { throw EncodaError(.internalError, "a --target-quality chunk needs TMP to record its probes") }
            return try TargetQualityEncoding(media: self, directory: directory, target: target, log: log)
                .encode(chunk: chunk, outputPath: outputPath, progress: progress)
        }
        let r = try encodeOnce(chunk: chunk, outputPath: outputPath, progress: progress)
        return EncodedChunk(frames: r.frames, bytes: r.bytes, crc32: r.crc32, seekSeconds: r.seekSeconds, framesSkipped: r.framesSkipped)
    }

    /// One encode of `chunk` (at `crf` and `preset` instead of the job's, and scored, for a probe).
    func encodeOnce(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void, crf: Int? = nil,
                    preset: String? = nil, scoring: ProbeScoring? = nil) throws -> ChunkEncodeReport {
        try ChunkEncoder.encode(input: input, manifest: manifest, plan: plan, chunk: chunk, outputPath: outputPath,
                                threads: threads, decodeThreads: 1, carry: carry, progress: progress, crf: crf, preset: preset,
                                scoring: scoring)
    }

    /// Where the kept decoder stands, when a chunk starting there is not on a source keyframe: seeking to it would
    /// decode the source from the keyframe before it only to throw those frames away.
    func cheapStart() -> Int? {
        guard let next = carry.nextFrame, next > 0, next < manifest.frameCount else { return nil }
        return plan.startsAfterKeyframe(next, chunks: manifest.chunks) == true ? next : nil
    }

    func releaseKeptState() { carry.drop() }
}

extension EncoderVersions {
    public static var installed: EncoderVersions {
        let v = ChunkEncoder.libraryVersions
        return EncoderVersions(encoda: EncodaVersion.current, svtav1: v.svtav1, x264: v.x264, libavcodec: v.libavcodec)
    }

    /// Only the libraries that decide the bits of this job's codec (and encoda itself) must match.
    func mismatch(with other: EncoderVersions, encoder: EncoderKind) -> String? {
        if encoda != other.encoda { return "encoda \(other.encoda) here, job made by \(encoda)" }
        if encoder == .av1 && svtav1 != other.svtav1 { return "SVT-AV1 \(other.svtav1) here, job made with \(svtav1)" }
        if encoder == .h264 && x264 != other.x264 { return "x264 build \(other.x264) here, job made with \(x264)" }
        if libavcodec != other.libavcodec { return "libavcodec \(other.libavcodec) here, job made with \(libavcodec)" }
        return nil
    }
}
