import EncodaModel
import XCTest

/// The streamed plan equals the whole-file plan over the same changes, and is never revised while it streams.
final class StreamingPlannerTests: XCTestCase {
    static let rate = Rational(25, 1) // two-second chunks: 50 frames

    /// The whole-file plan as the coordinator composes it (`JobSetup.cuts`, `JobSetup.shots`, `JobPlanner.chunks`).
    static func wholePlan(_ changes: [Double], keyframes: [Int] = [], settings: SceneSettings, rate: Rational = rate,
                          range: FrameRange? = nil) -> [Chunk] {
        let r = range ?? FrameRange(0, changes.count)
        let cuts = range == nil ? CutDetector.cuts(changes: changes, settings: settings)
                                : CutDetector.cuts(changes: changes, settings: settings, within: r)
        let maxFrames = settings.maxSceneSeconds > 0 ? max(1, Int((settings.maxSceneSeconds * rate.doubleValue).rounded())) : 0
        let inside = cuts.filter { $0 > r.start && $0 < r.end }
        let splits = CutDetector.splits(cuts: inside, frameCount: r.end, changes: changes, maxFrames: maxFrames,
                                        minFrames: max(1, settings.minSceneLength), keyframes: keyframes, from: r.start)
        let shots = CutDetector.shots(boundaries: (inside + splits).sorted(), frameCount: r.end, from: r.start)
        return JobPlanner.chunks(shots: shots, maxFrames: maxFrames, frameRate: rate)
    }

    /// Feeds `segments` (ranges of `changes`, in the order given) and checks, after each feed, that everything
    /// returned so far is a prefix of `whole`, that no chunk comes before its last frame is measured nor later than
    /// `lookAhead` frames past it; returns all chunks returned.
    @discardableResult
    static func stream(_ changes: [Double], segments: [FrameRange], keyframes: [Int] = [], settings: SceneSettings,
                       rate: Rational = rate, range: FrameRange? = nil, whole: [Chunk],
                       file: StaticString = #filePath, line: UInt = #line) throws -> [Chunk] {
        var planner = StreamingPlanner(frameCount: changes.count, range: range, frameRate: rate, keyframes: keyframes,
                                       settings: settings)
        var got: [Chunk] = []
        for seg in segments {
            let before = planner.measuredPrefix
            let new = try planner.feed(changes: changes[seg.start..<seg.end], from: seg.start)
            got += new
            XCTAssertEqual(got, Array(whole.prefix(got.count)), "after feeding \(seg)", file: file, line: line)
            for c in new {
                XCTAssertGreaterThanOrEqual(planner.measuredPrefix, c.range.end, "chunk \(c.id) before its end was measured", file: file, line: line)
                XCTAssertLessThan(before, c.range.end + planner.lookAhead, "chunk \(c.id) held past the look-ahead bound", file: file, line: line)
            }
        }
        XCTAssertTrue(planner.isComplete, file: file, line: line)
        XCTAssertEqual(got, whole, file: file, line: line)
        XCTAssertEqual(planner.emitted, whole.count, file: file, line: line)
        return got
    }

    static func feeds(_ sizes: [Int], over frames: FrameRange) -> [FrameRange] {
        var out: [FrameRange] = []
        var at = frames.start
        var k = 0
        while at < frames.end {
            let n = max(1, sizes[k % sizes.count])
            out.append(FrameRange(at, min(frames.end, at + n)))
            at += n
            k += 1
        }
        return out
    }

    /// Calm motion (change 2) with a spike of 60 at each cut.
    static func changes(count: Int, cuts: [Int], base: Double = 2) -> [Double] {
        var c = [Double](repeating: base, count: count)
        c[0] = 0
        for f in cuts { c[f] = 60 }
        return c
    }

