import CFFmpeg
import EncodaModel

/// Hands decoded frames to the encoder in its pixel format and picture size: the decoder's own planes when the
/// format and size already match (no copy; a crop only moves the plane pointers), otherwise one conversion
/// (pixel format and/or scale, through `Scaler`) into a reused buffer. Planar RGB goes in libav's plane order,
/// G, B, R: the order of H.264's GBR coding (Y = G, Cb = B, Cr = R).
final class PictureConverter {
    private let format: PixelFormat
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
    init(pixelFormat: PixelFormat, width: Int, height: Int, crop: CropRect? = nil, colour: ColourConversion? = nil) {
        format = pixelFormat
        target = pixelFormat.av
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
        return f.format == target || f.format == format.fullRangeTwin
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
