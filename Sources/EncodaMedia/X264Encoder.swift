import CX264
import EncodaModel
import Foundation

/// x264 through its C API. The corresponding C type is `x264_t` (x264_encoder_open).
final class X264Encoder: VideoEncoder {
    private var handle: OpaquePointer?
    private(set) var extradata: [UInt8] = []
    private var picture = x264_picture_t()
    private let highDepth: Bool

    static var libraryVersion: String { "\(encoda_x264_build())" }

    init(_ c: EncoderConfiguration) throws {
        var p = x264_param_t()
        let s = c.settings
        guard x264_param_default_preset(&p, s.preset, nil) == 0 else {
            throw EncodaError(.usage, "x264 does not know --preset \(s.preset)")
        }
        highDepth = s.bitDepth > 8
        p.i_bitdepth = Int32(s.bitDepth)
        p.i_csp = X264_CSP_I420 | (highDepth ? X264_CSP_HIGH_DEPTH : 0)
        p.i_width = Int32(c.width)
        p.i_height = Int32(c.height)
        p.i_fps_num = UInt32(c.video.frameRate.num)
        p.i_fps_den = UInt32(c.video.frameRate.den)
        p.i_timebase_num = UInt32(c.video.frameRate.den)
        p.i_timebase_den = UInt32(c.video.frameRate.num)
        p.b_vfr_input = 0
        p.i_threads = Int32(max(1, c.threads))
        p.i_log_level = X264_LOG_NONE
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
        p.vui.b_fullrange = c.video.colorRange == 2 ? 1 : 0
        if c.video.chromaLocation > 0 { p.vui.i_chroma_loc = Int32(c.video.chromaLocation - 1) }
        if s.lossless {
            p.rc.i_rc_method = X264_RC_CQP
            p.rc.i_qp_constant = 0
        } else {
            p.rc.i_rc_method = X264_RC_CRF
            p.rc.f_rf_constant = Float(s.crf)
        }
        for (k, v) in try parseKeyValuePairs(s.encoderParams) {
            if x264_param_parse(&p, k, v) != 0 {
                throw EncodaError(.usage, "x264 does not accept --encoder-params \(k)=\(v); see x264 --fullhelp for option names")
            }
        }
        if !s.lossless && s.bitDepth == 8 { _ = x264_param_apply_profile(&p, "high") }
        guard let h = encoda_x264_encoder_open(&p) else {
            throw EncodaError(.encoder, "x264 rejected the configuration; check --preset, --crf, --pix-fmt and --encoder-params")
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
              let record = AVCConfiguration.record(nalUnits: units, chromaFormat: 1, bitDepth: s.bitDepth) else {
            x264_encoder_close(h)
            handle = nil
            throw EncodaError(.encoder, "x264 returned parameter sets that do not form an avcC record; this is a bug, please report it")
        }
        extradata = record
        x264_picture_init(&picture)
        picture.img.i_csp = p.i_csp
        picture.img.i_plane = 3
    }

    deinit { if let handle { x264_encoder_close(handle) } }

    func encode(_ pic: PictureRef, pts: Int64, forceKeyframe: Bool, output: (EncodedPacket) throws -> Void) throws {
        picture.img.plane.0 = pic.planes.0
        picture.img.plane.1 = pic.planes.1
        picture.img.plane.2 = pic.planes.2
        picture.img.i_stride.0 = Int32(pic.strides.0)
        picture.img.i_stride.1 = Int32(pic.strides.1)
        picture.img.i_stride.2 = Int32(pic.strides.2)
        picture.i_pts = pts
        picture.i_type = forceKeyframe ? X264_TYPE_IDR : X264_TYPE_AUTO
        try call(&picture, output)
    }

    func finish(output: (EncodedPacket) throws -> Void) throws {
        while x264_encoder_delayed_frames(handle) > 0 {
            try call(nil, output)
        }
    }

    private func call(_ input: UnsafeMutablePointer<x264_picture_t>?, _ output: (EncodedPacket) throws -> Void) throws {
        var nals: UnsafeMutablePointer<x264_nal_t>? = nil
        var count: Int32 = 0
        var out = x264_picture_t()
        let size = x264_encoder_encode(handle, &nals, &count, input, &out)
        if size < 0 { throw EncodaError(.encoder, "x264 failed while encoding a frame") }
        if size > 0, let nals {
            // The NAL payloads (each behind its length) are contiguous in one buffer starting at the first payload.
            let packet = EncodedPacket(data: UnsafeRawBufferPointer(start: nals[0].p_payload, count: Int(size)),
                                       pts: out.i_pts, dts: out.i_dts, isKey: out.b_keyframe != 0)
            try output(packet)
        }
    }
}
