import EncodaModel
import XCTest

final class CutDetectorTests: XCTestCase {
    func testHardCutsAreFoundAndSteadyMotionIsNot() {
        // Steady motion (change 6 every frame) with two jumps to 60 at frames 20 and 50.
        var changes = [Double](repeating: 6, count: 80)
        changes[0] = 0
        changes[20] = 60
        changes[50] = 60
        XCTAssertEqual(CutDetector.cuts(changes: changes, settings: SceneSettings(threshold: 12, minSceneLength: 5, maxSceneSeconds: 0)), [20, 50])
        // Fast but steady motion is not a cut, however large.
        let fast = [0] + [Double](repeating: 40, count: 60)
        XCTAssertEqual(CutDetector.cuts(changes: fast, settings: SceneSettings()), [])
    }

    func testMinSceneLengthDropsCutsTooClose() {
        var changes = [Double](repeating: 1, count: 100)
        changes[0] = 0
        for f in [30, 33, 60] { changes[f] = 50 }
        XCTAssertEqual(CutDetector.cuts(changes: changes, settings: SceneSettings(threshold: 10, minSceneLength: 5, maxSceneSeconds: 0)), [30, 60])
        XCTAssertEqual(CutDetector.cuts(changes: changes, settings: SceneSettings(threshold: 10, minSceneLength: 2, maxSceneSeconds: 0)), [30, 33, 60])
    }

    func testLongShotIsSplitAtItsCalmestFrame() {
        var changes = [Double](repeating: 5, count: 300)
        changes[170] = 0.5 // the calmest frame inside the allowed window [start + max/2, start + max]
        changes[40] = 0.1  // calmer, but would leave a piece shorter than max/2
        let splits = CutDetector.splits(cuts: [], frameCount: 300, changes: changes, maxFrames: 200, minFrames: 10)
        XCTAssertEqual(splits, [170])
        let shots = CutDetector.shots(boundaries: splits, frameCount: 300)
        XCTAssertEqual(shots, [FrameRange(0, 170), FrameRange(170, 300)])
        XCTAssertTrue(shots.allSatisfy { $0.count <= 200 })
    }

    func testLongShotIsSplitAtASourceKeyframeWhenTheWindowHasOne() {
        var changes = [Double](repeating: 5, count: 300)
        changes[170] = 0.5 // calmest frame overall
        changes[190] = 3   // calmer of the two keyframes inside [100, 200]
        let splits = CutDetector.splits(cuts: [], frameCount: 300, changes: changes, maxFrames: 200, minFrames: 10,
                                        keyframes: [0, 60, 150, 190, 250])
        XCTAssertEqual(splits, [190], "a keyframe in the window wins over a calmer non-key frame")
        // No keyframe inside the window: the calmest frame, as before.
        XCTAssertEqual(CutDetector.splits(cuts: [], frameCount: 300, changes: changes, maxFrames: 200, minFrames: 10,
                                          keyframes: [0, 60, 250]), [170])
    }

    func testEveryPieceRespectsMaxLength() {
        let changes = (0..<1000).map { Double(($0 * 7919) % 13) }
        let splits = CutDetector.splits(cuts: [100, 700], frameCount: 1000, changes: changes, maxFrames: 120, minFrames: 6)
        let shots = CutDetector.shots(boundaries: ([100, 700] + splits).sorted(), frameCount: 1000)
        XCTAssertEqual(shots.reduce(0) { $0 + $1.count }, 1000)
        XCTAssertTrue(shots.allSatisfy { $0.count <= 120 && $0.count >= 6 }, "\(shots)")
        XCTAssertTrue(shots.contains { $0.start == 100 } && shots.contains { $0.start == 700 }, "real cuts stay boundaries")
    }
}

final class ChunkPlannerTests: XCTestCase {
    func testShortShotsAreGroupedAndEveryShotStartIsKept() {
        let shots = [FrameRange(0, 10), FrameRange(10, 20), FrameRange(20, 100), FrameRange(100, 105), FrameRange(105, 200)]
        let chunks = ChunkPlanner.plan(shots: shots, minChunkFrames: 50, maxChunkFrames: 250)
        XCTAssertEqual(chunks.map(\.range), [FrameRange(0, 100), FrameRange(100, 200)])
        XCTAssertEqual(chunks[0].shotStarts, [0, 10, 20])
        XCTAssertEqual(chunks[1].shotStarts, [100, 105])
        XCTAssertEqual(chunks.map(\.id), [0, 1])
    }

