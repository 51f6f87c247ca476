import Foundation

/// The correction of a chunk that misses its share of `--bitrate`: SVT-AV1 1.4.1's rate control overshoots chunks of
/// 1–2 s even in its multi-pass VBR (the test clip's chunks -11 % to +43 % off their shares), so with --two-pass a
/// chunk whose size misses its share by more than `tolerance` is encoded again (its last pass only) at a corrected
/// rate. Pure, and decided from the chunk's own encodes alone, so whichever worker claims a chunk needs nothing from
/// the others. (SVT-AV1 is not bit-exact across thread counts, so two workers may take different steps to a chunk
/// near its share; with the same threads the steps and the bytes are the same.)
public enum RateCorrection {
    /// A chunk within 4 % of its share is kept: the file then lands inside ±5 % with room for the container.
    public static let tolerance = 0.04
    /// At most four encodes after the first (five last passes in all): a chunk of fractal detail was still 8 % under
    /// its share after two (its file 6 % under), 3 % after four (its file 2 % under).
    public static let maxCorrections = 4
    /// A corrected rate stays within a quarter and four times the chunk's share.
    public static let maxStep = 4.0

    /// One encode of the chunk: the rate asked for (bits/s) and the bytes of video it gave.
    public struct Attempt: Equatable, Sendable {
        public var rate: Int
        public var bytes: Int
        public init(rate: Int, bytes: Int) { self.rate = rate; self.bytes = bytes }
    }

    /// The bytes a chunk's share is: `rate` bits/s over `frames` frames at `framesPerSecond`.
    public static func targetBytes(rate: Int, frames: Int, framesPerSecond: Double) -> Int {
        guard framesPerSecond > 0 else { return 0 }
        return Int((Double(rate) * Double(frames) / framesPerSecond / 8).rounded())
    }

    /// Whether `bytes` is within `tolerance` of `target`.
    public static func fits(_ bytes: Int, target: Int) -> Bool {
        guard target > 0 else { return true }
        return abs(Double(bytes - target)) <= tolerance * Double(target)
    }

    /// How much the bytes of a chunk follow its rate (log scale) before there are two encodes to measure it: SVT-AV1
    /// at presets 8 and 12 on the test clip's chunks, 0.85 to 1.9, mostly 1.1 to 1.3. Scaling the rate as if it were
    /// 1 left most corrected chunks 2–5 % under their shares.
    public static let typicalResponse = 1.2

    /// The attempt closest to `target`: the one to keep when the last is not (a correction can overshoot the
    /// other way by more than the attempt before it missed). The earliest of equally close ones.
    public static func closest(target: Int, attempts: [Attempt]) -> Attempt? {
        attempts.min { abs($0.bytes - target) < abs($1.bytes - target) }
    }

    /// The rate to encode the chunk at next, or nil to keep the last attempt (it fits, the corrections are spent,
    /// or no other rate is worth trying). `share` is the chunk's rate from the plan, `target` its bytes.
    /// After one attempt the rate is scaled by how far the bytes missed, at the typical response. After two, they
    /// give the encoder's response (bytes against rate on a log scale) and the next rate is where that line meets
    /// the target. A response too flat or the wrong way round falls back to the typical one.
    public static func nextRate(share: Int, target: Int, attempts: [Attempt]) -> Int? {
        guard let last = attempts.last, target > 0, last.bytes > 0, last.rate > 0 else { return nil }
        if fits(last.bytes, target: target) || attempts.count > maxCorrections { return nil }
        var exponent = 1 / typicalResponse
        if attempts.count >= 2 {
            let before = attempts[attempts.count - 2]
            if before.bytes > 0, before.rate > 0, before.rate != last.rate {
                let slope = log(Double(last.bytes) / Double(before.bytes)) / log(Double(last.rate) / Double(before.rate))
                if slope.isFinite, slope > 0.2 { exponent = 1 / slope }
            }
        }
        var rate = Double(last.rate) * pow(Double(target) / Double(last.bytes), exponent)
        rate = min(Double(share) * maxStep, max(Double(share) / maxStep, rate))
        let next = Int(rate.rounded())
        // The same rate again would give the same bytes.
        return attempts.contains { $0.rate == next } ? nil : next
    }
}
