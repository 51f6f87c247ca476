import CFFmpeg
import EncodaModel

/// Measures the non-black area of frames the scene pass decodes anyway, on every `step`-th frame, so that
/// `--autocrop` needs no pass of its own. Frames are converted to full-size 8-bit grey (any pixel format,
/// any bit depth) and scanned inward from each edge. The corresponding C type is `SwsContext`.
final class BorderSampler {
    /// A sample brighter than this (8-bit scale; limited-range black is 16) counts as picture.
    static let blackLevel: Int32 = 32
    /// Roughly how many frames to measure across the whole video.
    static let targetSamples = 120

    let width: Int
    let height: Int
    let step: Int
    private var scaler: OpaquePointer?
    private var scalerKey: (Int32, Int32, Int32) = (0, 0, -1)
    /// Grey copy for formats without a plain 8-bit luma plane; allocated on first use.
    private var plane: [UInt8] = []
    private(set) var frames: [Int] = []
    private(set) var areas: [CropRect?] = []

    /// - Parameter expectedFrames: the container's frame count or an estimate from the duration; 0 when unknown.
    init(width: Int, height: Int, expectedFrames: Int) {
        self.width = width
        self.height = height
        step = expectedFrames > 0 ? max(1, expectedFrames / Self.targetSamples) : 12
    }
    deinit { sws_freeContext(scaler) }

    /// Measures frame number `n` when it is one of the sampled frames.
    func offer(_ f: Frame, number n: Int) throws {
        guard n % step == 0 else { return }
        guard f.width == width, f.height == height else { return } // a size change mid-stream: not measured
        if ScenePass.hasPlainLuma(f.format), let luma = f.plane(0) {
            // The decoder's luma plane is already the grey picture to scan: no conversion.
            var bounds = [Int32](repeating: 0, count: 4)
            // Same threshold as on libswscale's grey, which stretches limited-range luma: 32 there is 43 here.
            let level = ScenePass.isFullRangeLuma(f.format) ? Self.blackLevel : Int32((16 + Double(Self.blackLevel) * 219 / 255).rounded(.down))
            let found = encoda_picture_bounds(luma, Int32(f.stride(0)), Int32(width), Int32(height), level, &bounds)
            record(n, found: found, bounds)
            return
        }
        let key = (Int32(f.width), Int32(f.height), f.format.rawValue)
        if scaler == nil || key != scalerKey {
            sws_freeContext(scaler)
            scaler = sws_getContext(key.0, key.1, f.format, Int32(width), Int32(height), AV_PIX_FMT_GRAY8, SWS_POINT, nil, nil, nil)
            scalerKey = key
            guard scaler != nil else { return } // cannot convert: leave the frame unmeasured
        }
        let w = width, h = height
        if plane.isEmpty { plane = [UInt8](repeating: 0, count: w * h) }
        var bounds = [Int32](repeating: 0, count: 4)
        let found = plane.withUnsafeMutableBufferPointer { dst -> Int32 in
            var dstData: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(w), 0, 0, 0]
            withUnsafePointer(to: f.pointer.pointee.data) { srcData in
                withUnsafePointer(to: f.pointer.pointee.linesize) { srcStride in
                    srcData.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { sd in
                        srcStride.withMemoryRebound(to: Int32.self, capacity: 8) { ss in
                            _ = sws_scale(scaler, sd, ss, 0, key.1, &dstData, &dstStride)
                        }
                    }
                }
            }
            return encoda_picture_bounds(dst.baseAddress, Int32(w), Int32(w), Int32(h), Self.blackLevel, &bounds)
        }
        record(n, found: found, bounds)
    }

    private func record(_ n: Int, found: Int32, _ bounds: [Int32]) {
        frames.append(n)
        areas.append(found != 0 ? CropRect(width: Int(bounds[2]), height: Int(bounds[3]), x: Int(bounds[0]), y: Int(bounds[1])) : nil)
    }

    var analysis: CropAnalysis { CropAnalysis(width: width, height: height, frames: frames, areas: areas) }
}
