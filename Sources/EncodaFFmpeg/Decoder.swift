internal import CFFmpeg

/// What the decoder had to offer.
public enum ReceiveResult: Sendable { case frame, needsInput, endOfStream }

/// A decoder for one stream of a `Demuxer`. The corresponding C type is `AVCodecContext` (avcodec_open2); the
/// context is a `CodecContext`, freed once whether `init` fails half-way or the decoder goes away.
public final class Decoder {
    private let codec: CodecContext
    var context: UnsafeMutablePointer<AVCodecContext> { codec.pointer }

    /// - Parameters:
    ///   - threads: 0 lets libav choose; frame threading is used where the codec has it.
    ///   - analysisOnly: the pictures are only measured, never encoded: skip the in-loop deblocking filter and
    ///     allow non-conforming speed-ups. Every frame is still decoded with its exact timestamp; its pixels
    ///     drift slightly from the true ones (invisible on a downscaled plane), which is why this is off for
    ///     anything that feeds an encoder.
    /// - Throws: `avcodec_find_decoder` (`LibavError.decoderNotFound`: this libav has no decoder for the codec),
    ///   `avcodec_parameters_to_context` or `avcodec_open2`.
    public init(demuxer: Demuxer, stream index: Int, threads: Int, analysisOnly: Bool = false) throws(LibavError) {
        let stream = demuxer.avStream(index)
        let par = stream.pointee.codecpar!
        guard let found = avcodec_find_decoder(par.pointee.codec_id) else {
            throw LibavError(code: LibavError.decoderNotFound, function: "avcodec_find_decoder")
        }
        codec = CodecContext(found)
        let ctx = codec.pointer
        try libavCall(avcodec_parameters_to_context(ctx, par), "avcodec_parameters_to_context")
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.thread_count = Int32(threads)
        ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        if analysisOnly {
            ctx.pointee.skip_loop_filter = AVDISCARD_ALL
            ctx.pointee.flags2 |= AV_CODEC_FLAG2_FAST
        }
        try libavCall(avcodec_open2(ctx, found, nil), "avcodec_open2")
    }

    /// A single-threaded decoder of AV1 (`preferring` a decoder by name when this libav has it, e.g. "libdav1d") or
    /// H.264 for a stream of packets that come from elsewhere (an encoder's), with the codec's `extradata`.
    /// - Throws: as `init(demuxer:stream:threads:analysisOnly:)`.
    public init(codec name: String, preferring preferred: String? = nil, extradata: [UInt8]) throws(LibavError) {
        let id = name == "av1" ? AV_CODEC_ID_AV1 : name == "h264" ? AV_CODEC_ID_H264 : avcodec_descriptor_get_by_name(name)?.pointee.id ?? AV_CODEC_ID_NONE
        guard let found = preferred.flatMap({ avcodec_find_decoder_by_name($0) }) ?? avcodec_find_decoder(id) else {
            throw LibavError(code: LibavError.decoderNotFound, function: "avcodec_find_decoder")
        }
        codec = CodecContext(found)
        let ctx = codec.pointer
        if !extradata.isEmpty {
            guard let mem = av_mallocz(extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { fatalError("av_mallocz: out of memory") }
            let buf = mem.assumingMemoryBound(to: UInt8.self)
            buf.update(from: extradata, count: extradata.count)
            ctx.pointee.extradata = buf
            ctx.pointee.extradata_size = Int32(extradata.count)
        }
        ctx.pointee.thread_count = 1
        try libavCall(avcodec_open2(ctx, found, nil), "avcodec_open2")
    }

    /// Sends a packet, or nil to drain. Returns false when the decoder is full (receive first). A damaged packet
    /// (`AVERROR_INVALIDDATA`) is skipped unless `skippingDamaged` is false: frame counts tell what was lost.
    /// The corresponding C function is `avcodec_send_packet`.
    public func send(_ packet: Packet?, skippingDamaged: Bool = true) throws(LibavError) -> Bool {
        let ret = avcodec_send_packet(context, packet?.object)
        if ret == LibavError.again { return false }
        if ret == LibavError.endOfFile { return true }
        if ret == LibavError.invalidData && skippingDamaged { return true }
        try libavCall(ret, "avcodec_send_packet")
        return true
    }

    /// The corresponding C function is `avcodec_receive_frame`.
    public func receive(into frame: Frame) throws(LibavError) -> ReceiveResult {
        frame.unref()
        let ret = avcodec_receive_frame(context, frame.object)
        if ret == LibavError.again { return .needsInput }
        if ret == LibavError.endOfFile { return .endOfStream }
        try libavCall(ret, "avcodec_receive_frame")
        return .frame
    }

    /// Drops all buffered state, after a seek. The corresponding C function is `avcodec_flush_buffers`.
    public func flush() { avcodec_flush_buffers(context) }

    /// When set, packets that no other frame refers to are not decoded (`AVDISCARD_NONREF`); otherwise every
    /// packet is (`AVDISCARD_DEFAULT`). Takes effect from the next packet sent.
    public func skipUnreferenced(_ skip: Bool) {
        context.pointee.skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
    }

    /// The frame rate the decoder found in the bitstream (`AVCodecContext.framerate`; 0/1 when none).
    public var frameRate: LibavRational { LibavRational(context.pointee.framerate) }
}