    func testChunksCoverTheVideoContiguously() {
        var shots: [FrameRange] = []
        var s = 0
        for len in [3, 80, 7, 7, 7, 200, 1, 45, 60] { shots.append(FrameRange(s, s + len)); s += len }
        let chunks = ChunkPlanner.plan(shots: shots, minChunkFrames: 48, maxChunkFrames: 240)
        XCTAssertEqual(chunks.first?.range.start, 0)
        XCTAssertEqual(chunks.last?.range.end, s)
        for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertEqual(a.range.end, b.range.start) }
        XCTAssertEqual(Set(chunks.flatMap(\.shotStarts)), Set(shots.map(\.start)))
        XCTAssertEqual(ChunkPlanner.workOrder(chunks).first?.range.count, chunks.map(\.range.count).max())
    }

    /// A short chunk of busy frames is worth more than a long one of still frames: it goes first, and the
    /// estimate follows the packet sizes (fixed part: half the mean packet).
    func testWorkOrderTakesTheMostExpensiveChunkFirstWhenPacketSizesAreKnown() {
        let chunks = [Chunk(id: 0, range: FrameRange(0, 100), shotStarts: [0]),     // 100 still frames
                      Chunk(id: 1, range: FrameRange(100, 140), shotStarts: [100]), // 40 busy frames
                      Chunk(id: 2, range: FrameRange(140, 200), shotStarts: [140])] // 60 middling frames
        let sizes = [Int32](repeating: 100, count: 100) + [Int32](repeating: 10_000, count: 40) + [Int32](repeating: 2_000, count: 60)
        guard let costs = ChunkPlanner.estimatedCosts(chunks, packetSizes: sizes) else { return XCTFail("no costs") }
        let fixed = 0.5 * Double(100 * 100 + 40 * 10_000 + 60 * 2_000) / 200
        XCTAssertEqual(costs[0], 100 * 100 + 100 * fixed, accuracy: 1e-6)
        XCTAssertEqual(costs[1], 40 * 10_000 + 40 * fixed, accuracy: 1e-6)
        XCTAssertEqual(ChunkPlanner.workOrder(chunks, costs: costs).map(\.id), [1, 2, 0])
        XCTAssertEqual(ChunkPlanner.workOrder(chunks).map(\.id), [0, 2, 1], "without sizes: longest first")
        XCTAssertNil(ChunkPlanner.estimatedCosts(chunks, packetSizes: Array(sizes.prefix(150))), "sizes that do not cover the plan")
        XCTAssertEqual(ChunkPlanner.workOrder(chunks, costs: [1, 2]).map(\.id), [0, 2, 1], "costs that do not fit the plan are ignored")
    }

    /// Blocks of `joinWindow` in plan order, the most expensive first within each: the join, which appends in plan
    /// order, never waits long for an early chunk left to the end.
    func testWorkOrderGoesThroughThePlanInBlocks() {
        let chunks = (0..<20).map { Chunk(id: $0, range: FrameRange($0 * 10, $0 * 10 + 10), shotStarts: [$0 * 10]) }
        let costs = (0..<20).map { Double(($0 * 7) % 20) }
        let order = ChunkPlanner.workOrder(chunks, costs: costs).map(\.id)
        XCTAssertEqual(ChunkPlanner.joinWindow, 8)
        XCTAssertEqual(order.sorted(), Array(0..<20))
        for (b, block) in [0..<8, 8..<16, 16..<20].enumerated() {
            let ids = Array(order[block])
            XCTAssertEqual(Set(ids), Set(block), "block \(b) holds its own chunks")
            XCTAssertEqual(ids, ids.sorted { costs[$0] > costs[$1] }, "block \(b): most expensive first")
        }
    }
}

final class FrameIndexTests: XCTestCase {
    func testKeyframeLookupAndExtendedTimestamps() {
        let idx = FrameIndex(pts: [0, 40, 80, 120, 200], durations: [40, 40, 40, 80, 40], keyframes: [0, 3])
        XCTAssertEqual(idx.keyframe(atOrBefore: 2), 0)
        XCTAssertEqual(idx.keyframe(atOrBefore: 3), 3)
        XCTAssertEqual(idx.keyframe(atOrBefore: 4), 3)
        XCTAssertEqual(idx.extendedTimestamp(-2), -80)
        XCTAssertEqual(idx.extendedTimestamp(4), 200)
        XCTAssertEqual(idx.extendedTimestamp(6), 280)
        XCTAssertTrue(idx.hasUniqueIncreasingTimestamps)
        XCTAssertFalse(FrameIndex(pts: [0, 40, 40], durations: [40, 0, 40], keyframes: [0]).hasUniqueIncreasingTimestamps)
        XCTAssertEqual(FrameIndex.durations(for: [0, 40, 120], lastDuration: 33), [40, 80, 33])
    }
}

final class Av1anScenesTests: XCTestCase {
    func testImportChecksCoverage() throws {
        let good = Av1anScenes(shots: [FrameRange(0, 75), FrameRange(75, 100)], frames: 100)
        XCTAssertEqual(try good.cuts(frameCount: 100), [75])
        XCTAssertThrowsError(try good.cuts(frameCount: 120))
        let gap = Av1anScenes(shots: [FrameRange(0, 70), FrameRange(75, 100)], frames: 100)
        XCTAssertThrowsError(try gap.cuts(frameCount: 100))
    }
}

final class SettingsTests: XCTestCase {
    func testValidation() {
        XCTAssertNoThrow(try EncodeSettings(encoder: .av1, preset: "8", crf: 35, lossless: false, pixelFormat: .yuv420p, encoderParams: "").validate())
        XCTAssertThrowsError(try EncodeSettings(encoder: .av1, preset: "medium", crf: 35, lossless: false, pixelFormat: .yuv420p, encoderParams: "").validate())
        XCTAssertThrowsError(try EncodeSettings(encoder: .av1, preset: "8", crf: 35, lossless: true, pixelFormat: .yuv420p, encoderParams: "").validate())
        XCTAssertThrowsError(try EncodeSettings(encoder: .h264, preset: "medium", crf: 60, lossless: false, pixelFormat: .yuv420p, encoderParams: "").validate())
        XCTAssertThrowsError(try EncodeSettings(encoder: .av1, preset: "8", crf: 35, lossless: false, pixelFormat: .yuv422p10le, encoderParams: "").validate())
    }

    func testPathSafety() {
        XCTAssertTrue(PathSafety.isSafeRelativePath("../media/in.mkv", allowParent: true))
        XCTAssertFalse(PathSafety.isSafeRelativePath("../media/in.mkv", allowParent: false))
        XCTAssertFalse(PathSafety.isSafeRelativePath("/etc/passwd", allowParent: true))
        XCTAssertFalse(PathSafety.isPlainFileName("../x"))
        XCTAssertFalse(PathSafety.isPlainFileName("a/b"))
        XCTAssertTrue(PathSafety.isPlainFileName("00042-abc123.chunk"))
    }
}
