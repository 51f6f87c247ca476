import EncodaFFmpeg
import EncodaModel

/// Turns decoded frames of any pixel format into the gamma-encoded sRGB pictures SSIMULACRA 2 reads, with libswscale:
/// YUV is converted with the frame's own matrix (BT.601 when untagged, as ffmpeg does) and range (limited when
/// untagged, full for the JPEG formats), chroma upsampled bicubically at full resolution; frames deeper than 8 bits
/// go through 16-bit RGB so no precision is lost. Primaries and transfer are taken as sRGB's (BT.709 primaries).
/// The corresponding C type is `SwsContext`.
final class SRGBConverter {
    private var scaler: Scaler?
    private var buffer: [UInt8] = []

    /// The frame's own matrix (libswscale's default, BT.601, when untagged) and range, to full-range RGB.
    private static func colour(of f: Frame) -> ScalerColour {
        let full = ColourConversion.fullRangeYUVFormats.contains(f.pixelFormat) || f.colorRange == Int32(ColourConversion.fullRange)
        return ScalerColour(sourceMatrix: f.colorMatrix == unspecifiedMatrix ? nil : f.colorMatrix, sourceFullRange: full,
                            matrix: nil, fullRange: true)
    }
    /// AVCOL_SPC_UNSPECIFIED.
    private static let unspecifiedMatrix: Int32 = 2

    func image(_ frame: Frame) throws -> SRGBImage {
        let w = frame.width, h = frame.height
        let deep = (frame.pixelFormat.descriptor?.depth ?? 8) > 8
        let target: LibavPixelFormat = deep ? .rgb48le : .rgb24
        if let s = scaler, s.width == w, s.height == h, s.format == target {} else {
            scaler = Scaler(width: w, height: h, format: target, flags: [.bicubic, .fullChroma, .accurateRounding], colour: Self.colour)
        }
        let scaler = scaler!
        let bytesPerSample = deep ? 2 : 1
        let stride = w * 3 * bytesPerSample
        if buffer.count != stride * h { buffer = [UInt8](repeating: 0, count: stride * h) }
        var pixels = [Float](repeating: 0, count: w * h * 3)
        try buffer.withUnsafeMutableBufferPointer { out in
            guard scaler.scale(frame, into: [out.baseAddress], strides: [Int32(stride)]) else {
                let name = frame.pixelFormat.name ?? "unknown"
                throw EncodaError(.inputUnsupported, "frames in pixel format \(name) cannot be converted to RGB for scoring; convert the file first")
            }
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
