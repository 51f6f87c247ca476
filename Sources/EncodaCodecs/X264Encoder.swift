internal import CX264
import EncodaModel
import Foundation

/// x264 through its C API. The corresponding C type is `x264_t` (x264_encoder_open).
final class X264Encoder: VideoEncoder {
    private var handle: OpaquePointer?
    private(set) var extradata: [UInt8] = []
    private var picture = x264_picture_t()
    private let highDepth: Bool

    static var libraryVersion: String { "\(encoda_x264_build())" }

    /// Where this encoder's log lines go (x264 keeps the pointer); freed after the encoder is closed.
    private let log: UnsafeMutablePointer<encoda_x264_log>

    /// `diagnose`: when x264 refuses the configuration, find which --encoder-params item caused it (the plan step).
    init(_ c: EncoderConfiguration, diagnose: Bool = false) throws {
        let s = c.settings
        highDepth = s.bitDepth > 8
        log = .allocate(capacity: 1)
        log.initialize(to: encoda_x264_log())
        log.pointee.print_level = EncoderLogging.x264Level
        log.pointee.sink = EncoderLogging.x264Line
        // From here on, a throw runs deinit, which frees `log`.
        let params = try EncoderParams.parse(s.encoderParams)
        var p = x264_param_t()
        try Self.configure(&p, c, params, log: log)
        // Errors while opening become part of the message instead of log lines.
        log.pointee.collect_errors = 1
        let opened = encoda_x264_encoder_open(&p)
        log.pointee.collect_errors = 0
        guard let h = opened else {
            let reasons = withUnsafeBytes(of: &log.pointee.errors) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            throw Self.configurationError(c, params, reasons: reasons, culprit: diagnose ? Self.culprit(c, params) : nil)
        }
        handle = h
        var nals: UnsafeMutablePointer<x264_nal_t>? = nil
        var count: Int32 = 0
        var headers: [UInt8] = []
        if x264_encoder_headers(h, &nals, &count) >= 0, let nals {
            for i in 0..<Int(count) {
                headers.append(contentsOf: UnsafeBufferPointer(start: nals[i].p_payload, count: Int(nals[i].i_payload)))
            }
        }
        guard let units = AVCConfiguration.nalUnits(headers),
              let record = AVCConfiguration.record(nalUnits: units, chromaFormat: s.pixelFormat.chromaFormatIDC, bitDepth: s.bitDepth) else {
            x264_encoder_close(h)
            handle = nil
            throw CodecError(.x264InvalidHeaders, "x264_encoder_headers", .encoder, "x264 returned parameter sets that do not form an avcC record; this is a bug, please report it")
        }
        extradata = record
        x264_picture_init(&picture)
        picture.img.i_csp = p.i_csp
        picture.img.i_plane = 3
    }

