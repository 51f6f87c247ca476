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
        if ScenePass.hasPlainLuma(f.pixelFormat), let luma = f.plane(0) {
            gain = ScenePass.lumaGain(f.pixelFormat)
            if colsum.count < f.width { colsum = [UInt32](repeating: 0, count: f.width) }
            planes[current].withUnsafeMutableBufferPointer { dst in
                colsum.withUnsafeMutableBufferPointer { scratch in
                    encoda_luma_downscale(luma, Int32(f.stride(0)), Int32(f.width), Int32(f.height), dst.baseAddress, Int32(aw), Int32(ah), scratch.baseAddress)
                }
            }
        } else {
            let converted = planes[current].withUnsafeMutableBufferPointer { scaler.scale(f, intoPlane: $0.baseAddress!) }
            guard converted else {
                throw EncodaError(.inputUnsupported, "INPUT frames in pixel format \(f.pixelFormat.rawValue) cannot be converted for analysis")
            }
        }
        var change = 0.0
        if hasPrevious {
            let other = 1 - current
            let mad = planes[current].withUnsafeBufferPointer { a in
                planes[other].withUnsafeBufferPointer { b in
                    encoda_plane_mad(a.baseAddress, Int32(aw), b.baseAddress, Int32(aw), Int32(aw), Int32(ah))
                }
            }
            change = mad * gain * 100.0 / 255.0
        }
        current = 1 - current
        hasPrevious = true
        return change
    }
}
