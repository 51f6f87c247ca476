/// `--probe-preset`: the encode of a chunk at the job's preset after a search on faster probes, recorded in
/// TMP/probes/NNNNN-final.json the moment it is scored. It is the chunk's measured score, and it measures how far
/// the probes' scores are from the final encodes' (`correction`), which the searches of later chunks add.
/// Published exclusively: the first record of a chunk stands, so a killed worker's final encode is not redone.
public struct FinalEncodeRecord: Codable, Sendable {
    public static let formatVersion = 1
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    public var crf: Int
    /// The chunk's pooled score at `crf`, encoded at the job's preset.
    public var score: Double
    /// The probe's pooled score at `crf`, encoded at the probe preset, on the same frames.
    public var probeScore: Double
    /// The correction the chunk's search added to its probes' scores (the mean of earlier chunks').
    public var correctionUsed: Double
    /// How the search's choice related to the target on the corrected probe scores (the chunk's outcome is judged
    /// on `score`: `PresetCorrection.outcome`).
    public var outcome: CRFSearch.Outcome
    public var framesScored: Int
    /// The encoded chunk, a plain name in TMP/probes (gone once it became the chunk file).
    public var file: String
    public var bytes: Int64
    public var crc32: UInt32
    /// Seconds the encode and its scoring took.
    public var seconds: Double

    public init(jobID: String, chunk: Int, crf: Int, score: Double, probeScore: Double, correctionUsed: Double,
                outcome: CRFSearch.Outcome, framesScored: Int, file: String, bytes: Int64, crc32: UInt32, seconds: Double) {
        self.formatVersion = Self.formatVersion
        self.jobID = jobID; self.chunk = chunk; self.crf = crf; self.score = score; self.probeScore = probeScore
        self.correctionUsed = correctionUsed; self.outcome = outcome; self.framesScored = framesScored; self.file = file; self.bytes = bytes
        self.crc32 = crc32; self.seconds = seconds
    }

    /// Final score minus probe score at the same CRF: what the probe preset costs in score on this chunk.
    public var correction: Double { score - probeScore }

    /// The record's name for chunk `id`: NNNNN-final.json.
    public static func name(chunk id: Int) -> String { "\(Chunk.name(id))-final.json" }
    /// The final encode's file: NNNNN-final-TOKEN.chunk.
    public static func fileName(chunk id: Int, token: String) -> String { "\(Chunk.name(id))-final-\(token).chunk" }
}

/// What a chunk's search adds to its probes' scores under `--probe-preset`: the mean measured correction of the
/// chunks finished so far (0 before any), so that the search aims the probes at the score the final preset will
/// reach. Pure.
public enum PresetCorrection {
    public static func mean(of records: [FinalEncodeRecord]) -> Double {
        let values = records.map(\.correction).filter(\.isFinite)
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// How the final encode relates to the target, given the search's `outcome` on the corrected probe scores: a
    /// range's end chosen because the probes said the target lay beyond it is that end's outcome only if the final
    /// encode agrees (below the target at the best end, above it at the worst); otherwise the target is met there.
    public static func outcome(search: CRFSearch.Outcome, finalScore: Double, target: Double) -> CRFSearch.Outcome {
        switch search {
        case .reached: return .reached
        case .unreachable: return finalScore < target ? .unreachable : .reached
        case .exceeded: return finalScore > target ? .exceeded : .reached
        }
    }

    /// A final encode that misses the target by more than this is named in the summary (it is not encoded again:
    /// the work per chunk stays bounded). The search's own tolerance.
    public static let tolerance = 1.0
}