    /// encoda's settings, then the --encoder-params items (`params`, in order; they may override encoda's).
    private static func configure(_ p: inout x264_param_t, _ c: EncoderConfiguration, _ params: some Collection<EncoderParam>,
                                  log: UnsafeMutablePointer<encoda_x264_log>) throws {
        let s = c.settings
        guard x264_param_default_preset(&p, s.preset, nil) == 0 else {
            throw CodecError(.x264UnknownPreset, "x264_param_default_preset", .usage, "x264 does not know --preset \(s.preset)")
        }
        p.i_bitdepth = Int32(s.bitDepth)
        p.i_csp = s.pixelFormat.x264CSP
        p.i_width = Int32(c.width)
        p.i_height = Int32(c.height)
        p.i_fps_num = UInt32(c.video.frameRate.num)
        p.i_fps_den = UInt32(c.video.frameRate.den)
        p.i_timebase_num = UInt32(c.video.frameRate.den)
        p.i_timebase_den = UInt32(c.video.frameRate.num)
        p.b_vfr_input = 0
        p.i_threads = Int32(max(1, c.threads))
        // x264's own lines at encoda's level (warnings, or errors only with --quiet), never its info lines.
        encoda_x264_set_log(&p, log)
        // Length-prefixed NAL units with an avcC record (see AVCConfiguration): what MP4 and Matroska store, so
        // the join copies packets as they are. SPS/PPS are still repeated at every keyframe, so each chunk
        // decodes on its own.
        p.b_annexb = 0
        p.b_repeat_headers = 1
        p.vui.i_sar_width = Int32(c.video.sampleAspectRatio.num)
        p.vui.i_sar_height = Int32(c.video.sampleAspectRatio.den)
        p.vui.i_colorprim = Int32(c.video.colorPrimaries)
        p.vui.i_transfer = Int32(c.video.colorTransfer)
        p.vui.i_colmatrix = Int32(c.video.colorMatrix)
        if c.video.chromaLocation > 0 { p.vui.i_chroma_loc = Int32(c.video.chromaLocation - 1) }
        Self.applySourceMetadata(&p, c.video)
        if s.lossless {
            p.rc.i_rc_method = X264_RC_CQP
            p.rc.i_qp_constant = 0
        } else {
            try Self.applyRateControl(&p, c)
        }
        // Interlaced source: coded interlaced (MBAFF) in its field order, which goes into the bitstream (the bottom
        // field's picture order count, and each frame's pic_struct in a picture timing SEI; see `encode`).
        if let fields = c.video.interlacing {
            p.b_interlaced = 1
            p.b_tff = fields.topFieldFirst ? 1 : 0
            p.b_pic_struct = 1
        }
        for item in params {
            let r = x264_param_parse(&p, item.key, item.value)
            if r == 0 { continue }
            let written = item.written == item.description ? item.written : "\(item.written) (read as \(item.description))"
            if r == X264_PARAM_BAD_NAME {
                throw CodecError(.x264UnknownOption, "x264_param_parse", .usage, "--encoder-params \(written): x264 has no option named \(item.key); see x264 --fullhelp for the names, written key=value (e.g. bframes=5)")
            }
            throw CodecError(.x264BadOptionValue, "x264_param_parse", .usage, "--encoder-params \(written): x264 cannot use the value \(item.value) for \(item.key); see x264 --fullhelp for its values")
        }
        applyFirstPass(&p, c)
        // Lossless coding needs High 4:4:4 Predictive whatever the chroma, which x264 picks itself.
        if !s.lossless { _ = x264_param_apply_profile(&p, s.pixelFormat.x264Profile) }
    }

    // MARK: Rate control: CRF, ABR at the chunk's rate (one or two passes), VBV.

    /// Constant quality, or ABR at the chunk's share of --bitrate; VBV from --max-bitrate and --bufsize (with either).
    /// With --two-pass, pass 1 writes x264's stats (and its macroblock-tree file beside them) to `statsPath` at the
    /// faster first-pass settings x264 recommends, and pass 2 reads them.
    private static func applyRateControl(_ p: inout x264_param_t, _ c: EncoderConfiguration) throws {
        let s = c.settings
        if let rate = c.bitRate {
            p.rc.i_rc_method = X264_RC_ABR
            p.rc.i_bitrate = Int32(max(1, (rate + 500) / 1000))
            // A chunk lasts seconds, so one-pass ABR must correct within them: at x264's default tolerance (1.0)
            // 2 s chunks came out 20 % over the rate, at 0.1 about 3 % (ultrafast; ratetol in --encoder-params wins).
            if c.pass == 0 { p.rc.f_rate_tolerance = 0.1 }
        } else {
            p.rc.i_rc_method = X264_RC_CRF
            p.rc.f_rf_constant = Float(s.crf)
        }
        if let maxRate = s.maxBitRate, let buffer = s.bufferSize {
            p.rc.i_vbv_max_bitrate = Int32(max(1, (maxRate + 500) / 1000))
            p.rc.i_vbv_buffer_size = Int32(max(1, (buffer + 500) / 1000))
            // x264 plans each encode as if the decoder's buffer were 90 % full at its start. A chunk starts where
            // the one before left the buffer, which on hard content is nearly empty: at 0.9 the joined file ran the
            // buffer dry from the first chunk boundary on (92 of 300 frames of a noisy fractal, 442 kb/s against
            // --max-bitrate 300k); at 0.1, none (303 kb/s). vbv-init in --encoder-params still wins.
            p.rc.f_vbv_buffer_init = 0.1
        }
        if c.pass > 0, let stats = c.statsPath {
            // Through x264_param_parse, which keeps its own copy of the path.
            guard x264_param_parse(&p, "stats", stats) == 0, x264_param_parse(&p, "pass", String(c.pass)) == 0 else {
                throw CodecError(.x264StatsRejected, "x264_param_parse", .encoder, "x264 did not take the two-pass stats file \(stats)")
            }
        }
    }

