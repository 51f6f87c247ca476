import CFFmpeg

/// Converts decoded frames to one pixel format and size. Keeps its conversion context across frames and rebuilds
/// it only when the source's size or pixel format changes. The corresponding C type is `SwsContext`.
final class Scaler {
    let width: Int
    let height: Int
    let format: AVPixelFormat
    private let flags: Int32
    private var context: OpaquePointer?
    private var source: (Int32, Int32, Int32) = (0, 0, -1)
    /// Matrices and ranges of the conversion; nil: libswscale's defaults (fine for analysis planes).
    private let colour: ColourConversion?

    init(width: Int, height: Int, format: AVPixelFormat, flags: Int32, colour: ColourConversion? = nil) {
        self.width = width; self.height = height; self.format = format; self.flags = flags; self.colour = colour
    }
    deinit { sws_freeContext(context) }

    /// Converts `f` into the planes `dst` with line sizes `strides` (up to four of each). Returns false when
    /// libswscale cannot convert from this source format. The corresponding C function is `sws_scale`.
    func scale(_ f: Frame, into dst: [UnsafeMutablePointer<UInt8>?], strides: [Int32]) -> Bool {
        let key = (Int32(f.width), Int32(f.height), f.format.rawValue)
        if context == nil || key != source {
            sws_freeContext(context)
            context = sws_getContext(key.0, key.1, f.format, Int32(width), Int32(height), format, flags, nil, nil, nil)
            source = key
            guard let context else { return false }
            colour?.configure(context)
        }
        let src: [UnsafePointer<UInt8>?] = (0..<4).map { f.plane($0).map { UnsafePointer($0) } }
        let srcStrides: [Int32] = (0..<4).map { Int32(f.stride($0)) }
        let dstData = dst + Array(repeating: nil, count: max(0, 4 - dst.count))
        let dstStrides = strides + Array(repeating: 0, count: max(0, 4 - strides.count))
        _ = sws_scale(context, src, srcStrides, 0, key.1, dstData, dstStrides)
        return true
    }

    /// Converts `f` into a single 8-bit plane of `width` × `height` bytes (for `AV_PIX_FMT_GRAY8`).
    func scale(_ f: Frame, intoPlane plane: UnsafeMutablePointer<UInt8>) -> Bool {
        scale(f, into: [plane], strides: [Int32(width)])
    }

    /// Converts `f` into `frame`'s buffers (allocated for this scaler's format and size).
    func scale(_ f: Frame, into frame: Frame) -> Bool {
        scale(f, into: (0..<4).map { frame.plane($0) }, strides: (0..<4).map { Int32(frame.stride($0)) })
    }
}
