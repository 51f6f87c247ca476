import ArgumentParser
import EncodaModel

/// `--bitrate`, `--two-pass`, `--max-bitrate`, `--bufsize`, `--film-grain`, `--auto-grain`.
struct RateOptions: ParsableArguments {
    @Option(name: .long, help: "Average bit rate instead of constant quality, e.g. 2500k, 2.5M or 2500000: SVT-AV1 VBR or x264 ABR, shared between chunks by their complexity.")
    var bitrate: String?
    @Flag(name: .long, help: "With --bitrate: encode each chunk in passes that land it on its share of the rate (x264: a fast first pass, about 1.3–1.5 times the encode time; SVT-AV1: its first, middle and last pass, and the last again for a chunk more than 4 % off, about 1.5–2 times).")
    var twoPass = false
    @Option(name: .long, help: "x264 VBV maximum rate, e.g. 4M (needs --bufsize).")
    var maxBitrate: String?
    @Option(name: .long, help: "x264 VBV buffer size in bits, e.g. 8M (needs --max-bitrate).")
    var bufsize: String?
    @Option(name: .long, help: "SVT-AV1 film grain synthesis at this level, 1–50 (the input is denoised at that strength and the grain described in the stream; 0 = off).")
    var filmGrain: Int?
    @Flag(name: .long, help: "SVT-AV1 film grain synthesis at a level measured for each chunk (the noise on its flat areas).")
    var autoGrain = false

    /// Pure: `settings` with these options in; a usage error for a value that is no bit rate or a combination
    /// that cannot be (`crfGiven`: --crf was on the command line).
    func apply(to settings: EncodeSettings, crfGiven: Bool) throws -> EncodeSettings {
        var s = settings
        func rate(_ text: String?, _ option: String) throws -> Int? {
            guard let text else { return nil }
            guard let r = BitRateText.parse(text) else {
                throw EncodaError(.usage, "\(option) \(text) is not a bit rate; write e.g. 2500k, 2.5M or 2500000 (10k to 2000M)")
            }
            return r
        }
        s.bitRate = try rate(bitrate, "--bitrate")
        s.maxBitRate = try rate(maxBitrate, "--max-bitrate")
        s.bufferSize = try rate(bufsize, "--bufsize")
        if s.bitRate != nil && crfGiven { throw EncodaError(.usage, "--bitrate and --crf exclude each other; give a bit rate or a quality") }
        s.twoPass = twoPass ? true : nil
        s.filmGrain = filmGrain
        s.autoGrain = autoGrain ? true : nil
        if twoPass && s.bitRate == nil { throw EncodaError(.usage, "--two-pass needs --bitrate; a constant-quality (--crf) encode has no second pass") }
        try s.validate()
        return s
    }
}

extension EncodeCommand {
    /// The encode settings the encoder, rate and grain options ask for, given the source's pixel format.
    func encodeSettings(source: PixelLayout) throws -> EncodeSettings {
        try rateOptions.apply(to: try encoderOptions.settings(source: source), crfGiven: encoderOptions.crf != nil)
    }
}
