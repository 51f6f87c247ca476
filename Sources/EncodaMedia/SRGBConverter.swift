import CFFmpeg
import EncodaModel

/// Turns decoded frames of any pixel format into the gamma-encoded sRGB pictures SSIMULACRA 2 reads, with libswscale:
/// YUV is converted with the frame's own matrix (BT.601 when untagged, as ffmpeg does) and range (limited when
/// untagged, full for the JPEG formats), chroma upsampled bicubically at full resolution; frames deeper than 8 bits
/// go through 16-bit RGB so no precision is lost. Primaries and transfer are taken as sRGB's (BT.709 primaries).
/// The corresponding C type is `SwsContext`.
final class SRGBConverter {
    private var context: OpaquePointer?
    private var source: (Int32, Int32, Int32, Int32, Int32) = (0, 0, -1, -1, -1)
    private var buffer: [UInt8] = []

    deinit { sws_freeContext(context) }

    func image(_ frame: Frame) throws -> SRGBImage {
        let f = frame.pointer.pointee
        let deep = (av_pix_fmt_desc_get(frame.format)?.pointee.comp.0.depth ?? 8) > 8
        let target = deep ? AV_PIX_FMT_RGB48LE : AV_PIX_FMT_RGB24
        let key = (f.width, f.height, f.format, Int32(f.colorspace.rawValue), Int32(f.color_range.rawValue))
        if context == nil || key != source {
            sws_freeContext(context)
            context = sws_getContext(f.width, f.height, frame.format, f.width, f.height, target,
                                     SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND, nil, nil, nil)
            source = key
            guard let context else {
                let name = av_get_pix_fmt_name(frame.format).map { String(cString: $0) } ?? "unknown"
                throw EncodaError(.inputUnsupported, "frames in pixel format \(name) cannot be converted to RGB for scoring; convert the file first")
            }
            let full = ColourConversion.fullRangeYUVFormats.contains(frame.format) || f.color_range == AVCOL_RANGE_JPEG
            let matrix = f.colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : Int32(f.colorspace.rawValue)
            _ = sws_setColorspaceDetails(context, sws_getCoefficients(matrix), full ? 1 : 0,
                                         sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
        }
        let w = frame.width, h = frame.height
        let bytesPerSample = deep ? 2 : 1
        let stride = w * 3 * bytesPerSample
        if buffer.count != stride * h { buffer = [UInt8](repeating: 0, count: stride * h) }
        let src: [UnsafePointer<UInt8>?] = (0..<4).map { frame.plane($0).map { UnsafePointer($0) } }
        let srcStrides: [Int32] = (0..<4).map { Int32(frame.stride($0)) }
        var pixels = [Float](repeating: 0, count: w * h * 3)
        buffer.withUnsafeMutableBufferPointer { out in
            let dst: [UnsafeMutablePointer<UInt8>?] = [out.baseAddress, nil, nil, nil]
            let dstStrides: [Int32] = [Int32(stride), 0, 0, 0]
            _ = sws_scale(context, src, srcStrides, 0, Int32(h), dst, dstStrides)
            pixels.withUnsafeMutableBufferPointer { p in
                if deep {
                    out.withMemoryRebound(to: UInt16.self) { s in
                        for i in 0..<p.count { p[i] = Float(UInt16(littleEndian: s[i])) * (1 / 65535) }
                    }
                } else {
                    for i in 0..<p.count { p[i] = Float(out[i]) * (1 / 255) }
                }
            }
        }
        return SRGBImage(width: w, height: h, pixels: pixels)
    }
}
