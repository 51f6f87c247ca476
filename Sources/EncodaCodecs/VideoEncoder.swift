import EncodaModel

/// One compressed frame as an encoder returned it. `pts`/`dts` count frames from the chunk's first frame
/// (dts may be negative for reordered streams).
public struct EncodedPacket {
    public var data: UnsafeRawBufferPointer
    public var pts: Int64
    public var dts: Int64
    public var isKey: Bool

    public init(data: UnsafeRawBufferPointer, pts: Int64, dts: Int64, isKey: Bool) {
        self.data = data
        self.pts = pts
        self.dts = dts
        self.isKey = isKey
    }
}

/// The three planes of one picture in the encoder's pixel format (`EncodeSettings.pixelFormat`), borrowed for the
/// duration of a call.
public struct PictureRef {
    public var planes: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    /// Line sizes in bytes.
    public var strides: (Int, Int, Int)
    public var width: Int
    public var height: Int
    /// In an interlaced stream whose frames carry the flags: this frame is flagged progressive.
    public var progressiveFrame = false

    public init(planes: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>),
                strides: (Int, Int, Int), width: Int, height: Int, progressiveFrame: Bool = false) {
        self.planes = planes
        self.strides = strides
        self.width = width
        self.height = height
        self.progressiveFrame = progressiveFrame
    }
}

/// What a chunk encode needs from an encoder library. Errors thrown are `EncodaError`s (see `CodecError`).
public protocol VideoEncoder: AnyObject {
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
    public var firstPassStats: [UInt8]? { nil }
}

/// Everything an encoder is configured from.
public struct EncoderConfiguration {
    public var settings: EncodeSettings
    public var video: VideoFacts
    public var width: Int
    public var height: Int
    public var threads: Int
    /// The chunk's rate control and grain, as the plan decided them (`EncodeSettings.bitRate(for:)`,
    /// `filmGrain(for:)`); the plan step's check uses the job's own.
    public var bitRate: Int? = nil
    public var filmGrain: Int = 0
    /// --two-pass; 0 is a single pass. x264: 1 writes the stats to `statsPath`, 2 reads them. SVT-AV1: 1 (first),
    /// 2 (middle), 3 (last, the encode), each pass's stats kept in memory (`firstPassStats`) and given to the next
    /// as `svtStats`.
    public var pass: Int = 0
    public var statsPath: String? = nil
    public var svtStats: [UInt8]? = nil
    /// The chunk's length in frames (nil for the plan step's check): under VBR, SVT-AV1 plans its keyframe group
    /// for it.
    public var frames: Int? = nil

    public init(settings: EncodeSettings, video: VideoFacts, width: Int, height: Int, threads: Int, bitRate: Int? = nil,
                filmGrain: Int = 0, pass: Int = 0, statsPath: String? = nil, svtStats: [UInt8]? = nil, frames: Int? = nil) {
        self.settings = settings
        self.video = video
        self.width = width
        self.height = height
        self.threads = threads
        self.bitRate = bitRate
        self.filmGrain = filmGrain
        self.pass = pass
        self.statsPath = statsPath
        self.svtStats = svtStats
        self.frames = frames
    }
}

public enum EncoderFactory {
    /// `diagnose`: when the library refuses the configuration, find out why and which --encoder-params item caused
    /// it, for the plan step's check (`EncoderCheck`), while no other thread writes to stderr.
    public static func make(_ config: EncoderConfiguration, diagnose: Bool = false) throws -> any VideoEncoder {
        try CodecError.reported {
            switch config.settings.encoder {
            case .av1: return try SvtAv1Encoder(config, diagnose: diagnose)
            case .h264: return try X264Encoder(config, diagnose: diagnose)
            }
        }
    }

    /// The library versions a job records and a worker compares: SVT-AV1's version text and x264's build number.
    public static var libraryVersions: (svtav1: String, x264: String) { (SvtAv1Encoder.libraryVersion, X264Encoder.libraryVersion) }
}
