/// One measured encode of a chunk: the CRF and the chunk's pooled score at it.
public struct ProbePoint: Codable, Sendable, Hashable {
    public var crf: Int
    public var score: Double
    public init(crf: Int, score: Double) { self.crf = crf; self.score = score }
}

/// The per-chunk search for the CRF that meets a quality target. Pure: the next step follows from the probes
/// measured so far alone, so a worker that resumes a killed chunk with its recorded probes carries on exactly
/// where the killed one stopped. Scores fall as the CRF rises (a metric that wobbles is handled, not trusted).
///
/// Binary steps halve the range until the target is bracketed by a probe that meets it and one that does not;
/// then each probe interpolates linearly between those two closest probes. The chosen CRF is the highest one
/// measured to meet the target (the smallest file that does), so the final encode is always a probe's file,
/// except when no probe met the target and the range's best end was not probed: then `choose` names that end
/// before it is measured; encode it, add it to the probes and ask again (the answer is then a measured CRF).
public enum CRFSearch {
    /// How the chosen CRF relates to the target.
    public enum Outcome: String, Codable, Sendable {
        /// A probe at the chosen CRF meets the target.
        case reached
        /// Even the range's low (best) end does not meet the target: encoded there.
        case unreachable
        /// Even the range's high end exceeds the target: encoded there, better than asked.
        case exceeded
    }

    public enum Step: Equatable, Sendable {
        /// Encode and score at this CRF next.
        case probe(Int)
        /// The search is over: encode (or keep the probe) at this CRF.
        case choose(Int, Outcome)
    }

    /// - Parameters:
    ///   - points: the probes so far, in any order (a CRF measured twice counts once, the first).
    ///   - maxProbes: at most this many probes.
    ///   - tolerance: a probe that meets the target by at most this much ends the search.
    public static func next(_ points: [ProbePoint], target: Double, range: ClosedRange<Int>, maxProbes: Int,
                            tolerance: Double = 1) -> Step {
        var seen = Set<Int>()
        let pts = points.filter { range.contains($0.crf) && $0.score.isFinite && seen.insert($0.crf).inserted }
        let best = pts.filter { $0.score >= target }.max { $0.crf < $1.crf }  // highest CRF that meets it
        let worst = pts.filter { $0.score < target }.min { $0.crf < $1.crf } // lowest CRF that misses it
        if let b = best, b.score - target <= tolerance { return .choose(b.crf, .reached) }
        if let b = best, b.crf == range.upperBound { return .choose(b.crf, .exceeded) }
        if let w = worst, w.crf == range.lowerBound { return .choose(w.crf, .unreachable) }
        // Adjacent, or crossed (a metric that is not monotone here): the measured CRF that meets it.
        if let b = best, let w = worst, w.crf - b.crf <= 1 { return .choose(b.crf, .reached) }
        if pts.count >= maxProbes {
            if let b = best { return .choose(b.crf, .reached) }
            return .choose(range.lowerBound, .unreachable)
        }
        // The CRFs still open: above the best that meets it, below the worst that misses it.
        let lo = (best?.crf ?? range.lowerBound - 1) + 1
        let hi = (worst?.crf ?? range.upperBound + 1) - 1
        if let b = best, let w = worst {
            // Interpolation alone creeps along a curve that bends (each probe lands just inside the same end);
            // in a wide bracket the probe stays a quarter of it away from either end.
            let span = hi - lo
            let margin = span >= 8 ? span / 4 : 0
            return .probe(clamp(interpolate(b, w, target), lo + margin, hi - margin))
        }
        // One side only: halve what is open; but where the line through the two probes nearest the open CRFs
        // reaches the target only at or beyond the range's end, probe that end, so a target outside the range is
        // found out in three probes. (Going further than the middle anywhere else overshoots on curves that bend.)
        let side = pts.sorted { $0.crf < $1.crf }
        if side.count >= 2 {
            let (p, q) = best != nil ? (side[side.count - 2], side[side.count - 1]) : (side[0], side[1])
            if p.score > q.score {
                let e = interpolate(p, q, target)
                if best != nil && e >= hi { return .probe(hi) }
                if best == nil && e <= lo { return .probe(lo) }
            }
        }
        return .probe((lo + hi + 1) / 2)
    }

    /// The CRF where the line through `p` and `q` reaches `target`, rounded.
    static func interpolate(_ p: ProbePoint, _ q: ProbePoint, _ target: Double) -> Int {
        guard p.score != q.score else { return (p.crf + q.crf) / 2 }
        let t = (p.score - target) / (p.score - q.score)
        let c = Double(p.crf) + t * Double(q.crf - p.crf)
        return c.isFinite ? Int(max(-1e6, min(1e6, c)).rounded()) : (p.crf + q.crf) / 2
    }

    static func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v, lo), hi) }
}
