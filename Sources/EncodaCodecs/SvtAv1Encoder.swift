internal import CSvtAv1
import EncodaModel
import Foundation

/// SVT-AV1 through its C API. The corresponding C type is `EbComponentType` (svt_av1_enc_init_handle).
final class SvtAv1Encoder: VideoEncoder {
    private var handle: UnsafeMutablePointer<EbComponentType>?
    private(set) var extradata: [UInt8] = []
    private let bitDepth: Int
    private var io = EbSvtIOFormat()
    private var input = EbBufferHeaderType()
    private var sentEndOfStream = false
    private var sentPicture = false
    private let width: Int
    private let height: Int
    /// Shot starts become keyframes (constant quality only; see `apply`).
    private let forcesKeyframes: Swift.Bool
    /// --two-pass: SVT-AV1's pass 1 (first), 2 (middle) or 3 (last, the encode); 0 is a single pass.
    private let pass: Int
    /// The stats of a first or middle pass, copied out of the encoder at the end of the stream.
    private(set) var firstPassStats: [UInt8]? = nil
    /// The middle and last pass's copy of the stats: SVT-AV1 reads them through `rc_stats_buffer` while it encodes,
    /// without copying them, so they live as long as the encoder.
    private var statsBuffer: UnsafeMutableRawBufferPointer? = nil

    static var libraryVersion: String { String(cString: svt_av1_get_version()) }

