import CSvtAv1
import EncodaModel
import Foundation

/// SVT-AV1 through its C API. The corresponding C type is `EbComponentType` (svt_av1_enc_init_handle).
final class SvtAv1Encoder: VideoEncoder {
    private var handle: UnsafeMutablePointer<EbComponentType>?
    private(set) var extradata: [UInt8] = []
    private let bitDepth: Int
    private var io = EbSvtIOFormat()
    private var input = EbBufferHeaderType()

    static var libraryVersion: String { String(cString: svt_av1_get_version()) }

    init(_ c: EncoderConfiguration) throws {
        bitDepth = c.settings.bitDepth
        var cfg = EbSvtAv1EncConfiguration()
        var h: UnsafeMutablePointer<EbComponentType>? = nil
        var ret = svt_av1_enc_init_handle(&h, nil, &cfg)
        guard ret == EB_ErrorNone, let h else {
            throw EncodaError(.encoder, "SVT-AV1 could not start (error \(ret.rawValue)); check that libsvtav1enc is installed")
        }
        handle = h
        cfg.enc_mode = Int8(Int(c.settings.preset) ?? 8)
        cfg.source_width = UInt32(c.width)
        cfg.source_height = UInt32(c.height)
        cfg.frame_rate_numerator = UInt32(c.video.frameRate.num)
        cfg.frame_rate_denominator = UInt32(c.video.frameRate.den)
        cfg.encoder_bit_depth = UInt32(bitDepth)
        cfg.encoder_color_format = EB_YUV420
        cfg.rate_control_mode = 0
        cfg.qp = UInt32(c.settings.crf.rounded())
        cfg.logical_processors = UInt32(max(1, c.threads))
        cfg.force_key_frames = 1
        // Every chunk starts with a keyframe and chunks are cut at shots and at most --max-scene-seconds long, so
        // SVT-AV1's own ~5 s intra period would only add keyframes a single-process encode does not have (+3 %
        // bitrate on the synthetic clip). One keyframe per 10 s at most, like x264's default keyint of 250 at 25 fps;
        // keyint in --encoder-params still wins.
        cfg.intra_period_length = Int32(max(1, (c.video.frameRate.doubleValue * 10).rounded()) - 1)
        cfg.color_primaries = EbColorPrimaries(UInt32(c.video.colorPrimaries))
        cfg.transfer_characteristics = EbTransferCharacteristics(UInt32(c.video.colorTransfer))
        cfg.matrix_coefficients = EbMatrixCoefficients(UInt32(c.video.colorMatrix))
        cfg.color_range = c.video.colorRange == 2 ? EB_CR_FULL_RANGE : EB_CR_STUDIO_RANGE
        if c.video.chromaLocation == 1 { cfg.chroma_sample_position = EB_CSP_VERTICAL }
        else if c.video.chromaLocation == 3 { cfg.chroma_sample_position = EB_CSP_COLOCATED }
        for (k, v) in try parseKeyValuePairs(c.settings.encoderParams) {
            let r = svt_av1_enc_parse_parameter(&cfg, k, v)
            if r != EB_ErrorNone {
                svt_av1_enc_deinit_handle(h); handle = nil
                throw EncodaError(.usage, "SVT-AV1 does not accept --encoder-params \(k)=\(v); see SvtAv1EncApp --help for parameter names")
            }
        }
        ret = svt_av1_enc_set_parameter(h, &cfg)
        if ret != EB_ErrorNone {
            svt_av1_enc_deinit_handle(h); handle = nil
            throw EncodaError(.encoder, "SVT-AV1 rejected the configuration (error 0x\(String(ret.rawValue, radix: 16))); check --preset, --crf and --encoder-params")
        }
        ret = svt_av1_enc_init(h)
        if ret != EB_ErrorNone {
            svt_av1_enc_deinit_handle(h); handle = nil
            throw EncodaError(.encoder, "SVT-AV1 failed to initialise (error 0x\(String(ret.rawValue, radix: 16)))")
        }
        var header: UnsafeMutablePointer<EbBufferHeaderType>? = nil
        if svt_av1_enc_stream_header(h, &header) == EB_ErrorNone, let header {
            extradata = Array(UnsafeBufferPointer(start: header.pointee.p_buffer, count: Int(header.pointee.n_filled_len)))
            svt_av1_enc_stream_header_release(header)
        }
    }

