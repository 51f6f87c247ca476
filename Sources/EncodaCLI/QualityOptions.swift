import ArgumentParser
import EncodaMedia
import EncodaModel
import EncodaPipeline
import Foundation

/// `--target-quality` and its search settings.
struct QualityOptions: ParsableArguments {
    @Option(name: .long, help: "Search each chunk's CRF for this pooled score of --metric (e.g. 93 for vmaf, 80 for ssimulacra2), instead of one --crf for all.")
    var targetQuality: Double?
    @Option(name: .long, help: "The metric of --target-quality: ssimulacra2 (default; computed in-process, needs nothing else) or vmaf (needs an ffmpeg with libvmaf).")
    var metric: QualityMetric?
    @Option(name: .long, help: "At most this many probe encodes per chunk (default 4).")
    var probes: Int?
    @Option(name: .long, help: "CRFs the search may choose, LO:HI (default 10:55 for av1, 10:46 for h264).")
    var crfRange: String?
    @Option(name: .long, help: "Score every k-th frame of a probe (default 1: all). Probes still encode every frame, so the chosen probe is the chunk's encode.")
    var probeRate: Int?
    @Option(name: .long, help: "Encode the probes at this faster preset (x264 name, or SVT-AV1 number no lower than --preset); each chunk is then encoded and scored once more at --preset, at the CRF the probes chose less the CRF shift between the presets measured on the chunks before it.")
    var probePreset: String?
    @Option(name: .long, help: "How a chunk's frame scores become its score: mean (default), p5 (5th percentile) or harmonic.")
    var pool: ScorePooling?
    @Option(name: .customLong("vmaf-ffmpeg"), help: "An ffmpeg built with libvmaf, for --metric vmaf (default: the first such ffmpeg on PATH).")
    var vmafFFmpeg: String?

    /// The environment variable that hands the coordinator's --vmaf-ffmpeg to the local workers it starts.
    static let vmafEnvironment = VmafEnvironment.name

    /// Pure apart from locating the VMAF ffmpeg: the target these options ask for, or nil without
    /// --target-quality. Every usage error comes from here, before any work.
    func target(encoder: EncoderKind, preset: String, crf: Double?, lossless: Bool) throws -> QualityTarget? {
        guard let targetQuality else {
            let given = [(metric != nil, "--metric"), (probes != nil, "--probes"), (crfRange != nil, "--crf-range"),
                         (probeRate != nil, "--probe-rate"), (pool != nil, "--pool"), (probePreset != nil, "--probe-preset"), (vmafFFmpeg != nil, "--vmaf-ffmpeg")].filter(\.0).map(\.1)
            if let first = given.first { throw EncodaError(.usage, "\(first) applies to --target-quality; add --target-quality N") }
            return nil
        }
        if crf != nil { throw EncodaError(.usage, "--crf and --target-quality exclude each other: the CRF of each chunk is searched for; give --crf-range LO:HI to bound it") }
        var range = QualityTarget.defaultCRFRange(for: encoder)
        if let text = crfRange {
            guard let (lo, hi) = QualityTarget.parseCRFRange(text) else {
                throw EncodaError(.usage, "--crf-range \(text) is not LO:HI; write two whole numbers, e.g. --crf-range 20:45")
            }
            let allowed = QualityTarget.encoderCRFRange(for: encoder)
            guard lo < hi, allowed.contains(lo), allowed.contains(hi) else {
                throw EncodaError(.usage, "--crf-range \(text) is not a range \(encoder.rawValue) accepts; give LO:HI with \(allowed.lowerBound) ≤ LO < HI ≤ \(allowed.upperBound)")
            }
            range = lo...hi
        }
        var t = QualityTarget(target: targetQuality, metric: metric ?? .ssimulacra2, probes: probes ?? 4, crfLow: range.lowerBound,
                              crfHigh: range.upperBound, probeRate: probeRate ?? 1, pool: pool ?? .mean,
                              probePreset: probePreset)
        if lossless { throw EncodaError(.usage, "--lossless and --target-quality exclude each other: lossless has no quality to aim for") }
        try t.validate(encoder: encoder, preset: preset)
        // At the job's own preset the probes are final encodes already: nothing to correct, nothing to encode again.
        if let p = probePreset, p == preset || (Int(p) != nil && Int(p) == Int(preset)) { t.probePreset = nil }
        if t.metric == .vmaf { _ = try VmafFFmpeg.locate(explicit: vmafFFmpeg) }
        return t
    }

    /// Hands --vmaf-ffmpeg on to the worker processes this one starts (they inherit the environment).
    func exportVmafFFmpeg() {
        if let vmafFFmpeg { setenv(Self.vmafEnvironment, vmafFFmpeg, 1) }
    }
}
