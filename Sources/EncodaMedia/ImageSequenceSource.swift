import EncodaFFmpeg
import EncodaModel
import Foundation

/// Opens an image sequence (see `ImageSequence`) with libavformat's image2 demuxer: one packet per image, image
/// `first + n` is frame n with timestamp n in a time base of 1/rate, so frames are positioned by number (image2
/// seeks by frame index).
public enum ImageSequenceSource {
    /// The rate used when neither --input-fps nor the images say one.
    public static let defaultFrameRate = Rational(24, 1)

    /// Where a sequence's frame rate came from, for the note in a normal run.
    public enum RateSource: Sendable { case option, header, standard }

    /// The rate to play `seq` at: `requested` (--input-fps) when given, else the rate the first image's header
    /// carries (DPX can, in its film and television headers; libav's DPX decoder reads it), else 24.
    public static func frameRate(_ seq: ImageSequence, requested: Rational?) -> (rate: Rational, source: RateSource) {
        if let requested { return (requested, .option) }
        if let r = headerFrameRate(seq) { return (r, .header) }
        return (defaultFrameRate, .standard)
    }

    /// The frame rate the first image's decoder reports after decoding it, or nil (PNG and TIFF carry none).
    static func headerFrameRate(_ seq: ImageSequence) -> Rational? {
        LibavLogging.configure()
        guard let demuxer = try? Demuxer.input(seq.files[0], format: "image2", options: [("pattern_type", "none")]), let vi = demuxer.videoStreamIndex(),
              let reader = try? FrameReader(demuxer: demuxer, streamIndex: vi, threads: 1, frameStep: 1),
              (try? reader.next()) == true else { return nil }
        let r = reader.decoder.frameRate
        guard r.num > 0, r.den > 0, Double(r.num) / Double(r.den) <= 1000 else { return nil }
        return Rational(r.num, r.den)
    }

    /// The image2 demuxer on `seq`, starting at its first number, at `rate`.
    static func open(_ seq: ImageSequence, rate: Rational) throws -> Demuxer {
        try Demuxer.input(seq.pattern, format: "image2", options: [
            ("pattern_type", "sequence"), ("start_number", String(seq.first)), ("framerate", "\(rate.num)/\(rate.den)"),
        ])
    }

    /// One line for a normal run: "image sequence: 240 frames from frame_0001.png to frame_0240.png at 24 fps (--input-fps to change)".
    public static func note(_ seq: ImageSequence, rate: Rational, source: RateSource) -> String {
        let from: String
        switch source {
        case .option: from = "from --input-fps"
        case .header: from = "from the \(seq.name.fileExtension.uppercased()) header; --input-fps to change"
        case .standard: from = "--input-fps to change"
        }
        return "image sequence: \(seq.summary) at \(FrameRateText.format(rate)) fps (\(from))"
    }
}
