import CSceneKernels
import EncodaFFmpeg
import EncodaModel

/// The scene pass's measurement of one frame: its luma downscaled to the analysis plane (`ScenePass.analysisWidth`)
/// and the mean absolute difference from the frame measured before it, in percent of full scale.
final class LumaChangeMeter {
    let width: Int, height: Int
    private var planes: [[UInt8]]
    private var current = 0
    private var hasPrevious = false
    private let scaler: Scaler
    private var colsum: [UInt32] = []
    /// The gain of the last frame measured (see `ScenePass.lumaGain`).
    private(set) var lastGain = 1.0

    init(sourceWidth: Int, sourceHeight: Int) {
        width = ScenePass.analysisWidth
        height = max(2, Int((Double(sourceHeight) * Double(width) / Double(sourceWidth)).rounded()) & ~1)
        planes = [[UInt8]](repeating: [UInt8](repeating: 0, count: width * height), count: 2)
        scaler = Scaler(width: width, height: height, format: .gray8, flags: .area)
    }

    /// Forgets the frame before: the next frame measured starts afresh (a span of frames not next to the last).
    func reset() { hasPrevious = false }

    /// The change of `f` from the frame measured before it; 0 for the first frame (or the first after `reset`).
    func measure(_ f: Frame) throws -> Double {
        // Downscale luma into the current analysis plane: straight from the decoder's 8-bit luma plane when
        // there is one (no conversion, no copy), through libswscale for anything else.
        var gain = 1.0
        let aw = width, ah = height
        if colsum.count < f.width { colsum = [UInt32](repeating: 0, count: f.width) }
        let plain: Void? = ScenePass.hasPlainLuma(f.pixelFormat) ? f.withPlanes(1) { luma, strides in
            planes[current].withUnsafeMutableBufferPointer { dst in
                colsum.withUnsafeMutableBufferPointer { scratch in
                    encoda_luma_downscale(luma[0], Int32(strides[0]), Int32(f.width), Int32(f.height), dst.baseAddress, Int32(aw), Int32(ah), scratch.baseAddress)
                }
            }
        } : nil
        if plain != nil {
            gain = ScenePass.lumaGain(f.pixelFormat)
        } else {
            let converted = planes[current].withUnsafeMutableBufferPointer { scaler.scale(f, intoPlane: $0.baseAddress!) }
            guard converted else {
                throw EncodaError(.inputUnsupported, "INPUT frames in pixel format \(f.pixelFormat.rawValue) cannot be converted for analysis")
            }
        }
        var change = 0.0
        if hasPrevious {
            change = Self.change(from: planes[1 - current], to: planes[current], width: aw, height: ah, gain: gain)
        }
        lastGain = gain
        current = 1 - current
        hasPrevious = true
        return change
    }

    /// The analysis plane of the frame measured last (`width` x `height`, 8-bit).
    var lastPlane: [UInt8] { planes[1 - current] }

    /// The change from the analysis plane `before` to `after` (both `width` x `height`), in percent of full scale,
    /// with `after`'s gain: what `measure` returns for a frame whose predecessor's plane was `before`. It lets the
    /// change at a boundary between two separately decoded pieces of INPUT be computed from their edge planes.
    static func change(from before: [UInt8], to after: [UInt8], width: Int, height: Int, gain: Double) -> Double {
        let mad = after.withUnsafeBufferPointer { a in
            before.withUnsafeBufferPointer { b in
                encoda_plane_mad(a.baseAddress, Int32(width), b.baseAddress, Int32(width), Int32(width), Int32(height))
            }
        }
        return mad * gain * 100.0 / 255.0
    }
}
