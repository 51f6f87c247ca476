/// Rate control and film grain: what `--bitrate`, `--two-pass`, `--max-bitrate`, `--bufsize`, `--film-grain` and
/// `--auto-grain` ask for, and the checks that refuse a combination before any work.
public enum BitRateText {
    /// Bits per second from `2500000`, `2500k` or `2.5M` (k and M are 1000 and 1 000 000; either case); nil for
    /// anything else, zero, or a rate outside 10 kb/s … 2 Gb/s (what both encoders take).
    public static func parse(_ text: String) -> Int? {
        var t = Substring(text)
        var factor = 1.0
        if let last = t.last?.lowercased() {
            if last == "k" { factor = 1e3; t = t.dropLast() } else if last == "m" { factor = 1e6; t = t.dropLast() }
        }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let v = Double(t), v.isFinite, v > 0 else { return nil }
        let bits = (v * factor).rounded()
        guard bits >= 10_000, bits <= 2_000_000_000 else { return nil }
        return Int(bits)
    }

    /// 2500000 → "2500k", 2500500 → "2500.5k": for messages and the plan.
    public static func format(_ bitsPerSecond: Int) -> String {
        bitsPerSecond % 1000 == 0 ? "\(bitsPerSecond / 1000)k" : "\(Double(bitsPerSecond) / 1000)k"
    }
}

extension EncodeSettings {
    /// The highest `--film-grain` level: SVT-AV1's film_grain_denoise_strength runs 0…50.
    public static let maxFilmGrain = 50

    /// Checks the rate-control and grain settings against each other and the encoder (part of `validate`).
    func validateRateControl() throws {
        if let rate = bitRate {
            guard (10_000...2_000_000_000).contains(rate) else {
                throw EncodaError(.usage, "--bitrate \(rate) is out of range; give 10k to 2000M, e.g. --bitrate 2500k")
            }
            if lossless { throw EncodaError(.usage, "--bitrate and --lossless exclude each other; lossless has no bit rate to aim at") }
        }
        if twoPass == true {
            guard bitRate != nil else { throw EncodaError(.usage, "--two-pass needs --bitrate; a constant-quality (--crf) encode has no second pass") }
        }
        if maxBitRate != nil || bufferSize != nil {
            guard encoder == .h264 else {
                throw EncodaError(.usage, "--max-bitrate and --bufsize are x264's VBV; SVT-AV1 1.4.1 has no VBV for its VBR mode, so use --bitrate alone for av1")
            }
            guard !lossless else { throw EncodaError(.usage, "--max-bitrate and --bufsize do not apply to --lossless") }
            guard let maxRate = maxBitRate, let buffer = bufferSize else {
                throw EncodaError(.usage, maxBitRate != nil
                    ? "--max-bitrate needs --bufsize (x264 ignores a VBV maximum without a buffer size), e.g. --bufsize twice the maximum"
                    : "--bufsize needs --max-bitrate (x264 ignores a VBV buffer without a maximum rate)")
            }
            guard (10_000...2_000_000_000).contains(maxRate), (10_000...2_000_000_000).contains(buffer) else {
                throw EncodaError(.usage, "--max-bitrate and --bufsize must be 10k to 2000M")
            }
            if let rate = bitRate, maxRate < rate {
                throw EncodaError(.usage, "--max-bitrate \(BitRateText.format(maxRate)) is below --bitrate \(BitRateText.format(rate)); the maximum must be at least the average")
            }
        }
        if let grain = filmGrain {
            guard encoder == .av1 else { throw EncodaError(.usage, "--film-grain needs --encoder av1; x264 has no film grain synthesis") }
            guard (0...Self.maxFilmGrain).contains(grain) else {
                throw EncodaError(.usage, "--film-grain \(grain) is out of range; use 0 (off) to \(Self.maxFilmGrain)")
            }
        }
        if autoGrain == true {
            guard encoder == .av1 else { throw EncodaError(.usage, "--auto-grain needs --encoder av1; x264 has no film grain synthesis") }
            if filmGrain != nil { throw EncodaError(.usage, "--auto-grain chooses the level per shot; give it or --film-grain N, not both") }
        }
    }

    /// The film grain level a chunk is encoded with: its own (`--auto-grain`, decided in the plan), else
    /// `--film-grain`; 0 is off.
    public func filmGrain(for chunk: Chunk?) -> Int {
        chunk?.filmGrain ?? filmGrain ?? 0
    }

    /// The bit rate (bits/s at the job's frame rate) a chunk is encoded at: its share decided in the plan, else
    /// `--bitrate`; nil for constant quality.
    public func bitRate(for chunk: Chunk?) -> Int? {
        guard let rate = bitRate else { return nil }
        return chunk?.bitRate ?? rate
    }
}
