/// `--target-quality`: what each chunk's CRF search aims for. Part of `EncodeSettings`, so a job made with another
/// target is another job; the path of the VMAF ffmpeg is not (each machine finds its own).
public struct QualityTarget: Codable, Sendable, Hashable {
    /// The pooled score each chunk should reach (`metric`'s scale).
    public var target: Double
    public var metric: QualityMetric
    /// At most this many encodes inside `crfRange` per chunk.
    public var probes: Int
    /// The CRFs the search may choose, both ends included; `crfRange.lowerBound` is the best quality.
    public var crfLow: Int
    public var crfHigh: Int
    /// Every k-th frame of a chunk is scored (1: all). Probes encode every frame: the encoder needs the frames in
    /// between for its motion search and rate decisions, and a probe that is the chunk's real encode can be kept.
    public var probeRate: Int
    public var pool: ScorePooling

    public init(target: Double, metric: QualityMetric, probes: Int = 4, crfLow: Int, crfHigh: Int, probeRate: Int = 1,
                pool: ScorePooling = .mean) {
        self.target = target; self.metric = metric; self.probes = probes; self.crfLow = crfLow; self.crfHigh = crfHigh
        self.probeRate = probeRate; self.pool = pool
    }

    public var crfRange: ClosedRange<Int> { crfLow...crfHigh }

    /// The default search range: wide enough for any sensible target, narrow enough that four probes find it.
    /// SVT-AV1's 10…55 and x264's 10…46 are the ranges ab-av1's crf-search uses (beyond them the encoders only
    /// waste bits or produce mush).
    public static func defaultCRFRange(for encoder: EncoderKind) -> ClosedRange<Int> { encoder == .av1 ? 10...55 : 10...46 }

    /// The CRFs the encoder accepts.
    public static func encoderCRFRange(for encoder: EncoderKind) -> ClosedRange<Int> { encoder == .av1 ? 1...63 : 0...51 }

    /// Parses `--crf-range LO:HI`; nil when the text is not two whole numbers.
    public static func parseCRFRange(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]) else { return nil }
        return (lo, hi)
    }

    /// Checks the request against the metric and the encoder; throws a usage error naming the fix.
    public func validate(encoder: EncoderKind) throws {
        let r = metric.targetRange
        guard target.isFinite, r.contains(target) else {
            throw EncodaError(.usage, "--target-quality \(Self.text(target)) is outside \(metric.rawValue)'s scale; give a score from \(Self.text(r.lowerBound)) to \(Self.text(r.upperBound)), e.g. 93 for vmaf or 80 for ssimulacra2")
        }
        let allowed = Self.encoderCRFRange(for: encoder)
        guard crfLow < crfHigh, allowed.contains(crfLow), allowed.contains(crfHigh) else {
            throw EncodaError(.usage, "--crf-range \(crfLow):\(crfHigh) is not a range \(encoder.rawValue) accepts; give LO:HI with \(allowed.lowerBound) ≤ LO < HI ≤ \(allowed.upperBound)")
        }
        guard (1...16).contains(probes) else { throw EncodaError(.usage, "--probes \(probes) is out of range; give 1…16 encodes per chunk") }
        guard (1...1000).contains(probeRate) else { throw EncodaError(.usage, "--probe-rate \(probeRate) is out of range; give 1 (every frame) … 1000") }
    }

    public static func describe(_ v: Double) -> String { text(v) }
    static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v) }
}
