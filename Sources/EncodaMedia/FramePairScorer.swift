import EncodaFFmpeg
import EncodaModel
import Foundation
import Synchronization

/// Scores distorted frames against their reference frames, pair by pair, with one quality metric: SSIMULACRA 2
/// in-process (the pairs are scored on all cores while the caller decodes the next ones), or VMAF by an ffmpeg with
/// libvmaf fed through pipes (`VmafProcess`). Both frames of a pair must have the same size; any pixel format.
/// With `every` K, the frames 0, K, 2K, … of the stream are scored, each as it scores in a run over every frame.
final class FramePairScorer {
    let metric: QualityMetric
    let every: Int
    private var vmaf: VmafProcess?
    private let vmafFFmpeg: String?
    private var vmafScalers: (distorted: Scaler, reference: Scaler)?
    private var vmafBuffers: (distorted: [UInt8], reference: [UInt8]) = ([], [])
    private let distortedRGB = SRGBConverter()
    private let referenceRGB = SRGBConverter()
    private var size: (width: Int, height: Int)?
    private var count = 0

    // SSIMULACRA 2: scores land in `results` by index, computed on `queue`, at most `slots` pairs at a time.
    private let queue = DispatchQueue(label: "encoda.ssimulacra2", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots = DispatchSemaphore(value: max(1, ProcessInfo.processInfo.activeProcessorCount))
    private let results = ScoreList()

    /// - Parameters:
    ///   - vmafFFmpeg: the ffmpeg with libvmaf for `.vmaf` (`VmafFFmpeg.locate` finds one when nil).
    ///   - every: score frames 0, K, 2K, … of the stream (1: all).
    init(metric: QualityMetric, vmafFFmpeg: String?, every: Int = 1) throws {
        self.metric = metric
        self.every = max(1, every)
        self.vmafFFmpeg = metric == .vmaf ? try VmafFFmpeg.locate(explicit: vmafFFmpeg) : vmafFFmpeg
    }

    deinit { group.wait() }

    /// Whether frame `n` of the stream (every frame counted from 0) is to be added. SSIMULACRA 2 scores each pair on
    /// its own: only the scored frames. VMAF's motion feature compares each frame with the one before it, so it
    /// sees every frame and libvmaf scores every K-th (`n_subsample`): sent only every K-th, its motion compared
    /// frames K apart and the scores read several points too high.
    func wants(_ n: Int) -> Bool { metric == .vmaf || n % every == 0 }

    /// The next frame of the stream that `wants`, in order.
    func add(reference: Frame, distorted: Frame) throws {
        guard reference.width == distorted.width, reference.height == distorted.height else {
            throw EncodaError(.inputUnsupported, "the distorted picture is \(distorted.width)x\(distorted.height) and its reference \(reference.width)x\(reference.height); scale one to the other's size before scoring")
        }
        if let size, size != (distorted.width, distorted.height) {
            throw EncodaError(.inputUnsupported, "the picture size changed from \(size.width)x\(size.height) to \(distorted.width)x\(distorted.height) at frame \(count); score each part on its own")
        }
        size = (distorted.width, distorted.height)
        switch metric {
        case .ssimulacra2:
            let ref = try referenceRGB.image(reference), dist = try distortedRGB.image(distorted)
            let index = count
            slots.wait()
            queue.async(group: group) { [results, slots] in
                results.set(index, Ssimulacra2.score(reference: ref, distorted: dist))
                slots.signal()
            }
        case .vmaf:
            try addVmaf(reference: reference, distorted: distorted)
        }
        count += 1
    }

    /// The scores of frames 0, K, 2K, … of the stream, in order.
    func finish() throws -> [Double] {
        switch metric {
        case .ssimulacra2:
            group.wait()
            return results.values(count)
        case .vmaf:
            guard let vmaf else { return [] }
            self.vmaf = nil
            return try vmaf.finish()
        }
    }

    /// Both frames to 4:2:0 at 8 bits (10 when either is deeper) — libvmaf measures luma only — and into the pipes.
    private func addVmaf(reference: Frame, distorted: Frame) throws {
        let w = distorted.width, h = distorted.height
        if vmaf == nil {
            let deep = [reference, distorted].contains { ($0.pixelFormat.descriptor?.depth ?? 8) > 8 }
            let format: LibavPixelFormat = deep ? .yuv420p10le : .yuv420p
            vmafScalers = (Scaler(width: w, height: h, format: format, flags: [.bicubic, .accurateRounding]),
                           Scaler(width: w, height: h, format: format, flags: [.bicubic, .accurateRounding]))
            let bytes = format.bufferSize(width: w, height: h)
            vmafBuffers = ([UInt8](repeating: 0, count: bytes), [UInt8](repeating: 0, count: bytes))
            vmaf = try VmafProcess(ffmpeg: vmafFFmpeg!, width: w, height: h, pixelFormat: deep ? "yuv420p10le" : "yuv420p",
                               subsample: every)
        }
        guard let vmaf, let scalers = vmafScalers else { return }
        try FramePairScorer.convert(distorted, with: scalers.distorted, into: &vmafBuffers.distorted)
        try FramePairScorer.convert(reference, with: scalers.reference, into: &vmafBuffers.reference)
        try vmafBuffers.distorted.withUnsafeBytes { d in
            try vmafBuffers.reference.withUnsafeBytes { r in try vmaf.write(distorted: d, reference: r) }
        }
    }

    /// Converts `frame` into `buffer` laid out as a raw picture (planes one after the other, no padding).
    private static func convert(_ frame: Frame, with scaler: Scaler, into buffer: inout [UInt8]) throws {
        let ok = buffer.withUnsafeMutableBytes { scaler.scale(frame, intoPacked: $0) }
        guard ok else {
            let name = frame.pixelFormat.name ?? "unknown"
            throw EncodaError(.inputUnsupported, "frames in pixel format \(name) cannot be converted for VMAF; convert the file first")
        }
    }
}

/// Scores by frame index, written from several threads.
private final class ScoreList: Sendable {
    private let scores = Mutex<[Int: Double]>([:])
    func set(_ i: Int, _ v: Double) { scores.withLock { $0[i] = v } }
    func values(_ n: Int) -> [Double] { scores.withLock { s in (0..<n).map { s[$0] ?? .nan } } }
}
