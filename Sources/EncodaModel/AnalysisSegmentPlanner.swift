/// Cuts INPUT's frames into analysis segments (`AnalysisSegment`) from the packet index alone, before any pixel is
/// decoded: each segment starts at a source keyframe, so a worker reaches it by one seek.
///
/// Sizes: enough segments that each worker gets several (`segmentsPerWorker`), so a slow or lost worker holds up
/// little and the prefix the streaming plan waits for grows evenly; none longer than `cap` frames, so one segment's
/// work stays short on a long film. A segment ends at the keyframe nearest its target size (the shorter on a tie),
/// never past the cap; a GOP longer than the cap stays one segment, because a segment that starts between keyframes
/// would decode that whole GOP up to its start again only to throw it away.
///
/// With `first` (the plan streams), the segments start small and grow: the first `workers` segments target `first`
/// frames, the next `workers` twice that, and so on up to the size above. The first chunk can be planned once the
/// first segments are measured, so the time to it stays the same however long INPUT is, and the segments that
/// follow grow to the size that keeps their number (and the claims) bounded.
public enum AnalysisSegmentPlanner {
    /// The most frames a segment holds unless one GOP alone is longer (about 20 s at 25 fps).
    public static let defaultCap = 500
    /// Segments wanted per worker, where the file has keyframes enough.
    public static let segmentsPerWorker = 4

    /// The segments of `index`'s frames for `workers` workers (the coordinator's estimate; at least 1).
    public static func segments(index: FrameIndex, workers: Int, cap: Int = defaultCap, first: Int? = nil) -> [AnalysisSegment] {
        segments(frameCount: index.frameCount, keyframes: index.keyframes, workers: workers, cap: cap, first: first)
    }

    /// The segments of frames `0..<frameCount` whose source keyframes are `keyframes` (ascending; frame 0 counts as
    /// one whether listed or not; any past the end are ignored). Every frame is in exactly one segment, in order;
    /// ids count from 0.
    public static func segments(frameCount: Int, keyframes: [Int], workers: Int, cap: Int = defaultCap, first: Int? = nil) -> [AnalysisSegment] {
        guard frameCount > 0 else { return [] }
        let cap = max(1, cap)
        let wanted = max(1, workers) * segmentsPerWorker
        // Rounded down, so that segments of the target size are at least as many as wanted.
        let full = min(cap, max(1, frameCount / wanted))
        // The ramp: segment k targets first × 2^(k / workers) while that is below the full size.
        func targetOf(_ k: Int) -> Int {
            guard let first, first > 0 else { return full }
            let doublings = k / max(1, workers)
            return doublings >= 30 ? full : min(full, first << doublings)
        }
        // Segment boundaries can only be keyframes; the end of the file closes the last one.
        let starts = Array(Set([0] + keyframes.filter { $0 > 0 && $0 < frameCount })).sorted()
        let ends = Array(starts.dropFirst()) + [frameCount]
        var out: [AnalysisSegment] = []
        var start = 0
        var i = 0 // ends[i] is the first boundary after `start`
        while start < frameCount {
            let target = targetOf(out.count)
            // The first boundary is always taken (one GOP at least); later ones while within the cap, choosing the
            // one nearest the target.
            var best = ends[i]
            var j = i + 1
            while j < ends.count && ends[j] - start <= cap {
                let candidate = ends[j]
                if abs(candidate - start - target) < abs(best - start - target) { best = candidate }
                if candidate - start >= target { break }
                j += 1
            }
            out.append(AnalysisSegment(id: out.count, frames: FrameRange(start, best)))
            start = best
            while i < ends.count && ends[i] <= start { i += 1 }
        }
        return out
    }
}
