import EncodaModel

/// What the user should know about the rate control of a plan.
enum RateNotes {
    /// What the user should know about the rate control of this plan, one line each: how --bitrate was shared
    /// and what --two-pass costs.
    static func lines(settings: EncodeSettings, chunks: [Chunk]) -> [String] {
        var lines: [String] = []
        if let target = settings.bitRate {
            let rates = chunks.compactMap(\.bitRate)
            if let lo = rates.min(), let hi = rates.max(), chunks.count > 1 {
                lines.append("--bitrate \(BitRateText.format(target)) shared between \(chunks.count) chunks by their complexity: \(BitRateText.format(lo / 1000 * 1000)) to \(BitRateText.format(hi / 1000 * 1000))")
            }
            if settings.twoPass == true {
                lines.append(settings.encoder == .h264
                    ? "--two-pass: every chunk is encoded twice (x264's fast first pass, then the real one), about 1.3–1.5 times the encode time"
                    : "--two-pass: every chunk is encoded in SVT-AV1's three passes (first, middle, last), and its last pass again (at most four times) while it misses its share by more than 4 %: about 1.5–2 times the encode time")
            }
        }
        if let maxRate = settings.maxBitRate, settings.bufferSize != nil {
            lines.append("--max-bitrate \(BitRateText.format(maxRate)) and --bufsize: each chunk is encoded as if the decoder's buffer were 10 % full at its start, since a chunk cannot know where the one before left it; on content that drains the buffer a strict VBV check can still fail for a few frames after a chunk boundary (for a strict HRD delivery, encode in one chunk)")
        }
        return lines
    }
}
