/// `--probe-preset`: the encode of a chunk at the job's preset after a search on faster probes, recorded in
/// TMP/probes/NNNNN-final.json the moment it is scored. It is the chunk's measured score, and with the chunk's probes
/// it measures how far apart the two presets are (`shift`), which the chunks searched after it use.
/// Published exclusively: the first record of a chunk stands, so a killed worker's final encode is not redone.
public struct FinalEncodeRecord: Codable, Sendable {
    public static let formatVersion = 1
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    /// The CRF of the final encode: `probeCRF` less `shiftUsed`, inside the CRF range.
    public var crf: Int
    /// The chunk's pooled score at `crf`, encoded at the job's preset.
    public var score: Double
    /// The CRF the search chose on the probes, and that probe's pooled score (same frames, same pooling).
    public var probeCRF: Int
    public var probeScore: Double
    /// The chunk's probes, at the probe preset, when the final encode was made.
    public var probes: [ProbePoint]
    /// The CRF shift the chunk used: the mean of the shifts measured on the chunks finished before it, rounded; or,
    /// when the encode at that shift missed the target (`firstCRF`), the chunk's own shift measured on it.
    public var shiftUsed: Int
    /// The chunk's first final encode, when it missed the target and was replaced (`PresetCorrection.retry`).
    public var firstCRF: Int?
    public var firstScore: Double?
    /// The shift this chunk measured (`PresetCorrection.shift`); nil when its probes cannot say.
    public var shift: Double?
    /// How the search's choice related to the target on the probes (the chunk's outcome is judged on `score`:
    /// `PresetCorrection.outcome`).
    public var outcome: CRFSearch.Outcome
    public var framesScored: Int
    /// The encoded chunk, a plain name in TMP/probes (gone once it became the chunk file).
    public var file: String
    public var bytes: Int64
    public var crc32: UInt32
    /// Seconds the encode and its scoring took.
    public var seconds: Double

    public init(jobID: String, chunk: Int, crf: Int, score: Double, probeCRF: Int, probeScore: Double, probes: [ProbePoint],
                shiftUsed: Int, first: (crf: Int, score: Double)? = nil, outcome: CRFSearch.Outcome, framesScored: Int, file: String,
                bytes: Int64, crc32: UInt32, seconds: Double) {
        self.formatVersion = Self.formatVersion
        self.jobID = jobID; self.chunk = chunk; self.crf = crf; self.score = score; self.probeCRF = probeCRF
        self.probeScore = probeScore; self.probes = probes; self.shiftUsed = shiftUsed
        self.firstCRF = first?.crf; self.firstScore = first?.score
        self.shift = PresetCorrection.shift(probes: probes, crf: crf, score: score)
        self.outcome = outcome; self.framesScored = framesScored; self.file = file; self.bytes = bytes
        self.crc32 = crc32; self.seconds = seconds
    }

    /// The record's name for chunk `id`: NNNNN-final.json.
    public static func name(chunk id: Int) -> String { "\(Chunk.name(id))-final.json" }
    /// The final encode's file: NNNNN-final-TOKEN.chunk.
    public static func fileName(chunk id: Int, token: String) -> String { "\(Chunk.name(id))-final-\(token).chunk" }
}

/// How `--probe-preset`'s probes are corrected, measured on the chunks finished so far. Pure.
///
/// The correction is a CRF shift, not a score offset: a faster preset scores higher or lower than the final one at
/// the same CRF by an amount that grows steeply with the CRF (x264 ultrafast against medium on the test clip:
/// 2.4 SSIMULACRA 2 points at crf 10, 22 at crf 34), while the CRF at which the probe preset scores what the final
/// one does at crf c stays between c + 5 and c + 8 over the same span. A chunk's search runs on its probes as they are, and its
/// final encode is at the CRF chosen less the mean shift of the chunks before it (0 before any).
public enum PresetCorrection {
    /// Shifts beyond this say more about a curve that bends beyond the probes than about the presets.
    public static let maxShift = 20.0

    /// The CRF at which the chunk's probe curve (straight lines between its probes, extended from the two end
    /// probes) reaches `score`, less `crf`: how many CRF steps the probe preset is ahead of the final one. nil with
    /// fewer than two probes of different scores.
    public static func shift(probes: [ProbePoint], crf: Int, score: Double) -> Double? {
        var seen = Set<Int>()
        let pts = probes.filter { $0.score.isFinite && seen.insert($0.crf).inserted }.sorted { $0.crf < $1.crf }
        guard pts.count >= 2, score.isFinite else { return nil }
        let pairs = zip(pts, pts.dropFirst()).map { ($0, $1) }
        let pair = pairs.first { min($0.score, $1.score) <= score && score <= max($0.score, $1.score) && $0.score != $1.score }
            ?? (score > pts[0].score ? pairs[0] : pairs[pairs.count - 1])
        let (p, q) = pair
        guard p.score != q.score else { return nil }
        let at = Double(p.crf) + (score - p.score) / (q.score - p.score) * Double(q.crf - p.crf)
        return min(maxShift, max(-maxShift, at - Double(crf)))
    }

    /// The shift a chunk uses: the mean of those measured so far, rounded (0 before any).
    public static func meanShift(of records: [FinalEncodeRecord]) -> Int {
        let values = records.compactMap(\.shift).filter(\.isFinite)
        return values.isEmpty ? 0 : Int((values.reduce(0, +) / Double(values.count)).rounded())
    }

    /// The final encode's CRF for the probe CRF the search chose.
    public static func finalCRF(probeCRF: Int, shift: Int, range: ClosedRange<Int>) -> Int {
        min(range.upperBound, max(range.lowerBound, probeCRF - shift))
    }

    /// The second and last final encode of a chunk whose first (at `crf`, scoring `score`) missed the target by more
    /// than `tolerance`: at the CRF the probes chose less the chunk's own shift read off that encode, when that is a
    /// better CRF than `crf`. nil: keep the first.
    public static func retry(probes: [ProbePoint], probeCRF: Int, crf: Int, score: Double, target: Double,
                             range: ClosedRange<Int>) -> (crf: Int, shift: Int)? {
        guard score < target - tolerance, let own = shift(probes: probes, crf: crf, score: score) else { return nil }
        let s = Int(own.rounded())
        let next = finalCRF(probeCRF: probeCRF, shift: s, range: range)
        return next < crf ? (next, s) : nil
    }

    /// How the final encode relates to the target: below it at the range's best end is `unreachable`, above it at
    /// the worst end `exceeded`, anything else `reached` (a miss inside the range is `ChunkQuality.finalMissed`).
    public static func outcome(finalCRF: Int, finalScore: Double, target: Double, range: ClosedRange<Int>) -> CRFSearch.Outcome {
        if finalScore < target && finalCRF == range.lowerBound { return .unreachable }
        if finalScore > target && finalCRF == range.upperBound { return .exceeded }
        return .reached
    }

    /// A final encode that misses the target by more than this is made once more (`retry`), and named in the summary
    /// if it misses again (the work per chunk stays bounded). The search's own tolerance.
    public static let tolerance = 1.0
}
