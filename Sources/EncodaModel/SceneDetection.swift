/// Settings of the cut detector. Part of the scene cache key and of the job manifest.
public struct SceneSettings: Codable, Sendable, Hashable {
    /// A frame starts a new shot when its cut score reaches this value (0–100).
    public var threshold: Double
    /// No shot shorter than this many frames (a cut closer to the previous one is ignored).
    public var minSceneLength: Int
    /// Shots longer than this many seconds are split at their calmest frame. 0 disables.
    public var maxSceneSeconds: Double

    public init(threshold: Double = 12, minSceneLength: Int = 6, maxSceneSeconds: Double = 10) {
        self.threshold = threshold; self.minSceneLength = minSceneLength; self.maxSceneSeconds = maxSceneSeconds
    }
}

/// Pure cut detection over the per-frame measurements of the scene pass.
///
/// `changes[i]` is the mean absolute luma difference (in percent of full scale) between frame i-1 and frame i
/// on a downscaled plane; `changes[0]` is 0. A cut is a change that is large and also a jump against the
/// previous frame's change, so steady fast motion does not count as cuts.
public enum CutDetector {
    /// Cut score of each frame: min(change, |change - previous change|), in 0…100.
    public static func scores(changes: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: changes.count)
        for i in 1..<max(changes.count, 1) where i < changes.count {
            let jump = abs(changes[i] - changes[i - 1])
            out[i] = min(changes[i], jump)
        }
        return out
    }

    /// Hard cuts: first frames of new shots, ascending, never 0.
    public static func cuts(changes: [Double], settings: SceneSettings) -> [Int] {
        let s = scores(changes: changes)
        var cuts: [Int] = []
        var last = 0
        let minLen = max(1, settings.minSceneLength)
        for i in 1..<max(s.count, 1) where i < s.count {
            guard s[i] >= settings.threshold else { continue }
            if i - last < minLen { continue }
            if s.count - i < minLen { continue }
            cuts.append(i)
            last = i
        }
        return cuts
    }

    /// Hard cuts inside `range` (a trim's or a timeline clip's frames), with `range.start` taken as the previous cut
    /// and `range.end` as the end: the same minimum-length rule as `cuts(changes:settings:)` applies at both edges.
    /// Only the changes of `range`'s frames and the frame before it are read (the score of frame `range.start + 1`
    /// needs the change of `range.start`, measured against the frame before it), so measurements of that span
    /// alone give the cuts a whole-file pass gives.
    public static func cuts(changes: [Double], settings: SceneSettings, within range: FrameRange) -> [Int] {
        let minLen = max(1, settings.minSceneLength)
        var cuts: [Int] = []
        var last = range.start
        for i in (range.start + 1)..<max(range.start + 1, min(range.end, changes.count)) {
            let score = min(changes[i], abs(changes[i] - changes[i - 1]))
            guard score >= settings.threshold, i - last >= minLen, range.end - i >= minLen else { continue }
            cuts.append(i)
            last = i
        }
        return cuts
    }

    /// Split shots longer than `maxFrames` at their calmest frame (smallest change), keeping every piece at
    /// least `minFrames` long and at most `maxFrames`. Where the allowed window holds source keyframes
    /// (`keyframes`, ascending), the calmest of those is taken instead: a worker then starts decoding right at
    /// its chunk, instead of decoding up to a whole GOP of the source only to reach it.
    /// Returns the boundaries to add, ascending. `from`: the first frame planned (a trim's start); `cuts` lie
    /// after it and before `frameCount` (then the trim's end).
    public static func splits(cuts: [Int], frameCount: Int, changes: [Double], maxFrames: Int, minFrames: Int,
                              keyframes: [Int] = [], from first: Int = 0) -> [Int] {
        guard maxFrames > 0 else { return [] }
        var added: [Int] = []
        let bounds = [first] + cuts + [frameCount]
        for k in 0..<(bounds.count - 1) {
            var start = bounds[k]
            let end = bounds[k + 1]
            while end - start > maxFrames {
                let p = splitPoint(start: start, end: end, changes: changes, maxFrames: maxFrames, minFrames: minFrames,
                                   keyframes: keyframes)
                added.append(p)
                start = p
            }
        }
        return added
    }

    /// Where `splits` cuts a shot [start, end) longer than `maxFrames` (> 0): the first piece [start, p).
    /// Reads only the changes of frames up to `start + maxFrames`, and `end` only while `end - start` is below
    /// `maxFrames + max(minFrames, 1)`: past that, every `end` gives the same point (`StreamingPlanner` relies on it).
    static func splitPoint(start: Int, end: Int, changes: [Double], maxFrames: Int, minFrames: Int, keyframes: [Int]) -> Int {
        // Piece lengths: the split point p gives [start,p) and [p,end).
        let lo = start + max(minFrames, maxFrames / 2, 1)
        let hi = min(start + maxFrames, end - max(minFrames, 1))
        if lo > hi { return start + min(maxFrames, max(1, (end - start) / 2)) }
        let window = lo...hi
        let candidates = keyframes.filter { window.contains($0) }
        var p = lo
        var best = Double.infinity
        for f in candidates.isEmpty ? Array(window) : candidates {
            let c = f < changes.count ? changes[f] : 0
            if c < best { best = c; p = f }
        }
        return p
    }

    /// Shots as frame ranges from sorted boundaries, from frame `from` (a trim's start) to `frameCount` (its end).
    public static func shots(boundaries: [Int], frameCount: Int, from first: Int = 0) -> [FrameRange] {
        var starts = [first] + boundaries.filter { $0 > first && $0 < frameCount }
        starts = Array(Set(starts)).sorted()
        var out: [FrameRange] = []
        for (i, s) in starts.enumerated() {
            let e = i + 1 < starts.count ? starts[i + 1] : frameCount
            if e > s { out.append(FrameRange(s, e)) }
        }
        return out
    }
}