    /// `diagnose`: find out why a refused configuration is refused (SVT-AV1 says so only in its log, which is
    /// captured for the message) and which --encoder-params item caused it. For the plan step, while no other
    /// thread writes to stderr; see `StderrCapture`.
    init(_ c: EncoderConfiguration, diagnose: Swift.Bool = false) throws {
        // SVT-AV1 1.4.1 encodes 4:2:0 only; the plan converts other sources (PixelFormatChoice) and refuses other
        // --pix-fmt values (EncodeSettings.validate), so only a hand-edited job.json gets here.
        guard c.settings.pixelFormat.isEncodable(by: .av1) else {
            throw CodecError(.svtAv1UnsupportedPixelFormat, "svt_av1_enc_init_handle", .usage, "SVT-AV1 1.4.1 encodes only 4:2:0 YUV, not \(c.settings.pixelFormat); use --pix-fmt yuv420p or yuv420p10le")
        }
        bitDepth = c.settings.bitDepth
        width = c.width
        height = c.height
        forcesKeyframes = c.bitRate == nil
        pass = c.bitRate == nil ? 0 : c.pass
        let params = try EncoderParams.parse(c.settings.encoderParams)
        let capture = diagnose ? StderrCapture() : nil
        var captured: (errors: [String], others: [String])? = nil
        // Ends the capture (once) and passes on the lines that are not errors (warnings, at encoda's level).
        func endCapture() -> [String] {
            if captured == nil, let capture {
                let lines = StderrCapture.splitSvtLog(capture.end())
                // The culprit search repeats the lines of the first attempt.
                captured = (lines.errors.uniqued(), lines.others.uniqued())
                EncoderLogging.svtAv1Lines(captured!.others)
            }
            return captured?.errors ?? []
        }
        defer { _ = endCapture() }

        var cfg = EbSvtAv1EncConfiguration()
        let h = try Self.makeHandle(&cfg)
        handle = h
        Self.apply(c, to: &cfg)
        for p in params {
            let r = svt_av1_enc_parse_parameter(&cfg, p.key, p.value)
            if r != EB_ErrorNone {
                svt_av1_enc_deinit_handle(h); handle = nil
                throw Self.parameterError(p, config: cfg, reasons: endCapture())
            }
        }
        try applyPass(c, to: &cfg)
        var ret = svt_av1_enc_set_parameter(h, &cfg)
        if ret != EB_ErrorNone {
            svt_av1_enc_deinit_handle(h); handle = nil
            let culprit = diagnose ? Self.culprit(c, params) : nil
            throw Self.configurationError(c, params, ret, culprit: culprit, reasons: endCapture())
        }
        // svt_av1_enc_init starts the encoder's threads, real-time when run as root: they go back to encoda's policy.
        let scheduling = ThreadScheduling.current()
        ret = svt_av1_enc_init(h)
        scheduling.restore()
        scheduling.restoreRealTimeThreads()
        if ret != EB_ErrorNone {
            svt_av1_enc_deinit_handle(h); handle = nil
            let reasons = endCapture()
            throw CodecError.svtAv1(ret, "svt_av1_enc_init", .encoder, "SVT-AV1 failed to initialise (\(SvtAv1Status(ret).text))" +
                                    (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
        }
        var header: UnsafeMutablePointer<EbBufferHeaderType>? = nil
        if svt_av1_enc_stream_header(h, &header) == EB_ErrorNone, let header {
            extradata = Array(UnsafeBufferPointer(start: header.pointee.p_buffer, count: Int(header.pointee.n_filled_len)))
            svt_av1_enc_stream_header_release(header)
        }
    }

    private static func makeHandle(_ cfg: inout EbSvtAv1EncConfiguration) throws -> UnsafeMutablePointer<EbComponentType> {
        var h: UnsafeMutablePointer<EbComponentType>? = nil
        // As root, SVT-AV1 makes this thread SCHED_FIFO 99 here; encoda keeps the policy it was started with.
        let ret = ThreadScheduling.keeping { svt_av1_enc_init_handle(&h, nil, &cfg) }
        guard ret == EB_ErrorNone, let h else {
            throw CodecError.svtAv1(ret, "svt_av1_enc_init_handle", .encoder, "SVT-AV1 could not start (\(SvtAv1Status(ret).text)); check that libsvtav1enc is installed")
        }
        return h
    }

    /// encoda's settings, before --encoder-params (which may override them).
    private static func apply(_ c: EncoderConfiguration, to cfg: inout EbSvtAv1EncConfiguration) {
        cfg.enc_mode = Int8(Int(c.settings.preset) ?? 8)
        cfg.source_width = UInt32(c.width)
        cfg.source_height = UInt32(c.height)
        cfg.frame_rate_numerator = UInt32(c.video.frameRate.num)
        cfg.frame_rate_denominator = UInt32(c.video.frameRate.den)
        cfg.encoder_bit_depth = UInt32(c.settings.bitDepth)
        cfg.encoder_color_format = EB_YUV420
        if let rate = c.bitRate {
            // VBR (SvtAv1RcMode 1) at the chunk's rate, in one pass or two (`applyPass`).
            cfg.rate_control_mode = 1
            cfg.target_bit_rate = UInt32(rate)
        } else {
            cfg.rate_control_mode = 0
            cfg.qp = UInt32(c.settings.crf.rounded())
        }
        if c.filmGrain > 0 {
            // Film grain synthesis: the denoiser's strength is the level, and the denoised picture is what is coded.
            cfg.film_grain_denoise_strength = UInt32(c.filmGrain)
            cfg.film_grain_denoise_apply = 1
        }
        cfg.logical_processors = UInt32(max(1, c.threads))
        // SVT-AV1 1.4.1 forces keyframes only at constant quality: under VBR a shot start inside a chunk is coded as
        // the encoder decides (each chunk still starts with a keyframe, which is all the join needs).
        cfg.force_key_frames = c.bitRate == nil ? 1 : 0
        // Every chunk starts with a keyframe and chunks are cut at shots and at most --max-scene-seconds long, so
        // SVT-AV1's own ~5 s intra period would only add keyframes a single-process encode does not have (+3 %
        // bitrate on the synthetic clip). One keyframe per 10 s at most, like x264's default keyint of 250 at 25 fps;
        // keyint in --encoder-params still wins.
        cfg.intra_period_length = Int32(max(1, (c.video.frameRate.doubleValue * 10).rounded()) - 1)
        // Under VBR the keyframe's share of the bits is planned over the intra period: over the chunk, not 10 s that
        // never come (on 2 s chunks at 500k: +33 % over the rate with 10 s, +17 % with the chunk's length).
        if c.bitRate != nil, let n = c.frames { cfg.intra_period_length = Int32(max(1, n)) }
        cfg.color_primaries = EbColorPrimaries(UInt32(c.video.colorPrimaries))
        cfg.transfer_characteristics = EbTransferCharacteristics(UInt32(c.video.colorTransfer))
        cfg.matrix_coefficients = EbMatrixCoefficients(UInt32(c.video.colorMatrix))
        cfg.color_range = c.video.colorRange == 2 ? EB_CR_FULL_RANGE : EB_CR_STUDIO_RANGE
        if c.video.chromaLocation == 1 { cfg.chroma_sample_position = EB_CSP_VERTICAL }
        else if c.video.chromaLocation == 3 { cfg.chroma_sample_position = EB_CSP_COLOCATED }
        // HDR10 static metadata, which SVT-AV1 writes as metadata OBUs. Its parser (1.4.1) reads chromaticities and
        // luminances as plain numbers, "G(0.265,0.69)…L(1000,0.0001)", not in x265's integer steps (those are clipped
        // to 1.0), and stores the fixed point of the AV1 OBUs.
        if let md = c.video.masteringDisplay {
            func xy(_ v: [Int]) -> String {
                String(format: "(%.5f,%.5f)", Double(v[0]) / Double(MasteringDisplay.chromaticityDenominator),
                       Double(v[1]) / Double(MasteringDisplay.chromaticityDenominator))
            }
            let lum = Double(MasteringDisplay.luminanceDenominator)
            let text = "G\(xy(md.green))B\(xy(md.blue))R\(xy(md.red))WP\(xy(md.whitePoint))" +
                String(format: "L(%.4f,%.4f)", Double(md.maxLuminance) / lum, Double(md.minLuminance) / lum)
            _ = svt_aom_parse_mastering_display(&cfg.mastering_display, text)
        }
        if let cll = c.video.contentLightLevel { _ = svt_aom_parse_content_light_level(&cfg.content_light_level, cll.description) }
    }

    /// --two-pass, after --encoder-params: SVT-AV1 1.4.1's multi-pass VBR, as its own `--passes 2` runs it: the first
    /// pass (ENC_FIRST_PASS, 1) writes stats, the middle pass (ENC_MIDDLE_PASS, 2) reads and refines them, the last
    /// pass (ENC_LAST_PASS, 3) encodes with them; the stats go from one to the next in memory. (The last pass fed
    /// the first pass's stats directly ignores the rate: 13 times it on the test clip.)
    private func applyPass(_ c: EncoderConfiguration, to cfg: inout EbSvtAv1EncConfiguration) throws {
        guard pass > 0 else { return }
        cfg.pass = Int32(pass)
        guard pass > 1 else { return }
        guard let stats = c.svtStats, !stats.isEmpty else {
            throw CodecError(.svtAv1MissingStats, "svt_av1_enc_set_parameter", .encoder, "SVT-AV1's pass \(pass) has no stats from the pass before; the chunk will be re-encoded")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: stats.count, alignment: 16)
        buffer.copyBytes(from: stats)
        statsBuffer = buffer
        cfg.rc_stats_buffer = SvtAv1FixedBuf(buf: buffer.baseAddress, sz: UInt64(stats.count))
    }

    /// svt_av1_enc_parse_parameter refused an item: an unknown name, or a value it cannot read. Which of the two
    /// is told by trying the name with the values most parameters take.
    private static func parameterError(_ p: EncoderParam, config: EbSvtAv1EncConfiguration, reasons: [String]) -> CodecError {
        var scratch = config
        let known = ["0", "1"].contains { (value: String) in svt_av1_enc_parse_parameter(&scratch, p.key, value) == EB_ErrorNone }
        let item = p.written == p.description ? p.written : "\(p.written) (read as \(p.description))"
        let why = reasons.isEmpty ? "" : " (" + reasons.joined(separator: "; ") + ")"
        if known {
            return CodecError(.svtAv1BadParameterValue, "svt_av1_enc_parse_parameter", .usage, "--encoder-params \(item): SVT-AV1 cannot use the value \(p.value) for \(p.key)\(why); see SvtAv1EncApp --help for its values")
        }
        return CodecError(.svtAv1UnknownParameter, "svt_av1_enc_parse_parameter", .usage, "--encoder-params \(item): SVT-AV1 has no parameter named \(p.key)\(why); see SvtAv1EncApp --help for the names, written key=value (e.g. film-grain=8)")
    }

    /// The index of the first --encoder-params item with which svt_av1_enc_set_parameter refuses the configuration
    /// (-1: encoda's own settings are refused already); nil when it cannot be told.
    private static func culprit(_ c: EncoderConfiguration, _ params: [EncoderParam]) -> Int? {
        for k in 0...params.count {
            var cfg = EbSvtAv1EncConfiguration()
            guard let h = try? makeHandle(&cfg) else { return nil }
            defer { svt_av1_enc_deinit_handle(h) }
            apply(c, to: &cfg)
            for p in params.prefix(k) where svt_av1_enc_parse_parameter(&cfg, p.key, p.value) != EB_ErrorNone { return nil }
            if svt_av1_enc_set_parameter(h, &cfg) != EB_ErrorNone { return k - 1 }
        }
        return nil
    }

    private static func configurationError(_ c: EncoderConfiguration, _ params: [EncoderParam], _ ret: EbErrorType,
                                           culprit: Int?, reasons: [String]) -> CodecError {
        let code = SvtAv1Status(ret).text
        let why = reasons.isEmpty ? "" : reasons.joined(separator: "; ") + " "
        let own = "preset \(c.settings.preset), \(c.bitRate.map { "VBR \(BitRateText.format($0))" } ?? "crf \(Int(c.settings.crf.rounded()))"), \(c.settings.bitDepth)-bit, \(c.width)x\(c.height)"
        if let k = culprit, k >= 0 {
            let p = params[k]
            let item = p.written == p.description ? p.written : "\(p.written) (read as \(p.description))"
            return .svtAv1(ret, "svt_av1_enc_set_parameter", .usage, "--encoder-params \(item): SVT-AV1 refused it: \(why)(\(code)); change or remove \(p.key)")
        }
        if culprit == -1 {
            return .svtAv1(ret, "svt_av1_enc_set_parameter", .encoder, "SVT-AV1 refused the configuration encoda made (\(own)): \(why)(\(code)); this is a bug, please report it")
        }
        let hint = params.isEmpty ? "encoda set \(own)" : "check --encoder-params \(EncoderParams.canonical(params))"
        return .svtAv1(ret, "svt_av1_enc_set_parameter", params.isEmpty ? .encoder : .usage,
                       "SVT-AV1 refused the configuration: \(why.isEmpty ? "its log above says why " : why)(\(code)); \(hint)")
    }

    deinit {
        if let handle {
            // svt_av1_enc_deinit waits for the end of the stream (1.4.1), and the end of a stream without pictures
            // never comes: an encoder closed before `finish` (the plan step's check, a chunk that failed before
            // or after its first frame) hung there. It gets a blank picture if it has none, then the end.
            if !sentEndOfStream {
                if !sentPicture { sendBlankPicture() }
                if Self.sendEndOfStream(handle) == EB_ErrorNone { try? drain(done: true) { _ in } }
            }
            svt_av1_enc_deinit(handle)
            svt_av1_enc_deinit_handle(handle)
        }
        statsBuffer?.deallocate()
    }

    func encode(_ p: PictureRef, pts: Int64, forceKeyframe: Swift.Bool, output: (EncodedPacket) throws -> Void) throws {
        try CodecError.reported { try send(p, pts: pts, forceKeyframe: forceKeyframe, output: output) }
    }

    func finish(output: (EncodedPacket) throws -> Void) throws {
        try CodecError.reported { try endStream(output: output) }
    }

    private func send(_ p: PictureRef, pts: Int64, forceKeyframe: Swift.Bool, output: (EncodedPacket) throws -> Void) throws {
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
            input.pic_type = forceKeyframe && forcesKeyframes ? EB_AV1_KEY_PICTURE : EB_AV1_INVALID_PICTURE
            let r = svt_av1_enc_send_picture(handle, &input)
            sentPicture = true
            if r != EB_ErrorNone { throw CodecError.svtAv1(r, "svt_av1_enc_send_picture", .encoder, "SVT-AV1 refused a picture (\(SvtAv1Status(r).text))") }
        }
        try drain(done: false, output)
    }

    private func endStream(output: (EncodedPacket) throws -> Void) throws {
        sentEndOfStream = true
        let r = Self.sendEndOfStream(handle)
        if r != EB_ErrorNone { throw CodecError.svtAv1(r, "svt_av1_enc_send_picture", .encoder, "SVT-AV1 refused end of stream (\(SvtAv1Status(r).text))") }
        try drain(done: true, output)
    }

    /// One mid-grey picture of the configured size, for an encoder that must see one before it can be closed.
    private func sendBlankPicture() {
        let bytes = bitDepth > 8 ? 2 : 1
        let luma = UnsafeMutablePointer<UInt8>.allocate(capacity: width * height * bytes)
        let chroma = UnsafeMutablePointer<UInt8>.allocate(capacity: (width / 2) * (height / 2) * bytes)
        defer { luma.deallocate(); chroma.deallocate() }
        if bytes == 1 {
            luma.initialize(repeating: 128, count: width * height)
            chroma.initialize(repeating: 128, count: (width / 2) * (height / 2))
        } else {
            // 512 in little-endian 16-bit samples.
            for i in 0..<(width * height) { luma[2 * i] = 0; luma[2 * i + 1] = 2 }
            for i in 0..<((width / 2) * (height / 2)) { chroma[2 * i] = 0; chroma[2 * i + 1] = 2 }
        }
        let picture = PictureRef(planes: (luma, chroma, chroma), strides: (width * bytes, width / 2 * bytes, width / 2 * bytes),
                                 width: width, height: height)
        try? send(picture, pts: 0, forceKeyframe: false) { _ in }
    }

    private static func sendEndOfStream(_ handle: UnsafeMutablePointer<EbComponentType>?) -> EbErrorType {
        var eos = EbBufferHeaderType()
        eos.size = UInt32(MemoryLayout<EbBufferHeaderType>.size)
        eos.flags = UInt32(EB_BUFFERFLAG_EOS)
        eos.pic_type = EB_AV1_INVALID_PICTURE
        return svt_av1_enc_send_picture(handle, &eos)
    }

    /// The first pass's stats, which SVT-AV1 holds until the encoder is closed. The corresponding C function is
    /// `svt_av1_enc_get_stream_info` (SVT_AV1_STREAM_INFO_FIRST_PASS_STATS_OUT).
    private func copyFirstPassStats() throws -> [UInt8] {
        var info = SvtAv1FixedBuf()
        let r = svt_av1_enc_get_stream_info(handle, UInt32(SVT_AV1_STREAM_INFO_FIRST_PASS_STATS_OUT.rawValue), &info)
        guard r == EB_ErrorNone, let buf = info.buf, info.sz > 0 else {
            throw CodecError.svtAv1(r, "svt_av1_enc_get_stream_info", .encoder, "SVT-AV1's first pass gave no stats (\(SvtAv1Status(r).text)); the chunk will be re-encoded")
        }
        return Array(UnsafeRawBufferPointer(start: buf, count: Int(info.sz)))
    }

    private func drain(done: Swift.Bool, _ output: (EncodedPacket) throws -> Void) throws {
        while true {
            var pkt: UnsafeMutablePointer<EbBufferHeaderType>? = nil
            let r = svt_av1_enc_get_packet(handle, &pkt, done ? 1 : 0)
            if r == EB_NoErrorEmptyQueue { return }
            guard r == EB_ErrorNone, pkt != nil else {
                throw CodecError.svtAv1(r, "svt_av1_enc_get_packet", .encoder, "SVT-AV1 failed while encoding (\(SvtAv1Status(r).text))")
            }
            let flags = pkt!.pointee.flags
            if (flags & UInt32(EB_BUFFERFLAG_ERROR_MASK)) != 0 {
                svt_av1_enc_release_out_buffer(&pkt)
                throw CodecError(.svtAv1PacketError, "svt_av1_enc_get_packet", .encoder, "SVT-AV1 reported an encode error")
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
            if eos {
                if pass == 1 { firstPassStats = try copyFirstPassStats() }
                // The middle pass refines the stats it was given where they lie (as SvtAv1EncApp's combined passes
                // rely on).
                if pass == 2, let statsBuffer {
                    firstPassStats = Array(statsBuffer)
                }
                return
            }
        }
    }
}
