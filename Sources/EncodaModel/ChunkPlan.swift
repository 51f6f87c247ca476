/// One unit of work: a contiguous frame range encoded into one chunk file under one lease. A chunk holds one
/// shot or several short ones; every shot start inside it becomes a keyframe.
public struct Chunk: Codable, Sendable, Hashable {
    public var id: Int
    public var range: FrameRange
    /// Frame numbers (absolute) where a shot starts inside this chunk; always includes `range.start`.
    public var shotStarts: [Int]
    /// With `--bitrate`: this chunk's share of the bits, as bits/s at the job's frame rate (`BitAllocation`).
    public var bitRate: Int? = nil
    /// With `--auto-grain`: the film grain level measured for this chunk (0 = off; `GrainLevel`).
    public var filmGrain: Int? = nil

    public init(id: Int, range: FrameRange, shotStarts: [Int]) {
        self.id = id; self.range = range; self.shotStarts = shotStarts
    }

    /// File-name stem: 00042.
    public var name: String { Chunk.name(id) }
    public static func name(_ id: Int) -> String {
        let s = String(id)
        return s.count >= 5 ? s : String(repeating: "0", count: 5 - s.count) + s
    }
}

/// Pure planning: shots → chunks.
public enum ChunkPlanner {
    /// Groups consecutive shots shorter than `minChunkFrames` into one chunk, so that lock traffic and
    /// per-chunk overhead do not grow with the number of tiny shots. A chunk never exceeds `maxChunkFrames`
    /// through grouping (a single long shot stays whole; it was split earlier if needed).
    public static func plan(shots: [FrameRange], minChunkFrames: Int, maxChunkFrames: Int) -> [Chunk] {
        var chunks: [Chunk] = []
        var current: [FrameRange] = []
        func flush() {
            guard let first = current.first, let last = current.last else { return }
            chunks.append(Chunk(id: chunks.count, range: FrameRange(first.start, last.end), shotStarts: current.map(\.start)))
            current = []
        }
        for shot in shots {
            let currentLength = (current.last?.end ?? shot.start) - (current.first?.start ?? shot.start)
            if !current.isEmpty && (currentLength >= minChunkFrames || currentLength + shot.count > maxChunkFrames) {
                flush()
            }
            current.append(shot)
        }
        // A short tail joins the previous chunk when that stays within bounds.
        if let first = current.first, let last = current.last, last.end - first.start < minChunkFrames,
           let prev = chunks.last, last.end - prev.range.start <= maxChunkFrames {
            chunks.removeLast()
            chunks.append(Chunk(id: prev.id, range: FrameRange(prev.range.start, last.end),
                                shotStarts: prev.shotStarts + current.map(\.start)))
            current = []
        }
        flush()
        return chunks
    }

    /// Order in which workers should take chunks: blocks of `joinWindow` chunks in plan order, the most expensive
    /// first within each block (without `costs`, the longest first). The join appends chunks in plan order as they
    /// are published, so what is left for it after the last chunk is at most about one block and the chunks still
    /// being encoded, whatever the length of the job; within the last block the short chunks still finish last, so
    /// cores do not idle at the end. (Most expensive first over the whole plan left chunk 0 for the end, and with
    /// it the whole join.)
    public static func workOrder(_ chunks: [Chunk], costs: [Double]? = nil) -> [Chunk] {
        let costed = costs.map { c in c.count == chunks.count && chunks.allSatisfy({ $0.id >= 0 && $0.id < c.count }) } ?? false
        func first(_ a: Chunk, _ b: Chunk) -> Bool {
            guard costed, let costs else { return (a.range.count, -a.id) > (b.range.count, -b.id) }
            return (costs[a.id], a.range.count, -a.id) > (costs[b.id], b.range.count, -b.id)
        }
        return stride(from: 0, to: chunks.count, by: joinWindow).flatMap { chunks[$0..<min($0 + joinWindow, chunks.count)].sorted(by: first) }
    }

    /// Chunks per block of `workOrder`.
    public static let joinWindow = 8

    /// Relative encode cost of each chunk (indexed by chunk id), from the size of the source packets its frames
    /// come from: a frame costs a fixed part plus a part that grows with its packet, the fixed part taken as half
    /// the source's mean packet size (fitted on SVT-AV1's seconds per frame across shots: bench/README.md,
    /// "Measurements behind the code"). Frame count alone orders a short busy chunk behind long calm ones that
    /// take a third of its time. Nil without packet sizes for every frame.
    public static func estimatedCosts(_ chunks: [Chunk], packetSizes: [Int32]?) -> [Double]? {
        guard let sizes = packetSizes, !sizes.isEmpty,
              chunks.allSatisfy({ $0.range.start >= 0 && $0.range.end <= sizes.count }) else { return nil }
        var prefix = [Double](repeating: 0, count: sizes.count + 1)
        for (i, s) in sizes.enumerated() { prefix[i + 1] = prefix[i] + Double(max(0, s)) }
        let fixed = 0.5 * prefix[sizes.count] / Double(sizes.count)
        return chunks.map { c in prefix[c.range.end] - prefix[c.range.start] + fixed * Double(c.range.count) }
    }
}
