internal import CFFmpeg

/// libswscale's algorithm and accuracy flags (`SWS_*`).
public struct ScalerFlags: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let point = ScalerFlags(rawValue: SWS_POINT)
    public static let area = ScalerFlags(rawValue: SWS_AREA)
    public static let bicubic = ScalerFlags(rawValue: SWS_BICUBIC)
    public static let accurateRounding = ScalerFlags(rawValue: SWS_ACCURATE_RND)
    /// Full chroma interpolation (`SWS_FULL_CHR_H_INT`).
    public static let fullChroma = ScalerFlags(rawValue: SWS_FULL_CHR_H_INT)
}

/// The matrices and ranges of a conversion (`sws_setColorspaceDetails`): the source's matrix (`AVColorSpace`;
/// nil: libswscale's default) and range, the target's matrix and range.
public struct ScalerColour: Sendable {
    public var sourceMatrix: Int32?
    public var sourceFullRange: Bool
    public var matrix: Int32?
    public var fullRange: Bool
    public init(sourceMatrix: Int32?, sourceFullRange: Bool, matrix: Int32?, fullRange: Bool) {
        self.sourceMatrix = sourceMatrix; self.sourceFullRange = sourceFullRange; self.matrix = matrix; self.fullRange = fullRange
    }

    func configure(_ context: OpaquePointer) {
        _ = sws_setColorspaceDetails(context, sws_getCoefficients(sourceMatrix ?? SWS_CS_DEFAULT), sourceFullRange ? 1 : 0,
                                     sws_getCoefficients(matrix ?? SWS_CS_DEFAULT), fullRange ? 1 : 0, 0, 1 << 16, 1 << 16)
    }
}

/// Converts decoded frames to one pixel format and size. Keeps its conversion context across frames and rebuilds
/// it only when the source's size or pixel format changes. The corresponding C type is `SwsContext`.
public final class Scaler {
    public let width: Int
    public let height: Int
    public let format: LibavPixelFormat
    private let flags: ScalerFlags
    private var context: OpaquePointer?
    /// The source the context was made for: size, pixel format, and (for a colour read from each frame) the
    /// frame's matrix and range.
    private var source: (Int32, Int32, Int32, Int32, Int32) = (0, 0, -1, -1, -1)
    /// Matrices and ranges of the conversion; nil: libswscale's defaults (fine for analysis planes).
    private let colour: ScalerColour?
    /// Set when the colour is the frame's own (matrix and range read from each source frame).
    private let colourOfFrame: ((Frame) -> ScalerColour)?

    public init(width: Int, height: Int, format: LibavPixelFormat, flags: ScalerFlags, colour: ScalerColour? = nil) {
        self.width = width; self.height = height; self.format = format; self.flags = flags; self.colour = colour
        colourOfFrame = nil
    }

    /// A scaler whose conversion is set up with the colour `colour` gives for the first frame of each new source.
    public init(width: Int, height: Int, format: LibavPixelFormat, flags: ScalerFlags, colour: @escaping (Frame) -> ScalerColour) {
        self.width = width; self.height = height; self.format = format; self.flags = flags; self.colour = nil
        colourOfFrame = colour
    }
    deinit { sws_freeContext(context) }

    /// Converts `f` into the planes `dst` with line sizes `strides` (up to four of each). Returns false when
    /// libswscale cannot convert from this source format. The corresponding C function is `sws_scale`.
    public func scale(_ f: Frame, into dst: [UnsafeMutablePointer<UInt8>?], strides: [Int32]) -> Bool {
        let tagged = colourOfFrame != nil
        let key = (Int32(f.width), Int32(f.height), f.pixelFormat.rawValue, tagged ? f.colorMatrix : -1, tagged ? f.colorRange : -1)
        if context == nil || key != source {
            sws_freeContext(context)
            context = sws_getContext(key.0, key.1, f.pixelFormat.av, Int32(width), Int32(height), format.av, flags.rawValue, nil, nil, nil)
            source = key
            guard let context else { return false }
            (colour ?? colourOfFrame?(f))?.configure(context)
        }
        let src: [UnsafePointer<UInt8>?] = (0..<4).map { f.plane($0).map { UnsafePointer($0) } }
        let srcStrides: [Int32] = (0..<4).map { Int32(f.stride($0)) }
        let dstData = dst + Array(repeating: nil, count: max(0, 4 - dst.count))
        let dstStrides = strides + Array(repeating: 0, count: max(0, 4 - strides.count))
        _ = sws_scale(context, src, srcStrides, 0, key.1, dstData, dstStrides)
        return true
    }

    /// Converts `f` into a single 8-bit plane of `width` × `height` bytes (for `.gray8`).
    public func scale(_ f: Frame, intoPlane plane: UnsafeMutablePointer<UInt8>) -> Bool {
        scale(f, into: [plane], strides: [Int32(width)])
    }

    /// Converts `f` into `frame`'s buffers (allocated for this scaler's format and size).
    public func scale(_ f: Frame, into frame: Frame) -> Bool {
        scale(f, into: (0..<4).map { frame.plane($0) }, strides: (0..<4).map { Int32(frame.stride($0)) })
    }

    /// Converts `f` into `buffer`, packed with alignment 1 in this scaler's format and size (`bufferSize`
    /// bytes). The corresponding C function is `av_image_fill_arrays`.
    public func scale(_ f: Frame, intoPacked buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var data: [UnsafeMutablePointer<UInt8>?] = [nil, nil, nil, nil]
        var lines: [Int32] = [0, 0, 0, 0]
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self),
              av_image_fill_arrays(&data, &lines, base, format.av, Int32(width), Int32(height), 1) >= 0 else { return false }
        return scale(f, into: data, strides: lines)
    }
}
