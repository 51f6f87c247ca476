internal import CFFmpeg

/// A codec as libavcodec numbers it (`AVCodecID`).
public struct LibavCodecID: Sendable, Equatable {
    let raw: AVCodecID
    init(_ id: AVCodecID) { raw = id }

    /// The codec of the encoder libavcodec has under `name` ("libopus", "aac"), nil when it has none.
    /// The corresponding C function is `avcodec_find_encoder_by_name`.
    public init?(encoderNamed name: String) {
        guard let c = avcodec_find_encoder_by_name(name) else { return nil }
        raw = c.pointee.id
    }

    /// libavcodec can decode it. The corresponding C function is `avcodec_find_decoder`.
    public var hasDecoder: Bool { avcodec_find_decoder(raw) != nil }
}

/// An output container format libavformat can write (a static description, nothing to free). The corresponding C
/// type is `AVOutputFormat`.
public struct LibavOutputFormat {
    let format: UnsafePointer<AVOutputFormat>

    /// The muxer libavformat has under `name` ("matroska", "mp4"), nil when it has none. The corresponding C
    /// function is `av_guess_format`.
    public init?(muxer name: String) {
        guard let f = av_guess_format(name, nil, nil) else { return nil }
        format = f
    }

    /// The container can hold a stream of this codec (at normal compliance). The corresponding C function is
    /// `avformat_query_codec`.
    public func canHold(_ codec: LibavCodecID) -> Bool { avformat_query_codec(format, codec.raw, FF_COMPLIANCE_NORMAL) == 1 }
}