    /// Pass 1 of --two-pass at x264's faster first-pass settings (after the preset and --encoder-params).
    private static func applyFirstPass(_ p: inout x264_param_t, _ c: EncoderConfiguration) {
        if c.pass == 1 { x264_param_apply_fastfirstpass(&p) }
    }

    // MARK: Source metadata (range, HDR10): kept apart from the other settings.

    /// The range flag and HDR10 static metadata (SEI messages) from the source's facts.
    private static func applySourceMetadata(_ p: inout x264_param_t, _ v: VideoFacts) {
        // Explicit, never x264's automatic choice (-1). x264 writes the VUI signal type only when the range is full
        // or a colour description or video format is set; a limited-range source without them is then tagged
        // limited by the container (MP4/MOV colr, Matroska Range), which the Muxer fills from the same facts.
        p.vui.b_fullrange = v.colorRange == 2 ? 1 : 0
        if let md = v.masteringDisplay {
            // Same units as x264's: chromaticity in 0.00002, luminance in 0.0001 cd/m².
            p.mastering_display.b_mastering_display = 1
            p.mastering_display.i_green_x = Int32(md.green[0]); p.mastering_display.i_green_y = Int32(md.green[1])
            p.mastering_display.i_blue_x = Int32(md.blue[0]); p.mastering_display.i_blue_y = Int32(md.blue[1])
            p.mastering_display.i_red_x = Int32(md.red[0]); p.mastering_display.i_red_y = Int32(md.red[1])
            p.mastering_display.i_white_x = Int32(md.whitePoint[0]); p.mastering_display.i_white_y = Int32(md.whitePoint[1])
            p.mastering_display.i_display_max = Int64(md.maxLuminance)
            p.mastering_display.i_display_min = Int64(md.minLuminance)
        }
        if let cll = v.contentLightLevel {
            p.content_light_level.b_cll = 1
            p.content_light_level.i_max_cll = Int32(cll.maxCLL)
            p.content_light_level.i_max_fall = Int32(cll.maxFALL)
        }
    }

    /// The index of the first --encoder-params item with which x264 cannot open (-1: encoda's own settings fail
    /// already); nil when it cannot be told.
    private static func culprit(_ c: EncoderConfiguration, _ params: [EncoderParam]) -> Int? {
        let log = UnsafeMutablePointer<encoda_x264_log>.allocate(capacity: 1)
        defer { log.deallocate() }
        for k in 0...params.count {
            log.initialize(to: encoda_x264_log())
            log.pointee.collect_errors = 1
            var p = x264_param_t()
            guard (try? configure(&p, c, params.prefix(k), log: log)) != nil else { return nil }
            guard let h = encoda_x264_encoder_open(&p) else { return k - 1 }
            x264_encoder_close(h)
        }
        return nil
    }

