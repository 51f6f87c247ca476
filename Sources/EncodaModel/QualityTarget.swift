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
    /// `--probe-preset`: probes encode at this faster preset, and the chunk is encoded once more at the job's
    /// preset, at the CRF they chose less the CRF shift measured on the chunks before it (`PresetCorrection`), and
    /// scored. nil (also in job.json files written before it existed): probes use the job's preset and the chosen
    /// probe is the chunk.
    public var probePreset: String? = nil

    public init(target: Double, metric: QualityMetric, probes: Int = 4, crfLow: Int, crfHigh: Int, probeRate: Int = 1,
                pool: ScorePooling = .mean, probePreset: String? = nil) {
        self.target = target; self.metric = metric; self.probes = probes; self.crfLow = crfLow; self.crfHigh = crfHigh
        self.probeRate = probeRate; self.pool = pool; self.probePreset = probePreset
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

    /// Checks the request against the metric, the encoder and its preset (the job's, which `probePreset` must not
    /// be slower than); throws a usage error naming the fix.
    public func validate(encoder: EncoderKind, preset: String) throws {
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
        if let probePreset { try Self.validateProbePreset(probePreset, encoder: encoder, preset: preset) }
    }

    /// A probe preset must be one of the encoder's and no slower than the job's `preset`.
    static func validateProbePreset(_ probe: String, encoder: EncoderKind, preset: String) throws {
        switch encoder {
        case .av1:
            guard let p = Int(probe), (-1...13).contains(p) else {
                throw EncodaError(.usage, "--probe-preset \(probe) is not an SVT-AV1 preset; use a number from 0 (slowest) to 13 (fastest), no lower than --preset \(preset)")
            }
            if let final = Int(preset), p < final {
                throw EncodaError(.usage, "--probe-preset \(probe) is slower than --preset \(preset); probes need a preset at least as fast, \(final)…13 for SVT-AV1")
            }
        case .h264:
            let names = EncodeSettings.x264Presets
            guard let p = names.firstIndex(of: probe) else {
                throw EncodaError(.usage, "--probe-preset \(probe) is not an x264 preset; use one of \(names.joined(separator: ", "))")
            }
            if let final = names.firstIndex(of: preset), p > final {
                throw EncodaError(.usage, "--probe-preset \(probe) is slower than --preset \(preset); probes need a preset at least as fast: \(names[...final].joined(separator: ", "))")
            }
        }
    }

    public static func describe(_ v: Double) -> String { text(v) }
    static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v) }
}
