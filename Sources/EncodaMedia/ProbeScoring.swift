import CFFmpeg
import EncodaCodecs
import EncodaModel
import Foundation

/// What a probe encode measures: its pictures decoded again and scored against the pictures the encoder received
/// (after crop, scale and pixel-format conversion: exactly what OUTPUT shows), every `rate`-th frame.
public struct ProbeScoring: Sendable {
    public var metric: QualityMetric
    public var rate: Int
    /// An ffmpeg with libvmaf, for `.vmaf`.
    public var vmafFFmpeg: String?
    public init(metric: QualityMetric, rate: Int, vmafFFmpeg: String?) { self.metric = metric; self.rate = max(1, rate); self.vmafFFmpeg = vmafFFmpeg }
}

/// Scores one chunk encode while it is made: each encoded packet is decoded at once, and each decoded picture is
/// paired with a copy of the picture the encoder was given for that frame. Only the copies of frames the encoder
/// still holds (its lookahead and reordering) are kept, so memory does not grow with the chunk.
final class ProbeMeasurement {
    private let scoring: ProbeScoring
    private let context: UnsafeMutablePointer<AVCodecContext>
    private let scorer: FramePairScorer
    private var references: [(Int, Frame)] = []
    private var decoded = 0
    private let packet = Packet()
    private let picture = Frame()
    private(set) var scores: [Double] = []

    init(scoring: ProbeScoring, encoder: EncoderKind, extradata: [UInt8]) throws {
        self.scoring = scoring
        // dav1d where libavcodec has it: its native AV1 decoder needs a hardware accelerator.
        let codec = encoder == .av1 ? (avcodec_find_decoder_by_name("libdav1d") ?? avcodec_find_decoder(AV_CODEC_ID_AV1))
                                    : avcodec_find_decoder(AV_CODEC_ID_H264)
        guard let codec else { throw EncodaError(.inputUnsupported, "this libavcodec cannot decode \(encoder.rawValue), which --target-quality needs to score its probes") }
        guard let ctx = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        context = ctx
        if !extradata.isEmpty {
            let buf = av_mallocz(extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE))!.assumingMemoryBound(to: UInt8.self)
            extradata.withUnsafeBufferPointer { buf.update(from: $0.baseAddress!, count: extradata.count) }
            ctx.pointee.extradata = buf
            ctx.pointee.extradata_size = Int32(extradata.count)
        }
        ctx.pointee.thread_count = 1
        try check(avcodec_open2(ctx, codec, nil), .internalError, "the decoder for scoring probes could not be opened")
        scorer = try FramePairScorer(metric: scoring.metric, vmafFFmpeg: scoring.vmafFFmpeg)
    }

    deinit { var c: UnsafeMutablePointer<AVCodecContext>? = context; avcodec_free_context(&c) }

    /// The picture the encoder receives as frame `n` of the chunk; kept (copied) when it is to be scored.
    func reference(_ f: Frame, n: Int) throws {
        guard n % scoring.rate == 0 else { return }
        let copy = Frame()
        copy.pointer.pointee.format = f.pointer.pointee.format
        copy.pointer.pointee.width = f.pointer.pointee.width
        copy.pointer.pointee.height = f.pointer.pointee.height
        try check(av_frame_get_buffer(copy.pointer, 0), .internalError, "allocating a picture to score failed")
        try check(av_frame_copy(copy.pointer, f.pointer), .internalError, "copying a picture to score failed")
        references.append((n, copy))
    }

    /// An encoded packet, as written to the chunk file.
    func packet(_ p: EncodedPacket) throws {
        packet.unref()
        try check(av_new_packet(packet.pointer, Int32(p.data.count)), .internalError, "allocating a packet to score failed")
        if p.data.count > 0 { packet.pointer.pointee.data.update(from: p.data.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.data.count) }
        packet.pointer.pointee.pts = p.pts
        packet.pointer.pointee.dts = p.dts
        if p.isKey { packet.pointer.pointee.flags |= AV_PKT_FLAG_KEY }
        try send(packet.pointer)
    }

    /// Drains the decoder; returns the per-frame scores, in frame order. `frames`: the chunk's frame count.
    func finish(frames: Int) throws -> [Double] {
        try send(nil)
        guard decoded == frames, references.isEmpty else {
            throw EncodaError(.encoder, "scoring a probe decoded \(decoded) of its \(frames) frames; it will be encoded again")
        }
        return try scorer.finish()
    }

    private func send(_ p: UnsafeMutablePointer<AVPacket>?) throws {
        while true {
            let ret = avcodec_send_packet(context, p)
            if ret != averrorEAGAIN {
                if ret != averrorEOF { try check(ret, .encoder, "decoding a probe encode to score it failed") }
                try receive()
                return
            }
            try receive()
        }
    }

    private func receive() throws {
        while true {
            picture.unref()
            let ret = avcodec_receive_frame(context, picture.pointer)
            if ret == averrorEAGAIN || ret == averrorEOF { return }
            try check(ret, .encoder, "decoding a probe encode to score it failed")
            let n = decoded
            decoded += 1
            guard n % scoring.rate == 0 else { continue }
            guard let first = references.first, first.0 == n else {
                throw EncodaError(.internalError, "a decoded probe frame \(n) has no picture to be scored against")
            }
            references.removeFirst()
            // The encoder's picture carries no colour tags of its own (a copy, or a conversion): it is what the
            // encoded stream says it is, so both pictures of the pair go to RGB with the stream's matrix and range.
            // (Left untagged, the reference was read as BT.601 beside a BT.709 probe: a colour shift that scored
            // HD test patterns below 10 at any CRF.)
            first.1.pointer.pointee.colorspace = picture.pointer.pointee.colorspace
            first.1.pointer.pointee.color_range = picture.pointer.pointee.color_range
            try scorer.add(reference: first.1, distorted: picture)
        }
    }
}
