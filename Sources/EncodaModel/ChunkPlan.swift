/// One unit of work: a contiguous frame range encoded into one chunk file under one lease. A chunk holds one
/// shot or several short ones; every shot start inside it becomes a keyframe.
public struct Chunk: Codable, Sendable, Hashable {
    public var id: Int
    public var range: FrameRange
    /// Frame numbers (absolute) where a shot starts inside this chunk; always includes `range.start`.
    public var shotStarts: [Int]

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

    /// Order in which workers should take chunks: longest first, so no core idles at the end.
    public static func workOrder(_ chunks: [Chunk]) -> [Chunk] {
        chunks.sorted { ($0.range.count, -$0.id) > ($1.range.count, -$1.id) }
    }
}
