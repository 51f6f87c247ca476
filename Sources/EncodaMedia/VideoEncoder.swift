import EncodaModel

/// One compressed frame as an encoder returned it. `pts`/`dts` count frames from the chunk's first frame
/// (dts may be negative for reordered streams).
struct EncodedPacket {
    var data: UnsafeRawBufferPointer
    var pts: Int64
    var dts: Int64
    var isKey: Bool
}

/// The three planes of one picture in the encoder's pixel format (`EncodeSettings.pixelFormat`), borrowed for the
/// duration of a call.
struct PictureRef {
    var planes: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    /// Line sizes in bytes.
    var strides: (Int, Int, Int)
    var width: Int
    var height: Int
    /// In an interlaced stream whose frames carry the flags: this frame is flagged progressive.
    var progressiveFrame = false
}

/// What a chunk encode needs from an encoder library.
protocol VideoEncoder: AnyObject {
    /// Codec configuration for containers (AV1 sequence header OBU / H.264 SPS+PPS in Annex B).
    var extradata: [UInt8] { get }
    /// Encodes one picture. `forceKeyframe` makes it a keyframe (a shot start inside the chunk).
    /// Calls `output` for every packet that became ready.
    func encode(_ picture: PictureRef, pts: Int64, forceKeyframe: Bool, output: (EncodedPacket) throws -> Void) throws
    /// Drains every delayed packet.
    func finish(output: (EncodedPacket) throws -> Void) throws
    /// After `finish` of a first pass that keeps its stats in memory (SVT-AV1): the stats; nil otherwise.
    var firstPassStats: [UInt8]? { get }
}

extension VideoEncoder {
    var firstPassStats: [UInt8]? { nil }
}

/// Everything an encoder is configured from.
struct EncoderConfiguration {
    var settings: EncodeSettings
    var video: VideoFacts
    var width: Int
    var height: Int
    var threads: Int
    /// The chunk's rate control and grain, as the plan decided them (`EncodeSettings.bitRate(for:)`,
    /// `filmGrain(for:)`); the plan step's check uses the job's own.
    var bitRate: Int? = nil
    var filmGrain: Int = 0
    /// --two-pass; 0 is a single pass. x264: 1 writes the stats to `statsPath`, 2 reads them. SVT-AV1: 1 (first),
    /// 2 (middle), 3 (last, the encode), each pass's stats kept in memory (`firstPassStats`) and given to the next
    /// as `svtStats`.
    var pass: Int = 0
    var statsPath: String? = nil
    var svtStats: [UInt8]? = nil
    /// The chunk's length in frames (nil for the plan step's check): under VBR, SVT-AV1 plans its keyframe group
    /// for it.
    var frames: Int? = nil
}

enum EncoderFactory {
    /// `diagnose`: see `EncoderCheck`.
    static func make(_ config: EncoderConfiguration, diagnose: Bool = false) throws -> VideoEncoder {
        switch config.settings.encoder {
        case .av1: return try SvtAv1Encoder(config, diagnose: diagnose)
        case .h264: return try X264Encoder(config, diagnose: diagnose)
        }
    }
}

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
        LibavLogging.quiet()
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