    deinit {
        if let handle {
            svt_av1_enc_deinit(handle)
            svt_av1_enc_deinit_handle(handle)
        }
    }

    func encode(_ p: PictureRef, pts: Int64, forceKeyframe: Swift.Bool, output: (EncodedPacket) throws -> Void) throws {
        let shift = bitDepth > 8 ? 1 : 0
        io.luma = p.planes.0; io.cb = p.planes.1; io.cr = p.planes.2
        io.y_stride = UInt32(p.strides.0 >> shift)
        io.cb_stride = UInt32(p.strides.1 >> shift)
        io.cr_stride = UInt32(p.strides.2 >> shift)
        io.width = UInt32(p.width); io.height = UInt32(p.height)
        io.color_fmt = EB_YUV420
        io.bit_depth = bitDepth > 8 ? EB_TEN_BIT : EB_EIGHT_BIT
        try withUnsafeMutablePointer(to: &io) { ioPtr in
            input.size = UInt32(MemoryLayout<EbBufferHeaderType>.size)
            input.p_buffer = UnsafeMutableRawPointer(ioPtr).assumingMemoryBound(to: UInt8.self)
            input.n_filled_len = UInt32(p.strides.0 * p.height + p.strides.1 * p.height / 2 + p.strides.2 * p.height / 2)
            input.n_alloc_len = input.n_filled_len
            input.pts = pts
            input.flags = 0
            input.p_app_private = nil
            input.metadata = nil
            input.pic_type = forceKeyframe ? EB_AV1_KEY_PICTURE : EB_AV1_INVALID_PICTURE
            let r = svt_av1_enc_send_picture(handle, &input)
            if r != EB_ErrorNone { throw EncodaError(.encoder, "SVT-AV1 refused a picture (error 0x\(String(r.rawValue, radix: 16)))") }
        }
        try drain(done: false, output)
    }

    func finish(output: (EncodedPacket) throws -> Void) throws {
        var eos = EbBufferHeaderType()
        eos.size = UInt32(MemoryLayout<EbBufferHeaderType>.size)
        eos.flags = UInt32(EB_BUFFERFLAG_EOS)
        eos.pic_type = EB_AV1_INVALID_PICTURE
        let r = svt_av1_enc_send_picture(handle, &eos)
        if r != EB_ErrorNone { throw EncodaError(.encoder, "SVT-AV1 refused end of stream (error 0x\(String(r.rawValue, radix: 16)))") }
        try drain(done: true, output)
    }

    private func drain(done: Swift.Bool, _ output: (EncodedPacket) throws -> Void) throws {
        while true {
            var pkt: UnsafeMutablePointer<EbBufferHeaderType>? = nil
            let r = svt_av1_enc_get_packet(handle, &pkt, done ? 1 : 0)
            if r == EB_NoErrorEmptyQueue { return }
            guard r == EB_ErrorNone, pkt != nil else {
                throw EncodaError(.encoder, "SVT-AV1 failed while encoding (error 0x\(String(r.rawValue, radix: 16)))")
            }
            let flags = pkt!.pointee.flags
            if (flags & UInt32(EB_BUFFERFLAG_ERROR_MASK)) != 0 {
                svt_av1_enc_release_out_buffer(&pkt)
                throw EncodaError(.encoder, "SVT-AV1 reported an encode error")
            }
            let eos = (flags & UInt32(EB_BUFFERFLAG_EOS)) != 0
            let out = pkt!
            if out.pointee.n_filled_len > 0 {
                let type = out.pointee.pic_type
                let packet = EncodedPacket(
                    data: UnsafeRawBufferPointer(start: out.pointee.p_buffer, count: Int(out.pointee.n_filled_len)),
                    pts: out.pointee.pts, dts: out.pointee.pts,
                    isKey: type == EB_AV1_KEY_PICTURE)
                do { try output(packet) } catch { svt_av1_enc_release_out_buffer(&pkt); throw error }
            }
            svt_av1_enc_release_out_buffer(&pkt)
            if eos { return }
        }
    }
}
