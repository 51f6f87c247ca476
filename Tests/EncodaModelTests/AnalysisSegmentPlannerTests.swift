import EncodaModel
import XCTest

/// `AnalysisSegmentPlanner`: segments start at keyframes, cover every frame once in order, several per worker, capped.
final class AnalysisSegmentPlannerTests: XCTestCase {
    private func ranges(_ n: Int, _ keyframes: [Int], workers: Int, cap: Int = AnalysisSegmentPlanner.defaultCap) -> [[Int]] {
        AnalysisSegmentPlanner.segments(frameCount: n, keyframes: keyframes, workers: workers, cap: cap).map { [$0.frames.start, $0.frames.end] }
    }

    func testTable() {
        let every50 = Array(stride(from: 0, to: 1000, by: 50))
        // (frames, keyframes, workers, cap, expected [start, end] pairs)
        let table: [(Int, [Int], Int, Int, [[Int]], String)] = [
            (0, [0], 4, 500, [], "no frame, no segment"),
            (1, [0], 4, 500, [[0, 1]], "one frame"),
            (300, [0], 8, 500, [[0, 300]], "one GOP: one segment whatever the workers"),
            // 8 wanted → target 125; 100 and 150 are as near: the shorter is taken.
            (1000, every50, 2, 500, (0..<10).map { [$0 * 100, $0 * 100 + 100] }, "nearest keyframe to the target"),
            // 4 wanted → target 250.
            (1000, every50, 1, 500, [[0, 250], [250, 500], [500, 750], [750, 1000]], "target reached exactly"),
            // Target 1 (many workers): one GOP each.
            (200, every50, 100, 500, [[0, 50], [50, 100], [100, 150], [150, 200]], "one GOP per segment at most"),
            // A GOP longer than the cap stays whole; the rest is cut as usual.
            (1000, [0, 600, 700], 1, 500, [[0, 600], [600, 700], [700, 1000]], "long GOP kept whole"),
            // The cap wins over the target (1 worker → target 2500 → capped to 500).
            (2000, Array(stride(from: 0, to: 2000, by: 250)), 1, 500, [[0, 500], [500, 1000], [1000, 1500], [1500, 2000]], "capped"),
            // The cap is never passed to reach the target: 499 is the last boundary within 500 frames.
            (1100, [0, 499, 501, 1000], 1, 500, [[0, 499], [499, 501], [501, 1000], [1000, 1100]], "never past the cap"),
            // Keyframe 0 missing, duplicates and keyframes past the end are ignored.
            (100, [50, 50, 100, 120], 100, 500, [[0, 50], [50, 100]], "frame 0 implied, extras ignored"),
        ]
        for (n, k, w, cap, expected, why) in table {
            XCTAssertEqual(ranges(n, k, workers: w, cap: cap), expected, why)
        }
    }

    /// Over many keyframe layouts: every frame in exactly one segment, in order, each starting at a keyframe, ids
    /// counting from 0, none over the cap unless it is one GOP, and at least 4 per worker when keyframes allow it.
    func testInvariantsOverManyLayouts() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for _ in 0..<300 {
            let n = 1 + next(5000)
            let gop = 1 + next(400)
            var keyframes = [0]
            while let last = keyframes.last, last + 1 < n {
                keyframes.append(min(n - 1, last + 1 + next(2 * gop)))
            }
            let workers = 1 + next(16), cap = 50 + next(600)
            let segments = AnalysisSegmentPlanner.segments(frameCount: n, keyframes: keyframes, workers: workers, cap: cap)
            let keys = Set(keyframes)
            XCTAssertEqual(segments.first?.frames.start, 0)
            XCTAssertEqual(segments.last?.frames.end, n)
            for (i, s) in segments.enumerated() {
                XCTAssertEqual(s.id, i)
                XCTAssertGreaterThan(s.frames.count, 0)
                XCTAssertTrue(keys.contains(s.frames.start), "segment \(s.frames) starts at a keyframe")
                if i > 0 { XCTAssertEqual(segments[i - 1].frames.end, s.frames.start, "contiguous") }
                let inner = keyframes.filter { $0 > s.frames.start && $0 < s.frames.end }
                XCTAssertTrue(s.frames.count <= cap || inner.isEmpty, "\(s.frames) over the cap \(cap) holds more than one GOP")
            }
            // Enough segments: where every frame is a keyframe, at least as many as wanted (the target rounds down).
            let wanted = workers * AnalysisSegmentPlanner.segmentsPerWorker
            let longestGOP = zip(keyframes, keyframes.dropFirst() + [n]).map { $1 - $0 }.max() ?? n
            if longestGOP == 1 && n >= wanted { XCTAssertGreaterThanOrEqual(segments.count, wanted) }
        }
    }

    /// The ramp of a plan that streams: the first `workers` segments target `first` frames, the next ones double, up
    /// to the size without a ramp; so the first segments are as long on a 4× longer INPUT, and the rest are not more
    /// than a few more than without the ramp.
    func testRampStartsSmallWhateverTheLength() {
        let every = { (n: Int) in Array(0..<n) } // a keyframe on every frame: the targets are met exactly
        // 2 workers, first 100: 100, 100, 200, 200, 400, 400, then the full size (capped at 500).
        let long = AnalysisSegmentPlanner.segments(frameCount: 20_000, keyframes: every(20_000), workers: 2, first: 100)
        XCTAssertEqual(long.prefix(7).map(\.frames.count), [100, 100, 200, 200, 400, 400, 500])
        let short = AnalysisSegmentPlanner.segments(frameCount: 5_000, keyframes: every(5_000), workers: 2, first: 100)
        XCTAssertEqual(short.prefix(2).map(\.frames), long.prefix(2).map(\.frames), "the first segments do not grow with INPUT")
        XCTAssertEqual(short.last?.frames.end, 5_000)
        // Never past the size without a ramp: 1,000 frames for 2 workers → 125 each, so a first of 100 ramps once.
        let small = AnalysisSegmentPlanner.segments(frameCount: 1_000, keyframes: every(1_000), workers: 2, first: 100)
        XCTAssertEqual(small.map(\.frames.count), [100, 100] + Array(repeating: 125, count: 6) + [50])
        // Without a first size: as before.
        XCTAssertEqual(AnalysisSegmentPlanner.segments(frameCount: 20_000, keyframes: every(20_000), workers: 2).map(\.frames),
                       AnalysisSegmentPlanner.segments(frameCount: 20_000, keyframes: every(20_000), workers: 2, first: nil).map(\.frames))
        XCTAssertEqual(long.count, 44, "6 ramp segments of 1,400 frames, then 37 of 500 and the 100-frame rest")
    }
}
