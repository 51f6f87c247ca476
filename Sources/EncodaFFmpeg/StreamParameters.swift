internal import CFFmpeg

/// A fraction as libav keeps it (`AVRational`); 0/0 or 0/1 when unknown.
public struct LibavRational: Sendable, Equatable {
    public var num: Int
    public var den: Int
    public init(_ num: Int, _ den: Int) { self.num = num; self.den = den }
    /// True when both terms are positive.
    public var isValid: Bool { num > 0 && den > 0 }
}

extension LibavRational {
    /// `value` in time base `from` expressed in time base `to`, rounded to nearest. The corresponding C function is
    /// `av_rescale_q`.
    public static func rescale(_ value: Int64, from: LibavRational, to: LibavRational) -> Int64 { av_rescale_q(value, from.av, to.av) }

    init(_ r: AVRational) { self.init(Int(r.num), Int(r.den)) }
    var av: AVRational { AVRational(num: Int32(num), den: Int32(den)) }
}

/// A stream as the container and its codec parameters describe it (`AVStream`, `AVCodecParameters`): a copy, so it
/// outlives nothing it points into.
public struct StreamParameters: Sendable {
    public enum MediaType: Sendable { case video, audio, subtitle, data, attachment, unknown }
    /// The order of a stream's interlaced fields as the container says (`AVFieldOrder`).
    public enum FieldOrder: Sendable { case unknown, progressive, topFirst, bottomFirst, topCodedBottomShown, bottomCodedTopShown }

    public var index: Int
    public var mediaType: MediaType
    /// Cover art: a picture attached to the file, not a video track (`AV_DISPOSITION_ATTACHED_PIC`).
    public var isAttachedPicture: Bool
    public var codecID: LibavCodecID
    /// libavcodec's name of the codec ("h264", "prores", "pcm_s16le").
    public var codecName: String
    public var width: Int
    public var height: Int
    public var pixelFormat: LibavPixelFormat
    public var timeBase: LibavRational
    public var averageFrameRate: LibavRational
    /// `r_frame_rate`: the lowest rate all timestamps fit (the bitstream's own rate for raw streams).
    public var realFrameRate: LibavRational
    /// The container's sample aspect ratio, and the codec parameters'.
    public var sampleAspectRatio: LibavRational
    public var codecSampleAspectRatio: LibavRational
    /// `AVColorPrimaries`, `AVColorTransferCharacteristic`, `AVColorSpace`, `AVColorRange`, `AVChromaLocation`.
    public var colorPrimaries: Int
    public var colorTransfer: Int
    public var colorMatrix: Int
    public var colorRange: Int
    public var chromaLocation: Int
    public var fieldOrder: FieldOrder
    /// The frame count the container states, 0 when it does not.
    public var frameCount: Int64
    /// The stream's duration in its time base; `noPTS` or 0 when unknown.
    public var duration: Int64
    /// The first timestamp in the stream's time base; `noPTS` when unknown.
    public var startTime: Int64
    /// Audio: channels and sample rate.
    public var channels: Int
    public var sampleRate: Int
    /// Bits of each sample that carry the signal (24 for 24-bit PCM in 32-bit words), 0 when unknown.
    public var bitsPerRawSample: Int
    /// The codec's global header (`extradata`: an avcC record, a sequence header), empty when it has none.
    public var extradata: [UInt8]

    init(_ st: UnsafeMutablePointer<AVStream>) {
        let s = st.pointee
        let par = s.codecpar.pointee
        index = Int(s.index)
        switch par.codec_type {
        case AVMEDIA_TYPE_VIDEO: mediaType = .video
        case AVMEDIA_TYPE_AUDIO: mediaType = .audio
        case AVMEDIA_TYPE_SUBTITLE: mediaType = .subtitle
        case AVMEDIA_TYPE_DATA: mediaType = .data
        case AVMEDIA_TYPE_ATTACHMENT: mediaType = .attachment
        default: mediaType = .unknown
        }
        isAttachedPicture = s.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
        codecID = LibavCodecID(par.codec_id)
        codecName = String(cString: avcodec_get_name(par.codec_id))
        width = Int(par.width)
        height = Int(par.height)
        pixelFormat = LibavPixelFormat(rawValue: par.format)
        timeBase = LibavRational(s.time_base)
        averageFrameRate = LibavRational(s.avg_frame_rate)
        realFrameRate = LibavRational(s.r_frame_rate)
        sampleAspectRatio = LibavRational(s.sample_aspect_ratio)
        codecSampleAspectRatio = LibavRational(par.sample_aspect_ratio)
        colorPrimaries = Int(par.color_primaries.rawValue)
        colorTransfer = Int(par.color_trc.rawValue)
        colorMatrix = Int(par.color_space.rawValue)
        colorRange = Int(par.color_range.rawValue)
        chromaLocation = Int(par.chroma_location.rawValue)
        switch par.field_order {
        case AV_FIELD_PROGRESSIVE: fieldOrder = .progressive
        case AV_FIELD_TT: fieldOrder = .topFirst
        case AV_FIELD_BB: fieldOrder = .bottomFirst
        case AV_FIELD_TB: fieldOrder = .topCodedBottomShown
        case AV_FIELD_BT: fieldOrder = .bottomCodedTopShown
        default: fieldOrder = .unknown
        }
        frameCount = s.nb_frames
        duration = s.duration
        startTime = s.start_time
        channels = Int(par.ch_layout.nb_channels)
        sampleRate = Int(par.sample_rate)
        bitsPerRawSample = Int(par.bits_per_raw_sample)
        extradata = par.extradata.map { Array(UnsafeBufferPointer(start: $0, count: Int(par.extradata_size))) } ?? []
    }
}
