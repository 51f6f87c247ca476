import CFFmpeg
import EncodaModel

/// What the decoder had to offer.
enum ReceiveResult { case frame, needsInput, endOfStream }

/// A video decoder for one stream. The corresponding C type is `AVCodecContext` (avcodec_open2).
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>

    /// - Parameters:
    ///   - threads: 0 lets libav choose; frame threading is used where the codec has it.
    ///   - analysisOnly: the pictures are only measured, never encoded: skip the in-loop deblocking filter and
    ///     allow non-conforming speed-ups. Every frame is still decoded with its exact timestamp; its pixels
    ///     drift slightly from the true ones (invisible on a downscaled plane), which is why this is off for
    ///     anything that feeds an encoder.
    init(stream: UnsafeMutablePointer<AVStream>, threads: Int, path: String, analysisOnly: Bool = false) throws {
        let par = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            throw EncodaError(.inputUnsupported, "INPUT \(path) has video in \(name), which this libav cannot decode; convert it first")
        }
        guard let ctx = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        context = ctx
        try check(avcodec_parameters_to_context(ctx, par), .inputUnsupported, "INPUT video parameters are not usable")
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.thread_count = Int32(threads)
        ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        if analysisOnly {
            ctx.pointee.skip_loop_filter = AVDISCARD_ALL
            ctx.pointee.flags2 |= AV_CODEC_FLAG2_FAST
        }
        try check(avcodec_open2(ctx, codec, nil), .inputUnsupported, "the decoder for INPUT could not be opened")
    }

    deinit { var c: UnsafeMutablePointer<AVCodecContext>? = context; avcodec_free_context(&c) }

    /// Sends a packet, or nil to drain. Returns false when the decoder is full (receive first).
    /// The corresponding C function is `avcodec_send_packet`.
    func send(_ packet: Packet?) throws -> Bool {
        let ret = avcodec_send_packet(context, packet?.pointer)
        if ret == averrorEAGAIN { return false }
        if ret == averrorEOF { return true }
        if ret == encoda_averror_invaliddata() { return true } // a damaged packet: skip it, frame counts will tell
        try check(ret, .inputDamaged, "decoding INPUT failed")
        return true
    }

    /// The corresponding C function is `avcodec_receive_frame`.
    func receive(into frame: Frame) throws -> ReceiveResult {
        frame.unref()
        let ret = avcodec_receive_frame(context, frame.pointer)
        if ret == averrorEAGAIN { return .needsInput }
        if ret == averrorEOF { return .endOfStream }
        try check(ret, .inputDamaged, "decoding INPUT failed")
        return .frame
    }

    /// Drops all buffered state, after a seek. The corresponding C function is `avcodec_flush_buffers`.
    func flush() { avcodec_flush_buffers(context) }
}

/// Decodes the frames of one stream in presentation order, calling `body` for each; `body` returns false to stop.
final class FrameReader {
    let demuxer: Demuxer
    let decoder: Decoder
    let streamIndex: Int
    private let packet = Packet()
    let frame = Frame()
    private var draining = false
    private var finished = false
    private var clock: FrameClock
    /// The timestamp of `frame` by the rule the scene pass and the workers share (`FrameClock`); nil when it
    /// has none and its predecessor was not decoded (right after a seek).
    private(set) var timestamp: Int64?
    /// Packets of the stream read with `AV_PKT_FLAG_DISCARD`: frames an edit list hides. libavcodec decodes them
    /// (later frames may refer to them) but returns no frame for them, as in ffmpeg; the header's frame count
    /// includes them.
    private(set) var hiddenFrames = 0
    /// While set, packets shown before this timestamp that no other frame refers to are not decoded at all
    /// (pre-roll after a seek: such frames could only be thrown away). Reference frames are always decoded, so the
    /// frames from this timestamp on are bit-exact. Clear it once the first wanted frame has come out.
    var discardUnreferencedBefore: Int64? {
        didSet {
            if discardUnreferencedBefore == nil { decoder.context.pointee.skip_frame = AVDISCARD_DEFAULT }
        }
    }

    /// - Parameter frameStep: one frame in the stream's time base (`FrameClock.frameStep`), for frames without
    ///   a timestamp.
    init(demuxer: Demuxer, streamIndex: Int, threads: Int, frameStep: Int64, analysisOnly: Bool = false) throws {
        self.demuxer = demuxer
        self.streamIndex = streamIndex
        clock = FrameClock(frameStep: frameStep)
        decoder = try Decoder(stream: demuxer.stream(streamIndex), threads: threads, path: demuxer.path, analysisOnly: analysisOnly)
    }

    /// Next decoded frame into `frame`; false at the end of the stream.
    func next() throws -> Bool {
        if finished { return false }
        while true {
            switch try decoder.receive(into: frame) {
            case .frame:
                timestamp = clock.timestamp(of: frame)
                return true
            case .endOfStream: finished = true; return false
            case .needsInput:
                if draining { finished = true; return false }
                var gotPacket = false
                while try demuxer.read(into: packet) {
                    if Int(packet.pointer.pointee.stream_index) == streamIndex {
                        if packet.pointer.pointee.flags & AV_PKT_FLAG_DISCARD != 0 { hiddenFrames += 1 }
                        gotPacket = true
                        break
                    }
                }
                if gotPacket {
                    if let limit = discardUnreferencedBefore {
                        let pts = packet.pointer.pointee.pts
                        decoder.context.pointee.skip_frame = pts != noPTS && pts < limit ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
                    }
                    _ = try decoder.send(packet)
                } else {
                    draining = true
                    _ = try decoder.send(nil)
                }
            }
        }
    }

    /// After a demuxer seek: forget decoder state and start reading again. `toStart`: the seek went to the
    /// start of the stream (a first frame without timestamp then has 0, as in the scene pass).
    func restart(toStart: Bool) {
        decoder.flush()
        clock.reset(toStart: toStart)
        timestamp = nil
        draining = false
        finished = false
    }
}
