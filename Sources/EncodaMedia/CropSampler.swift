import EncodaFFmpeg
import EncodaModel
import Foundation

/// `--autocrop` without the whole analysis: the black borders of frames at evenly spaced points of INPUT, found by
/// seeking, so the crop is known before the first chunk and before most frames are analysed.
///
/// The points lie between 15 % and 85 % of the frames (opening and closing titles and credits are often framed
/// otherwise). Where a source keyframe lies within half the spacing of a point, that keyframe is measured instead:
/// it decodes alone, while another frame costs the frames from the keyframe before it. `CropDetector.decide` then
/// applies the same rule as on a whole pass's samples: one rectangle must dominate.
public enum CropSampler {
    /// Points measured across the file (a long film gets this many; a short clip one per frame of its middle 70 %).
    public static let points = 141
    public static let firstShare = 0.15
    public static let lastShare = 0.85

    /// The frames to measure, ascending and distinct, for a file of `frameCount` frames with these keyframes.
    public static func frames(frameCount: Int, keyframes: [Int], points: Int = CropSampler.points) -> [Int] {
        guard frameCount > 0 else { return [] }
        let first = Int((Double(frameCount) * firstShare).rounded(.down))
        let last = max(first, min(frameCount - 1, Int((Double(frameCount) * lastShare).rounded(.down))))
        let n = max(1, min(points, last - first + 1))
        let spacing = n > 1 ? Double(last - first) / Double(n - 1) : 0
        var chosen: [Int] = []
        var seen = Set<Int>()
        for i in 0..<n {
            let p = first + Int((Double(i) * spacing).rounded())
            var pick = p
            if let k = nearestKeyframe(to: p, in: keyframes), Double(abs(k - p)) <= spacing / 2, k >= first, k <= last {
                pick = k
            }
            if seen.insert(pick).inserted { chosen.append(pick) }
        }
        return chosen.sorted()
    }

    /// Measures the borders of `frames` (see `frames(frameCount:keyframes:)`) of INPUT, each reached through the
    /// frame index as a worker reaches a chunk (`ChunkFrameSource`: by timestamp, checked).
    public static func measure(input: String, video: VideoFacts, index: FrameIndex, frames: [Int]) throws -> CropAnalysis {
        let borders = BorderSampler(width: video.width, height: video.height, expectedFrames: 1)
        for n in frames {
            let source = ChunkFrameSource(input: input, video: video, index: index, range: FrameRange(n, n + 1), threads: 1, analysisOnly: true)
            try source.run { f, _ in try borders.offer(f, number: n) }
        }
        return borders.analysis
    }

    /// Nil when a later, fuller measurement (`full`, e.g. the samples of a whole pass) decides the crop the sampled
    /// decision did; otherwise the line that says how they differ, for the caller to stop with: a job never mixes
    /// crops, and a crop may only be confirmed once chunks were encoded with it.
    public static func disagreement(sampled: CropDecision, full: CropAnalysis) -> String? {
        let other = CropDetector.decide(full)
        guard other.crop != sampled.crop else { return nil }
        let what = sampled.crop.map { "crop \($0)" } ?? "no crop"
        return "frames sampled across it give \(what), but the \(full.frames.count) frames the analysis measured give \(other.explanation)"
    }

    static func nearestKeyframe(to p: Int, in keyframes: [Int]) -> Int? {
        guard !keyframes.isEmpty else { return nil }
        var lo = 0, hi = keyframes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keyframes[mid] < p { lo = mid + 1 } else { hi = mid }
        }
        let after = lo < keyframes.count ? keyframes[lo] : nil
        let before = lo > 0 ? keyframes[lo - 1] : nil
        switch (before, after) {
        case let (b?, a?): return p - b <= a - p ? b : a
        case let (b?, nil): return b
        case let (nil, a?): return a
        default: return nil
        }
    }
}
