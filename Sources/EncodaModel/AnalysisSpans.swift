/// Which frames the analysis of a trim or a timeline must measure: each range with the frame before it, so that the
/// range's first frame has its change from the frame before, and every cut score inside the range (which needs the
/// changes of a frame and of the one before it) is the same as a pass over the whole of INPUT gives.
public enum AnalysisSpans {
    /// `ranges` (each non-empty, in any order) widened by one frame before and merged where they touch or overlap:
    /// ascending, apart.
    public static func spans(for ranges: [FrameRange]) -> [FrameRange] {
        union(ranges.filter { $0.count > 0 }.map { FrameRange(max(0, $0.start - 1), $0.end) }, [])
    }

    /// The union of two span lists, in the same form.
    public static func union(_ a: [FrameRange], _ b: [FrameRange]) -> [FrameRange] {
        var out: [FrameRange] = []
        for r in (a + b).filter({ $0.count > 0 }).sorted(by: { $0.start < $1.start }) {
            if let last = out.last, r.start <= last.end {
                out[out.count - 1] = FrameRange(last.start, max(last.end, r.end))
            } else {
                out.append(r)
            }
        }
        return out
    }
}
