import EncodaFFmpeg
import EncodaModel

/// `--auto-grain`'s measurement while planning: the noise of each chunk's middle frame (`GrainLevel.noise`), decoded
/// at full size. Deterministic (the same frame, the same arithmetic), so the levels in the plan do not depend on
/// who measured them.
public enum GrainProbe {
    /// The noise σ of each chunk (nil where it cannot be measured).
    public static func noise(input: String, video: VideoFacts, index: FrameIndex, chunks: [Chunk]) throws -> [Double?] {
        LibavLogging.configure()
        return try chunks.map { c in
            let middle = c.range.start + c.range.count / 2
            let source = ChunkFrameSource(input: input, video: video, index: index, range: FrameRange(middle, middle + 1), threads: 1)
            var sigma: Double? = nil
            try source.run { frame, _ in sigma = measure(frame) }
            return sigma
        }
    }

    /// The noise of one decoded picture, in 8-bit steps of its luma as coded: read straight from an 8-bit luma
    /// plane, otherwise converted to grey by libswscale (whose stretch of limited-range luma is taken back out).
    static func measure(_ f: Frame) -> Double? {
        let (w, h) = (f.width, f.height)
        guard w > 0, h > 0 else { return nil }
        var luma = [UInt8](repeating: 0, count: w * h)
        var gain = 1.0
        let copied: Void? = ScenePass.hasPlainLuma(f.pixelFormat) ? f.withPlanes(1) { plane, stride in
            luma.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h { (dst.baseAddress! + y * w).update(from: plane[0] + y * stride[0], count: w) }
            }
        } : nil
        if copied == nil {
            let scaler = Scaler(width: w, height: h, format: .gray8, flags: .point)
            let converted = luma.withUnsafeMutableBufferPointer { scaler.scale(f, intoPlane: $0.baseAddress!) }
            guard converted else { return nil }
            gain = ScenePass.lumaGain(f.pixelFormat)
        }
        return GrainLevel.noise(luma: luma, width: w, height: h).map { $0 / gain }
    }
}
