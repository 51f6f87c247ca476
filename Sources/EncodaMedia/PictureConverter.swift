import CSceneKernels
import EncodaCodecs
import EncodaFFmpeg
import EncodaModel

/// Hands decoded frames to the encoder in its pixel format and picture size: the decoder's own planes when the
/// format and size already match (no copy; a crop only moves the plane pointers), otherwise one conversion
/// (pixel format and/or scale, through `Scaler`) into a reused buffer. Planar RGB goes in libav's plane order,
/// G, B, R: the order of H.264's GBR coding (Y = G, Cb = B, Cr = R).
final class PictureConverter {
    private let format: PixelFormat
    private let target: LibavPixelFormat
    private let scaler: Scaler
    private let buffer = Frame()
    private let width: Int
    private let height: Int
    private let crop: CropRect?
    /// Clockwise quarter turn applied last (see `Orientation`); `width`x`height` is the turned size, and the
    /// conversion before it makes the stored orientation's size, `storedWidth`x`storedHeight`.
    private let rotation: Int
    private let storedWidth: Int
    private let storedHeight: Int
    private let turned = Frame()

    /// - Parameters:
    ///   - width, height: the encoder's picture size (after crop and scale).
    ///   - crop: the source area to take, or nil for the whole frame.
    ///   - colour: matrices and ranges when a conversion is needed (see `ColourConversion`).
    ///   - rotation: clockwise degrees (0, 90, 180, 270) to turn the picture after conversion.
    init(pixelFormat: PixelFormat, width: Int, height: Int, crop: CropRect? = nil, colour: ColourConversion? = nil, rotation: Int = 0) {
        format = pixelFormat
        target = pixelFormat.av
        self.width = width
        self.height = height
        self.crop = crop
        self.rotation = rotation
        let quarter = rotation == 90 || rotation == 270
        storedWidth = quarter ? height : width
        storedHeight = quarter ? width : height
        scaler = Scaler(width: storedWidth, height: storedHeight, format: target, flags: [.bicubic, .accurateRounding, .fullChroma],
                        colour: colour?.scalerColour)
    }

    /// Narrows the frame to the crop area by moving its plane pointers (exact, unaligned offsets).
    /// The corresponding C function is `av_frame_apply_cropping`.
    private func applyCrop(_ f: Frame) throws {
        guard let c = crop else { return }
        let fw = f.width, fh = f.height
        guard c.right <= fw, c.bottom <= fh else {
            throw EncodaError(.inputUnsupported, "a decoded frame is \(fw)x\(fh), too small for the crop \(c) (W:H:X:Y); the input changes size")
        }
        try check(.inputUnsupported, "cropping a decoded frame to \(c) failed") {
            try f.crop(x: c.x, y: c.y, width: c.width, height: c.height)
        }
        guard f.width == c.width, f.height == c.height else {
            throw EncodaError(.internalError, "cropping gave \(f.width)x\(f.height), expected \(c.width)x\(c.height)")
        }
    }

    private func directlyUsable(_ f: Frame) -> Bool {
        guard f.width == storedWidth, f.height == storedHeight else { return false }
        return f.pixelFormat == target || f.pixelFormat == format.fullRangeTwin
    }

    func withPicture<T>(_ f: Frame, _ body: (PictureRef) throws -> T) throws -> T {
        try withPicture(f) { picture, _ in try body(picture) }
    }

    /// As `withPicture(_:_:)`, also lending the frame that holds the picture (to copy it for scoring).
    func withPicture<T>(_ f: Frame, _ body: (PictureRef, Frame) throws -> T) throws -> T {
        try applyCrop(f)
        var src = f
        if !directlyUsable(f) {
            if !buffer.hasBuffers {
                try check(.internalError, "allocating a conversion frame failed") {
                    try buffer.allocate(format: target, width: storedWidth, height: storedHeight)
                }
            }
            guard scaler.scale(f, into: buffer) else {
                throw EncodaError(.inputUnsupported, "cannot convert INPUT's pixel format for the encoder")
            }
            src = buffer
        }
        if rotation != 0 { src = try turn(src) }
        let source = src
        let result = try source.withPlanes(3) { p, s in
            try body(PictureRef(planes: (p[0], p[1], p[2]), strides: (s[0], s[1], s[2]), width: width, height: height), source)
        }
        guard let result else { throw EncodaError(.inputDamaged, "a decoded frame has no picture data") }
        return result
    }

    /// The picture turned clockwise by `rotation` into a reused buffer, plane by plane: exactly the samples ffmpeg's
    /// autorotate (transpose=clock, transpose=cclock, hflip+vflip) gives, so a lossless encode of a rotated source
    /// matches `ffmpeg -i INPUT -f framemd5`.
    private func turn(_ f: Frame) throws -> Frame {
        guard let desc = target.descriptor else { throw EncodaError(.internalError, "unknown encoder pixel format") }
        let sw = desc.log2ChromaWidth, sh = desc.log2ChromaHeight
        guard rotation == 180 || sw == sh else {
            throw EncodaError(.inputUnsupported, "a quarter turn of \(desc.name) pictures is not possible (unequal chroma subsampling); give --no-autorotate")
        }
        if !turned.hasBuffers {
            try check(.internalError, "allocating a rotation frame failed") {
                try turned.allocate(format: target, width: width, height: height)
            }
        }
        let bytes = desc.step
        for plane in 0..<3 {
            let w = plane == 0 ? f.width : (f.width + (1 << sw) - 1) >> sw
            let h = plane == 0 ? f.height : (f.height + (1 << sh) - 1) >> sh
            let done: Void?? = f.withPlanes(plane + 1) { s, ss in
                turned.withPlanes(plane + 1) { d, ds in
                    encoda_rotate_plane(s[plane], Int32(ss[plane]), Int32(w), Int32(h), Int32(bytes), d[plane], Int32(ds[plane]), Int32(rotation))
                }
            }
            guard done != nil, done! != nil else { throw EncodaError(.inputDamaged, "a decoded frame has no picture data") }
        }
        return turned
    }
}