    func testCutExactlyOnAFeedBoundary() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 10)
        let ch = Self.changes(count: 300, cuts: [100, 200])
        let whole = Self.wholePlan(ch, settings: s)
        XCTAssertEqual(whole.map(\.range), [FrameRange(0, 100), FrameRange(100, 200), FrameRange(200, 300)])
        // The cut frame starts a feed, and ends the one before.
        try Self.stream(ch, segments: Self.feeds([100], over: FrameRange(0, 300)), settings: s, whole: whole)
        try Self.stream(ch, segments: Self.feeds([101, 99], over: FrameRange(0, 300)), settings: s, whole: whole)
    }

    func testCutMinSceneLengthBeforeTheEnd() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 10)
        for cut in [294, 295] { // 6 frames before the end: a cut; 5: none (the end-of-file rule)
            let ch = Self.changes(count: 300, cuts: [150, cut])
            let whole = Self.wholePlan(ch, settings: s)
            XCTAssertEqual(whole.last?.shotStarts.contains(294), cut == 294)
            for sizes in [[1], [48], [97], [294, 6], [295, 5], [500]] {
                try Self.stream(ch, segments: Self.feeds(sizes, over: FrameRange(0, 300)), settings: s, whole: whole)
            }
        }
    }

    func testLongShotSpanningManyFeedsIsSplitAtItsCalmestFrame() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 4) // 100 frames
        var ch = Self.changes(count: 400, cuts: [], base: 5)
        ch[40] = 0.1  // calmest, but before the window [50, 100]
        ch[77] = 0.5  // calmest in the first window
        ch[150] = 1   // calmest in the second, [127, 177]
        let whole = Self.wholePlan(ch, settings: s)
        XCTAssertEqual(whole.map(\.range.start), [0, 77, 150, 200, 250, 300])
        for sizes in [[1], [7], [48], [97], [500]] {
            try Self.stream(ch, segments: Self.feeds(sizes, over: FrameRange(0, 400)), settings: s, whole: whole)
        }
        // With source keyframes in the window, the calmest keyframe wins.
        let keys = [0, 60, 90, 170, 260]
        let keyed = Self.wholePlan(ch, keyframes: keys, settings: s)
        XCTAssertEqual(keyed.map(\.range.start), [0, 60, 150, 200, 260, 310])
        for sizes in [[1], [13], [97]] {
            try Self.stream(ch, segments: Self.feeds(sizes, over: FrameRange(0, 400)), keyframes: keys, settings: s, whole: keyed)
        }
    }

    func testShortShotsGroupedIntoTwoSecondChunksAcrossFeeds() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 10)
        let cuts = Array(stride(from: 9, to: 600, by: 9))
        let ch = Self.changes(count: 600, cuts: cuts)
        let whole = Self.wholePlan(ch, settings: s)
        XCTAssertTrue(whole.dropLast().allSatisfy { $0.range.count >= 50 && $0.shotStarts.count > 1 }, "\(whole)")
        for sizes in [[1], [10], [48], [97], [50, 3, 200]] {
            try Self.stream(ch, segments: Self.feeds(sizes, over: FrameRange(0, 600)), settings: s, whole: whole)
        }
    }

    func testSingleFrameFeedAndSingleFrameInput() throws {
        let s = SceneSettings()
        for n in [1, 2, 7] {
            let ch = Self.changes(count: n, cuts: [])
            try Self.stream(ch, segments: [FrameRange(0, n)], settings: s, whole: Self.wholePlan(ch, settings: s))
            try Self.stream(ch, segments: Self.feeds([1], over: FrameRange(0, n)), settings: s, whole: Self.wholePlan(ch, settings: s))
        }
        let empty = StreamingPlanner(frameCount: 0, frameRate: Self.rate, keyframes: [], settings: s)
        XCTAssertTrue(empty.isComplete)
    }

    func testMaxSceneLengthZeroKeepsLongShotsWhole() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 0)
        let ch = Self.changes(count: 1000, cuts: [20, 700, 730])
        let whole = Self.wholePlan(ch, settings: s)
        XCTAssertEqual(whole.map(\.range), [FrameRange(0, 700), FrameRange(700, 1000)])
        for sizes in [[1], [48], [97], [500]] {
            try Self.stream(ch, segments: Self.feeds(sizes, over: FrameRange(0, 1000)), settings: s, whole: whole)
        }
    }

    func testTrimRangeStreamsLikeItsWholePlan() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 4)
        let ch = Self.changes(count: 600, cuts: [30, 130, 140, 400])
        let range = FrameRange(125, 520)
        let whole = Self.wholePlan(ch, settings: s, range: range)
        // The frame before the range comes with the first segment, as a partial analysis decodes it.
        let segs = [FrameRange(124, 200)] + Self.feeds([33], over: FrameRange(200, 520))
        try Self.stream(ch, segments: segs, settings: s, range: range, whole: whole)
    }

    func testSegmentsInAnyOrderAndAFrameFedTwice() throws {
        let s = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 4)
        let ch = Self.changes(count: 500, cuts: [100, 250])
        let whole = Self.wholePlan(ch, settings: s)
        var planner = StreamingPlanner(frameCount: 500, frameRate: Self.rate, keyframes: [], settings: s)
        XCTAssertEqual(try planner.feed(changes: ch[300..<500], from: 300), [], "nothing before frame 0 is measured")
        XCTAssertEqual(try planner.feed(changes: ch[300..<400], from: 300), [], "a segment redone with the same values")
        XCTAssertThrowsError(try planner.feed(changes: [99.0], from: 310), "a frame measured twice differently")
        XCTAssertThrowsError(try planner.feed(changes: [1.0], from: 500), "past the last frame")
        let got = try planner.feed(changes: ch[0..<300], from: 0)
        XCTAssertEqual(got, whole)
        XCTAssertTrue(planner.isComplete)
    }

    func testRequestsThatCannotStreamAreNamed() {
        XCTAssertEqual(StreamingPlanner.obstacle(bitRate: 2_000_000, scenesFile: nil, timeline: false), .bitRate)
        XCTAssertEqual(StreamingPlanner.obstacle(bitRate: nil, scenesFile: "s.json", timeline: false), .scenesFile)
        XCTAssertEqual(StreamingPlanner.obstacle(bitRate: nil, scenesFile: nil, timeline: true), .timeline)
        XCTAssertNil(StreamingPlanner.obstacle(bitRate: nil, scenesFile: nil, timeline: false))
    }

    /// Hundreds of seeded random inputs (spikes at random places, runs of calm and busy frames) × random feed
    /// sizes, settings and segment orders: always the whole-file plan.
    func testRandomInputsAndFeedsStreamTheWholePlan() throws {
        var rng = SplitMix64(seed: 16)
        var cases = 0, chunks = 0
        for _ in 0..<400 {
            let n = Int.random(in: 1...900, using: &rng)
            var ch = (0..<n).map { _ in Double.random(in: 0...8, using: &rng) }
            ch[0] = 0
            for _ in 0..<Int.random(in: 0...(n / 20 + 1), using: &rng) {
                ch[Int.random(in: 0..<n, using: &rng)] = Double.random(in: 10...90, using: &rng)
            }
            let keyframes = (0..<n).filter { _ in Int.random(in: 0..<30, using: &rng) == 0 }
            let s = SceneSettings(threshold: [8, 12, 20].randomElement(using: &rng)!,
                                  minSceneLength: Int.random(in: 0...40, using: &rng),
                                  maxSceneSeconds: [0, 0.3, 1, 2.5, 4, 10].randomElement(using: &rng)!)
            let rate = [Rational(25, 1), Rational(24000, 1001), Rational(10, 1)].randomElement(using: &rng)!
            var range: FrameRange? = nil
            if Int.random(in: 0..<4, using: &rng) == 0 && n > 2 {
                let a = Int.random(in: 1..<n, using: &rng)
                range = FrameRange(a, Int.random(in: a...n, using: &rng))
            }
            let r = range ?? FrameRange(0, n)
            let whole = Self.wholePlan(ch, keyframes: keyframes, settings: s, rate: rate, range: range)
            let sizes = (0..<3).map { _ in [1, 2, 5, 48, 97, 500, Int.random(in: 1...200, using: &rng)].randomElement(using: &rng)! }
            var segs = Self.feeds(sizes, over: r)
            if Bool.random(using: &rng) { segs.shuffle(using: &rng) }
            try Self.stream(ch, segments: segs, keyframes: keyframes, settings: s, rate: rate, range: range, whole: whole)
            cases += 1
            chunks += whole.count
        }
        XCTAssertEqual(cases, 400)
        XCTAssertGreaterThan(chunks, 1000, "the cases plan many chunks")
    }
}

/// A small seeded generator, so every run draws the same cases.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
