import Foundation

/// A full-reference quality metric: a distorted picture scored against its source.
public enum QualityMetric: String, Codable, Sendable, CaseIterable {
    /// Netflix's VMAF (0…100), computed by an ffmpeg built with libvmaf.
    case vmaf
    /// SSIMULACRA 2 (about -inf…100, 90 and above visually lossless), computed in-process.
    case ssimulacra2

    /// The scores a target may ask for; a target outside it is a usage error.
    public var targetRange: ClosedRange<Double> { self == .vmaf ? 0...100 : 0...100 }
}

/// How a chunk's (or a file's) per-frame scores become one number.
public enum ScorePooling: String, Codable, Sendable, CaseIterable {
    /// The arithmetic mean.
    case mean
    /// The 5th percentile: the score 95 % of the frames reach or beat (nearest rank).
    case p5
    /// The harmonic mean of (score + 1), minus 1, as libvmaf's harmonic pooling does; it weighs bad frames heavily
    /// and stays defined for scores of 0. Scores below 0 (SSIMULACRA 2 can go negative) count as 0.
    case harmonic

    /// Pure. nil for no scores.
    public func pool(_ scores: [Double]) -> Double? {
        guard !scores.isEmpty else { return nil }
        switch self {
        case .mean:
            return scores.reduce(0, +) / Double(scores.count)
        case .p5:
            let sorted = scores.sorted()
            let rank = Int((0.05 * Double(sorted.count)).rounded(.up))
            return sorted[max(0, rank - 1)]
        case .harmonic:
            let sum = scores.reduce(0.0) { $0 + 1 / (max($1, 0) + 1) }
            return Double(scores.count) / sum - 1
        }
    }
}
