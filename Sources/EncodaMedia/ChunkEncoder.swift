import EncodaFFmpeg
import EncodaCodecs
import EncodaModel
import EncodaSystem
import Foundation

/// What one chunk encode produced.
public struct ChunkEncodeReport: Sendable {
    public var frames: Int
    public var bytes: Int64
    public var crc32: UInt32
    public var seekSeconds: Double
    public var framesSkipped: Int
    /// With `scoring`: the score of every scored frame, in frame order.
    public var scores: [Double] = []
}

/// Encodes exactly the frames of one chunk into a chunk file: seek, decode, convert if needed, encode,
/// verify the count and that the first packet is a keyframe.
public enum ChunkEncoder {
    /// - Parameters:
    ///   - progress: called with the number of packets written so far, after each one (on this thread).
    ///   - crf: encode at this CRF instead of the job's (a `--target-quality` probe).
    ///   - preset: encode at this preset instead of the job's (a `--probe-preset` probe).
    ///   - scoring: also score the encode against the pictures the encoder received (`ProbeScoring`).
    ///   - plan: `manifest`'s plan, whose picture, pixel format and `chunk`'s frame index slice the encode reads.
    public static func encode(input: String, manifest: JobManifest, plan: JobPlan, chunk: Chunk,
                              outputPath: String, threads: Int, decodeThreads: Int = 1,
                              carry: DecoderCarry? = nil, progress: ((Int) -> Void)? = nil,
                              crf: Int? = nil, preset: String? = nil, scoring: ProbeScoring? = nil) throws -> ChunkEncodeReport {
        // A decoder left in `carry` stands after this chunk only if the whole chunk was encoded and checked.
        do {
            return try encodeChunk(input: input, manifest: manifest, plan: plan, chunk: chunk, outputPath: outputPath,
                                   threads: threads, decodeThreads: decodeThreads, carry: carry, progress: progress,
                                   crf: crf, preset: preset, scoring: scoring)
        } catch {
            carry?.drop()
            throw error
        }
    }

    private static func encodeChunk(input: String, manifest: JobManifest, plan: JobPlan, chunk: Chunk,
                                    outputPath: String, threads: Int, decodeThreads: Int,
                                    carry: DecoderCarry?, progress: ((Int) -> Void)?,
                                    crf: Int?, preset: String?, scoring: ProbeScoring?) throws -> ChunkEncodeReport {
        // A kept decoder that this chunk cannot use goes before the encoder is made, not after.
        if let carry, carry.nextFrame != chunk.range.start { carry.drop() }
        ProcessMemoryPolicy.begin(.encoding(manifest.settings.encoder))
        let v = manifest.video
        guard chunk.id >= 0, chunk.id < plan.slices.count else {
            throw EncodaError(.stateCorrupt, "chunk \(chunk.name) has no frame index slice in job.json")
        }
        let index = plan.slices[chunk.id]
        let picture = plan.picture
        let colour = ColourConversion(source: v, picture: picture, target: plan.pixelFormat)
        var settings = manifest.settings
        if let crf { settings.crf = Double(crf) }
        if let preset { settings.preset = preset }
        var config = EncoderConfiguration(settings: settings, video: colour.encoded, width: picture.width, height: picture.height,
                                          threads: threads, bitRate: settings.bitRate(for: chunk), filmGrain: settings.filmGrain(for: chunk),
                                          frames: chunk.range.count)
        let converter = PictureConverter(pixelFormat: settings.pixelFormat, width: picture.width, height: picture.height,
                                         crop: picture.crop, colour: colour, rotation: picture.rotation)
        let keys = Set(chunk.shotStarts.map { $0 - chunk.range.start })
        // Decodes the chunk's frames into `encoder` (the first pass of --two-pass, and the encode).
        // `measurement` (a --target-quality probe) also sees each picture the encoder receives.
        func feed(_ encoder: VideoEncoder, carry: DecoderCarry?, measurement: ProbeMeasurement?,
                  _ sink: @escaping (EncodedPacket) throws -> Void) throws -> ChunkFrameSource {
            let source = ChunkFrameSource(input: input, video: v, index: index, range: chunk.range, threads: decodeThreads)
            try source.run(carry: carry) { frame, n in
                let progressive = v.interlacing?.flaggedPerFrame == true && !frame.isInterlaced
                try converter.withPicture(frame) { pic, converted in
                    try measurement?.reference(converted, n: n)
                    var pic = pic
                    pic.progressiveFrame = progressive
                    try encoder.encode(pic, pts: Int64(n), forceKeyframe: n > 0 && keys.contains(n), output: sink)
                }
            }
            try encoder.finish(output: sink)
            return source
        }
        // x264 --two-pass: a first pass over the chunk writes its stats beside the chunk file in TMP; they are
        // removed once the chunk is encoded (or its encode failed).
        let stats = TwoPassStats(chunkPath: outputPath)
        if settings.twoPass == true && settings.encoder == .h264 && config.bitRate != nil {
            defer { stats.remove() }
            config.pass = 1
            config.statsPath = stats.path
            var packets = 0
            do {
                // Its own scope: x264 completes the stats file when the encoder is closed.
                let first = try EncoderFactory.make(config)
                _ = try feed(first, carry: nil, measurement: nil) { _ in packets += 1 }
            }
            guard packets == chunk.range.count else {
                throw EncodaError(.encoder, "the first pass of chunk \(chunk.name) produced \(packets) frames, expected \(chunk.range.count); it will be re-encoded")
            }
            config.pass = 2
            return try encodePass(config, chunk: chunk, outputPath: outputPath, carry: carry, progress: progress, scoring: scoring, feed: feed).report
        }
        // SVT-AV1 --two-pass: its first and middle passes over the chunk leave stats in memory, which the last pass,
        // the encode, reads (see SvtAv1Encoder.applyPass); nothing in TMP.
        if settings.twoPass == true && settings.encoder == .av1 && config.bitRate != nil {
            for pass in 1...2 {
                config.pass = pass
                let encoder = try EncoderFactory.make(config)
                _ = try feed(encoder, carry: nil, measurement: nil) { _ in }
                guard let stats = encoder.firstPassStats else {
                    throw EncodaError(.encoder, "pass \(pass) of chunk \(chunk.name) gave no stats; it will be re-encoded")
                }
                config.svtStats = stats
            }
            config.pass = 3
            // A chunk that misses its share by more than RateCorrection.tolerance is encoded again (the last pass
            // only, with the same stats) at a corrected rate, into the same chunk file.
            let share = config.bitRate!
            let target = RateCorrection.targetBytes(rate: share, frames: chunk.range.count, framesPerSecond: config.video.frameRate.doubleValue)
            var result = try encodePass(config, chunk: chunk, outputPath: outputPath, carry: carry, progress: progress, scoring: scoring, feed: feed)
            var attempts = [RateCorrection.Attempt(rate: share, bytes: result.payload)]
            while let rate = RateCorrection.nextRate(share: share, target: target, attempts: attempts) {
                config.bitRate = rate
                result = try encodePass(config, chunk: chunk, outputPath: outputPath, carry: nil, progress: progress, scoring: scoring, feed: feed)
                attempts.append(RateCorrection.Attempt(rate: rate, bytes: result.payload))
            }
            // The corrections spent, the chunk is the attempt closest to its share: encoded once more at that rate
            // when a later one overshot further (same stats, same threads: the same bytes).
            if let best = RateCorrection.closest(target: target, attempts: attempts), best.rate != attempts.last?.rate {
                config.bitRate = best.rate
                result = try encodePass(config, chunk: chunk, outputPath: outputPath, carry: nil, progress: progress, scoring: scoring, feed: feed)
            }
            return result.report
        }
        return try encodePass(config, chunk: chunk, outputPath: outputPath, carry: carry, progress: progress, scoring: scoring, feed: feed).report
    }

