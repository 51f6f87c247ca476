internal import CFFmpeg

/// An audio encoder libavcodec has, and what it accepts (a static description, nothing to free). The corresponding
/// C type is `AVCodec`.
public struct AudioCodec {
    let codec: UnsafePointer<AVCodec>

    /// The encoder libavcodec has under `name` ("libopus", "aac", "flac"), nil when it has none.
    /// The corresponding C function is `avcodec_find_encoder_by_name`.
    public init?(encoderNamed name: String) {
        guard let c = avcodec_find_encoder_by_name(name) else { return nil }
        codec = c
    }

    /// libavcodec's name of the encoder ("libopus").
    public var name: String { String(cString: codec.pointee.name) }

    /// The sample rates it takes, in libavcodec's order; nil when it takes any.
    public var sampleRates: [Int]? {
        guard let list = codec.pointee.supported_samplerates else { return nil }
        var rates: [Int] = [], i = 0
        while list[i] != 0 { rates.append(Int(list[i])); i += 1 }
        return rates
    }

    /// The sample formats it takes, the one it prefers first; empty when it does not say.
    public var sampleFormats: [LibavSampleFormat] {
        guard let list = codec.pointee.sample_fmts else { return [] }
        var formats: [LibavSampleFormat] = [], i = 0
        while list[i] != AV_SAMPLE_FMT_NONE { formats.append(LibavSampleFormat(list[i])); i += 1 }
        return formats
    }

    /// The channel layouts it takes, in libavcodec's order; nil when it takes any.
    public var channelLayouts: [ChannelLayout]? {
        guard let list = codec.pointee.ch_layouts else { return nil }
        var layouts: [ChannelLayout] = [], i = 0
        while list[i].nb_channels != 0 { layouts.append(ChannelLayout(copying: list + i)); i += 1 }
        return layouts
    }

    /// It takes a last frame shorter than its frame size as it is (`AV_CODEC_CAP_SMALL_LAST_FRAME` or
    /// `AV_CODEC_CAP_VARIABLE_FRAME_SIZE`); otherwise the last frame must be padded to full size.
    public var takesShortLastFrame: Bool {
        codec.pointee.capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE) != 0
    }
}

extension LibavError {
    /// `AVERROR_OPTION_NOT_FOUND` (`FFERRTAG(0xF8, 'O', 'P', 'T')`), thrown by `AudioEncoder` when the encoder
    /// opened but was given an option it does not have.
    public static let optionNotFound: Int32 = -Int32(0xF8 | 0x4F << 8 | 0x50 << 16 | 0x54 << 24)
}

/// An opened audio encoder whose packets carry global headers (`extradata`) for a muxer, and timestamps in samples
/// (time base 1/`sampleRate`). The corresponding C type is `AVCodecContext`; the context is a `CodecContext`, freed
/// once whether `init` fails or the encoder goes away.
public final class AudioEncoder {
    private let codec: CodecContext
    var context: UnsafeMutablePointer<AVCodecContext> { codec.pointer }
    /// The encoder's layout as opened, a copy of its own (frames given to `send` carry it).
    public let channelLayout: ChannelLayout

    /// - Parameters:
    ///   - bitRate: bits per second; nil leaves the encoder's default.
    ///   - options: the encoder's private or generic options by libavcodec name, applied in order.
    /// - Throws: `avcodec_open2` when the encoder refuses the settings (e.g. `EINVAL` for a value out of range);
    ///   `LibavError.optionNotFound` (function `avcodec_open2`) when it opened but `options` holds a name it does
    ///   not know; `av_channel_layout_copy`.
    public init(_ audio: AudioCodec, sampleFormat: LibavSampleFormat, sampleRate: Int, channelLayout layout: ChannelLayout,
                bitRate: Int?, options: [(String, String)]) throws(LibavError) {
        codec = CodecContext(audio.codec)
        let ctx = codec.pointer
        ctx.pointee.sample_fmt = sampleFormat.av
        ctx.pointee.sample_rate = Int32(sampleRate)
        ctx.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        try libavCall(av_channel_layout_copy(&ctx.pointee.ch_layout, layout.layout), "av_channel_layout_copy")
        if let bitRate { ctx.pointee.bit_rate = Int64(bitRate) }
        ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        var opts: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&opts, k, v, 0) }
        let ret = avcodec_open2(ctx, audio.codec, &opts)
        // avcodec_open2 takes the options it knows out of the dictionary; what is left it does not know.
        let unknown = av_dict_count(opts)
        av_dict_free(&opts)
        try libavCall(ret, "avcodec_open2")
        if unknown > 0 { throw LibavError(code: LibavError.optionNotFound, function: "avcodec_open2") }
        channelLayout = ChannelLayout(copying: &ctx.pointee.ch_layout)
    }

    public var sampleFormat: LibavSampleFormat { LibavSampleFormat(context.pointee.sample_fmt) }
    public var sampleRate: Int { Int(context.pointee.sample_rate) }
    /// Samples per channel of every frame but the last; 0 when the encoder takes frames of any size.
    public var frameSize: Int { Int(context.pointee.frame_size) }
    /// The encoder's priming: samples of delay before the first input sample (`initial_padding`).
    public var initialPadding: Int { Int(context.pointee.initial_padding) }
    /// The bit rate the encoder works at, 0 when it does not say.
    public var bitRate: Int { Int(context.pointee.bit_rate) }
    /// The codec's global header, empty when it has none.
    public var extradata: [UInt8] {
        guard let x = context.pointee.extradata, context.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: x, count: Int(context.pointee.extradata_size)))
    }

    /// Sends a frame (its `pts` in samples), or nil to drain. The corresponding C function is `avcodec_send_frame`.
    public func send(_ frame: Frame?) throws(LibavError) {
        try libavCall(avcodec_send_frame(context, frame?.object), "avcodec_send_frame")
    }

    /// Takes the next encoded packet into `packet`; false when the encoder needs more input or has drained.
    /// The corresponding C function is `avcodec_receive_packet`.
    public func receive(into packet: Packet) throws(LibavError) -> Bool {
        packet.unref()
        let ret = avcodec_receive_packet(context, packet.object)
        if ret == LibavError.again || ret == LibavError.endOfFile { return false }
        try libavCall(ret, "avcodec_receive_packet")
        return true
    }
}