    private static func configurationError(_ c: EncoderConfiguration, _ params: [EncoderParam], reasons: String, culprit: Int?) -> CodecError {
        let s = c.settings
        let why = reasons.isEmpty ? "" : ": " + reasons
        let own = "preset \(s.preset), \(s.lossless ? "lossless" : "crf \(s.crf)"), \(s.pixelFormat), \(c.width)x\(c.height)"
        if let k = culprit, k >= 0 {
            let p = params[k]
            let item = p.written == p.description ? p.written : "\(p.written) (read as \(p.description))"
            return CodecError(.x264OpenFailed, "x264_encoder_open", .usage, "--encoder-params \(item): x264 refused it\(why); change or remove \(p.key)")
        }
        if culprit == -1 || params.isEmpty {
            return CodecError(.x264OpenFailed, "x264_encoder_open", .encoder, "x264 refused the configuration encoda made (\(own))\(why)")
        }
        return CodecError(.x264OpenFailed, "x264_encoder_open", .usage, "x264 refused the configuration\(why); check --encoder-params \(EncoderParams.canonical(params))")
    }

    deinit {
        if let handle { x264_encoder_close(handle) }
        log.deallocate()
    }

    func encode(_ pic: PictureRef, pts: Int64, forceKeyframe: Bool, output: (EncodedPacket) throws -> Void) throws {
        picture.img.plane.0 = pic.planes.0
        picture.img.plane.1 = pic.planes.1
        picture.img.plane.2 = pic.planes.2
        picture.img.i_stride.0 = Int32(pic.strides.0)
        picture.img.i_stride.1 = Int32(pic.strides.1)
        picture.img.i_stride.2 = Int32(pic.strides.2)
        picture.i_pts = pts
        picture.i_type = forceKeyframe ? X264_TYPE_IDR : X264_TYPE_AUTO
        // Interlaced stream: a frame the source flags progressive keeps that flag; the others get the field order.
        picture.i_pic_struct = Int32(pic.progressiveFrame ? PIC_STRUCT_PROGRESSIVE.rawValue : PIC_STRUCT_AUTO.rawValue)
        try CodecError.reported { try call(&picture, output) }
    }

    func finish(output: (EncodedPacket) throws -> Void) throws {
        try CodecError.reported {
            while x264_encoder_delayed_frames(handle) > 0 {
                try call(nil, output)
            }
        }
    }

    private func call(_ input: UnsafeMutablePointer<x264_picture_t>?, _ output: (EncodedPacket) throws -> Void) throws {
        var nals: UnsafeMutablePointer<x264_nal_t>? = nil
        var count: Int32 = 0
        var out = x264_picture_t()
        let size = x264_encoder_encode(handle, &nals, &count, input, &out)
        if size < 0 { throw CodecError(.x264EncodeFailed, "x264_encoder_encode", .encoder, "x264 failed while encoding a frame") }
        if size > 0, let nals {
            // The NAL payloads (each behind its length) are contiguous in one buffer starting at the first payload.
            let packet = EncodedPacket(data: UnsafeRawBufferPointer(start: nals[0].p_payload, count: Int(size)),
                                       pts: out.i_pts, dts: out.i_dts, isKey: out.b_keyframe != 0)
            try output(packet)
        }
    }
}

extension PixelFormat {
    /// x264's input colour space for pictures in this format (16-bit samples above 8 bits). Planar RGB is given
    /// as 4:4:4 in G, B, R order, tagged with the GBR matrix (`ColourConversion`, into the VUI), rather than
    /// through x264's packed RGB input, which exists at 8 bits only and which x264 rearranges into the same planes.
    var x264CSP: Int32 {
        let csp = chroma == .c420 ? X264_CSP_I420 : chroma == .c422 ? X264_CSP_I422 : X264_CSP_I444
        return csp | (bitDepth > 8 ? X264_CSP_HIGH_DEPTH : 0)
    }

    /// The least H.264 profile for this format (`x264_param_apply_profile`): High, High 10, High 4:2:2 (8 and 10
    /// bits) or High 4:4:4 Predictive.
    var x264Profile: String {
        chroma == .c444 ? "high444" : chroma == .c422 ? "high422" : bitDepth > 8 ? "high10" : "high"
    }
}
