import CFFmpeg
import EncodaModel

/// Hands decoded frames to the encoder in its pixel format and picture size: the decoder's own planes when the
/// format and size already match (no copy; a crop only moves the plane pointers), otherwise one conversion
/// (pixel format and/or scale, through `Scaler`) into a reused buffer.
final class PictureConverter {
    private let target: AVPixelFormat
    private let scaler: Scaler
    private let buffer = Frame()
    private let width: Int
    private let height: Int
    private let crop: CropRect?

    /// - Parameters:
    ///   - width, height: the encoder's picture size (after crop and scale).
    ///   - crop: the source area to take, or nil for the whole frame.
    ///   - colour: matrices and ranges when a conversion is needed (see `ColourConversion`).
    init(pixelFormat: String, width: Int, height: Int, crop: CropRect? = nil, colour: ColourConversion? = nil) {
        target = pixelFormat == "yuv420p10le" ? AV_PIX_FMT_YUV420P10LE : AV_PIX_FMT_YUV420P
        self.width = width
        self.height = height
        self.crop = crop
        scaler = Scaler(width: width, height: height, format: target, flags: SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                        colour: colour)
    }

    /// Narrows the frame to the crop area by moving its plane pointers (exact, unaligned offsets).
    /// The corresponding C function is `av_frame_apply_cropping`.
    private func applyCrop(_ f: Frame) throws {
        guard let c = crop else { return }
        let fw = f.width, fh = f.height
        guard c.right <= fw, c.bottom <= fh else {
            throw EncodaError(.inputUnsupported, "a decoded frame is \(fw)x\(fh), too small for the crop \(c) (W:H:X:Y); the input changes size")
        }
        f.pointer.pointee.crop_left = Int(c.x)
        f.pointer.pointee.crop_top = Int(c.y)
        f.pointer.pointee.crop_right = Int(fw - c.right)
        f.pointer.pointee.crop_bottom = Int(fh - c.bottom)
        try check(av_frame_apply_cropping(f.pointer, Int32(AV_FRAME_CROP_UNALIGNED)), .inputUnsupported,
                  "cropping a decoded frame to \(c) failed")
        guard f.width == c.width, f.height == c.height else {
            throw EncodaError(.internalError, "cropping gave \(f.width)x\(f.height), expected \(c.width)x\(c.height)")
        }
    }

    private func directlyUsable(_ f: Frame) -> Bool {
        guard f.width == width, f.height == height else { return false }
        if f.format == target { return true }
        return target == AV_PIX_FMT_YUV420P && f.format == AV_PIX_FMT_YUVJ420P
    }

    func withPicture<T>(_ f: Frame, _ body: (PictureRef) throws -> T) throws -> T {
        try applyCrop(f)
        var src = f
        if !directlyUsable(f) {
            if buffer.pointer.pointee.data.0 == nil {
                buffer.pointer.pointee.format = target.rawValue
                buffer.pointer.pointee.width = Int32(width)
                buffer.pointer.pointee.height = Int32(height)
                try check(av_frame_get_buffer(buffer.pointer, 0), .internalError, "allocating a conversion frame failed")
            }
            guard scaler.scale(f, into: buffer) else {
                throw EncodaError(.inputUnsupported, "cannot convert INPUT's pixel format for the encoder")
            }
            src = buffer
        }
        guard let y = src.plane(0), let u = src.plane(1), let v = src.plane(2) else {
            throw EncodaError(.inputDamaged, "a decoded frame has no picture data")
        }
        return try body(PictureRef(planes: (y, u, v), strides: (src.stride(0), src.stride(1), src.stride(2)), width: width, height: height))
    }
}
