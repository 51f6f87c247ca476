/// How `--bitrate` is shared between chunks: decided once in the plan, kept in each chunk (`Chunk.bitRate`), so
/// every worker encodes a chunk at the same rate and a resumed job gives the same bits.
public enum BitAllocation {
    /// No chunk gets less than a quarter or more than four times the average rate: a still shot still gets enough
    /// bits for its first (key) frame, a busy one does not starve the rest.
    public static let spread = 4.0

    /// Each chunk's complexity: the mean size of the source packets its frames come from, leaving out keyframe
    /// packets (an intra frame of the source says how it was coded, not how busy the shot is) unless the chunk
    /// holds nothing else (an intra-only source). Nil without packet sizes for every frame (old scene caches).
    public static func complexities(_ chunks: [Chunk], packetSizes: [Int32]?, keyframes: [Int]) -> [Double]? {
        guard let sizes = packetSizes, !sizes.isEmpty,
              chunks.allSatisfy({ $0.range.start >= 0 && $0.range.end <= sizes.count && $0.range.count > 0 }) else { return nil }
        let keys = Set(keyframes)
        return chunks.map { c in
            var inter = 0.0, interCount = 0, all = 0.0
            for f in c.range.start..<c.range.end {
                let s = Double(max(0, sizes[f]))
                all += s
                if !keys.contains(f) { inter += s; interCount += 1 }
            }
            return interCount > 0 ? inter / Double(interCount) : all / Double(c.range.count)
        }
    }

    /// Pure. The rate (bits/s) of each chunk, given its frame count and complexity, so that the chunks together
    /// hold `target` × their duration: a chunk's rate is in proportion to its complexity relative to the
    /// frame-weighted mean, held within 1/`spread` … `spread` times `target`, then all rates are scaled so that
    /// the total is exact. Without complexities (or all zero) every chunk gets `target`.
    public static func rates(frames: [Int], complexities: [Double]?, target: Int) -> [Int] {
        let total = frames.reduce(0, +)
        guard total > 0, let cx = complexities, cx.count == frames.count, cx.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            return frames.map { _ in target }
        }
        let mean = zip(frames, cx).reduce(0.0) { $0 + Double($1.0) * $1.1 } / Double(total)
        guard mean > 0 else { return frames.map { _ in target } }
        let relative = cx.map { $0 / mean }
        // The scale that makes the frame-weighted mean of the clamped ratios 1, found by bisection (the mean grows
        // monotonically with it).
        func clampedMean(_ k: Double) -> Double {
            zip(frames, relative).reduce(0.0) { $0 + Double($1.0) * min(spread, max(1 / spread, k * $1.1)) } / Double(total)
        }
        var lo = 0.0, hi = spread * spread
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if clampedMean(mid) < 1 { lo = mid } else { hi = mid }
        }
        let k = (lo + hi) / 2
        let ratios = relative.map { min(spread, max(1 / spread, k * $0)) }
        return ratios.map { Int((Double(target) * $0).rounded()) }
    }

    /// The rates for a plan's chunks from the frame index (see `complexities` and `rates`).
    public static func rates(_ chunks: [Chunk], index: FrameIndex, target: Int) -> [Int] {
        rates(frames: chunks.map(\.range.count),
              complexities: complexities(chunks, packetSizes: index.packetSizes, keyframes: index.keyframes), target: target)
    }

    /// `chunks` with their rates set (nil `target`: unchanged).
    public static func assign(_ chunks: [Chunk], index: FrameIndex, target: Int?) -> [Chunk] {
        guard let target else { return chunks }
        let r = rates(chunks, index: index, target: target)
        return zip(chunks, r).map { var c = $0.0; c.bitRate = $0.1; return c }
    }
}
