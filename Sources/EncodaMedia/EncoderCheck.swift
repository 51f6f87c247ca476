import EncodaCodecs
import EncodaModel

/// The plan step's check of the encoder settings: the encoder is opened once with everything a chunk's encoder
/// gets (preset, crf, pixel format, lossless, --encoder-params) and closed again, so that a bad parameter fails
/// before the scene pass, with one line that names it, and not in every chunk's attempts.
public enum EncoderCheck {
    /// INPUT's picture is probed without decoding; explicit --crop and --scale apply, --autocrop cannot be known
    /// yet. An INPUT that cannot be probed or encoded is not reported here (the plan says why, as before): the
    /// check then uses a 64x64 picture.
    /// `settings` makes the settings for the source's pixel format (yuv420p when INPUT cannot be probed); what it
    /// throws for INPUT's pixel format (e.g. `--lossless` of 12-bit video) stops the run here, before the scene pass.
    public static func run(input: String, settings: (_ source: PixelLayout) throws -> EncodeSettings) throws {
        LibavLogging.configure()
        var video = VideoFacts(width: 64, height: 64, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 25),
                               frameRate: Rational(25, 1), sampleAspectRatio: Rational(1, 1), colorPrimaries: 2,
                               colorTransfer: 2, colorMatrix: 2, colorRange: 0, chromaLocation: 0, codecName: "none",
                               streamIndex: 0)
        var s = try settings(video.pixelLayout)
        if let (demuxer, facts) = try? InputProbe.open(input), (try? InputProbe.checkEncodable(facts, encoder: s.encoder)) != nil {
            _ = demuxer
            video = facts
            s = try settings(facts.pixelLayout)
        }
        var picture = try? OutputPicture.make(source: video, settings: s)
        if picture == nil {
            s.crop = nil; s.scaleHeight = nil
            picture = try OutputPicture.make(source: video, settings: s)
        }
        let colour = ColourConversion(source: video, picture: picture!, target: s.pixelFormat)
        let encoder = try EncoderFactory.make(EncoderConfiguration(settings: s, video: colour.encoded, width: picture!.width,
                                                                   height: picture!.height, threads: 1,
                                                                   bitRate: s.bitRate, filmGrain: s.filmGrain ?? (s.autoGrain == true ? 10 : 0)),
                                              diagnose: true)
        _ = encoder
    }
}
