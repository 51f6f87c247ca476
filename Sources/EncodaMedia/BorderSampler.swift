import CSceneKernels
import EncodaFFmpeg
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
    private lazy var scaler = Scaler(width: width, height: height, format: .gray8, flags: .point)
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

    /// Measures every `step`-th frame of INPUT (frame numbers that are multiples of it): a segment of INPUT samples
    /// the same frames a pass over the whole file with this step would.
    init(width: Int, height: Int, step: Int) {
        self.width = width; self.height = height; self.step = max(1, step)
    }

    /// The step a file of `frames` frames is sampled with, when its frame count is known exactly.
    static func step(frames: Int) -> Int { max(1, frames / targetSamples) }

    /// Measures frame number `n` when it is one of the sampled frames.
    func offer(_ f: Frame, number n: Int) throws {
        guard n % step == 0 else { return }
        guard f.width == width, f.height == height else { return } // a size change mid-stream: not measured
        // The decoder's luma plane is already the grey picture to scan: no conversion.
        // Same threshold as on libswscale's grey, which stretches limited-range luma: 32 there is 43 here.
        let level = ScenePass.isFullRangeLuma(f.pixelFormat) ? Self.blackLevel : Int32((16 + Double(Self.blackLevel) * 219 / 255).rounded(.down))
        let scanned: (Int32, [Int32])? = ScenePass.hasPlainLuma(f.pixelFormat) ? f.withPlanes(1) { luma, strides in
            var bounds = [Int32](repeating: 0, count: 4)
            let found = encoda_picture_bounds(luma[0], Int32(strides[0]), Int32(width), Int32(height), level, &bounds)
            return (found, bounds)
        } : nil
        if let (found, bounds) = scanned {
            record(n, found: found, bounds)
            return
        }
        let w = width, h = height
        if plane.isEmpty { plane = [UInt8](repeating: 0, count: w * h) }
        var bounds = [Int32](repeating: 0, count: 4)
        let scaler = self.scaler
        var found: Int32 = 0
        let converted = plane.withUnsafeMutableBufferPointer { dst -> Bool in
            guard scaler.scale(f, intoPlane: dst.baseAddress!) else { return false }
            found = encoda_picture_bounds(dst.baseAddress, Int32(w), Int32(w), Int32(h), Self.blackLevel, &bounds)
            return true
        }
        guard converted else { return } // cannot convert: leave the frame unmeasured
        record(n, found: found, bounds)
    }

    private func record(_ n: Int, found: Int32, _ bounds: [Int32]) {
        frames.append(n)
        areas.append(found != 0 ? CropRect(width: Int(bounds[2]), height: Int(bounds[3]), x: Int(bounds[0]), y: Int(bounds[1])) : nil)
    }

    var analysis: CropAnalysis { CropAnalysis(width: width, height: height, frames: frames, areas: areas) }
}