    /// The encode whose packets make the chunk file; `payload` is the bytes of its packets.
    private static func encodePass(_ config: EncoderConfiguration, chunk: Chunk, outputPath: String, carry: DecoderCarry?,
                                   progress: ((Int) -> Void)?, scoring: ProbeScoring?,
                                   feed: (VideoEncoder, DecoderCarry?, ProbeMeasurement?, @escaping (EncodedPacket) throws -> Void) throws -> ChunkFrameSource) throws -> (report: ChunkEncodeReport, payload: Int) {
        let encoder = try EncoderFactory.make(config)
        let measurement = try scoring.map { try ProbeMeasurement(scoring: $0, encoder: config.settings.encoder, extradata: encoder.extradata) }
        let writer = try ChunkWriter(path: outputPath, encoder: config.settings.encoder, extradata: encoder.extradata)
        var first = true
        var packetPTS = Set<Int64>()
        var payload = 0
        let sink: (EncodedPacket) throws -> Void = { p in
            if first {
                guard p.isKey else { throw EncodaError(.encoder, "the encoder's first packet of chunk \(chunk.name) is not a keyframe") }
                first = false
            }
            guard p.pts >= 0, p.pts < Int64(chunk.range.count), packetPTS.insert(p.pts).inserted else {
                throw EncodaError(.encoder, "the encoder returned frame \(p.pts) of chunk \(chunk.name) twice or out of range")
            }
            try writer.append(p)
            try measurement?.packet(p)
            payload += p.data.count
            progress?(writer.packets)
        }
        let source = try feed(encoder, carry, measurement, sink)
        guard writer.packets == chunk.range.count else {
            throw EncodaError(.encoder, "chunk \(chunk.name) produced \(writer.packets) frames, expected \(chunk.range.count); it was discarded and will be re-encoded")
        }
        let scores = try measurement?.finish(frames: chunk.range.count) ?? []
        try writer.finish()
        return (ChunkEncodeReport(frames: writer.packets, bytes: writer.bytes, crc32: writer.crc,
                                  seekSeconds: source.seekSeconds, framesSkipped: source.framesSkipped, scores: scores), payload)
    }

    /// The stats x264 writes in the first pass of a chunk: `NNNNN-T.chunk.x264stats` beside the chunk file, with its
    /// macroblock-tree file (`.mbtree`) and the temporary names x264 writes both under (`.temp`).
    struct TwoPassStats {
        let path: String
        init(chunkPath: String) { path = chunkPath + ".x264stats" }
        func remove() {
            for name in [path, path + ".temp", path + ".mbtree", path + ".mbtree.temp"] { try? FileSystem.unlinkIfPresent(name) }
        }
    }

    public static var libraryVersions: (svtav1: String, x264: String, libavcodec: String) {
        let encoders = EncoderFactory.libraryVersions
        return (encoders.svtav1, encoders.x264, LibavVersions.libavcodec)
    }
}
