import EncodaModel
import Foundation
import XCTest

/// The pure half of a trim's partial analysis: the packet index numbers frames as the decoder returns them, the
/// spans to decode are the ranges each with the frame before, and the cuts inside a range read nothing outside
/// that span, so measuring the span alone gives the cuts a whole-file pass gives.
final class PartialAnalysisTests: XCTestCase {
    /// A GOP as x264 writes it with B-frames, in decode order: I0 P3 B1 B2 P6 B4 B5 I7 (pts in units of 10).
    private func reordered() -> PacketIndex {
        let order: [(Int64, Bool)] = [(0, true), (3, false), (1, false), (2, false), (6, false), (4, false), (5, false), (7, true)]
        return PacketIndex(packets: order.enumerated().map { i, p in
            PacketIndex.Packet(pts: p.0 * 10, dts: Int64(i - 1) * 10, duration: 10, isKeyframe: p.1,
                               size: Int32(100 + p.0), position: Int64(1000 * (i + 1)))
        })
    }

    func testPacketsNumberFramesInPresentationOrder() throws {
        let index = try XCTUnwrap(reordered().frameIndex(frameStep: 10))
        XCTAssertEqual(index.frameCount, 8)
        XCTAssertEqual(index.pts, [0, 10, 20, 30, 40, 50, 60, 70])
        XCTAssertEqual(index.durations, [Int64](repeating: 10, count: 8))
        XCTAssertEqual(index.keyframes, [0, 7])
        XCTAssertEqual(index.keyframePositions, [1000, 8000])
        // Each frame's size is its own packet's, wherever the packet lies in decode order.
        XCTAssertEqual(index.packetSizes, [100, 101, 102, 103, 104, 105, 106, 107])
        XCTAssertTrue(index.seekable && !index.seeksByByte)
    }

    func testPacketsAnEditListHidesAreNoFrames() throws {
        var p = reordered()
        // The first three frames shown are cut away by an edit list: decoded (others refer to them), never shown.
        for i in p.packets.indices where p.packets[i].pts! < 30 { p.packets[i].isDiscarded = true }
        let index = try XCTUnwrap(p.frameIndex(frameStep: 10))
        XCTAssertEqual(index.pts, [30, 40, 50, 60, 70])
        XCTAssertEqual(index.keyframes, [0, 4], "frame 0 counts as a keyframe, as in a whole pass")
        XCTAssertEqual(p.hiddenCount, 3)
    }

    func testPacketsThatCannotNumberFramesAreRefused() {
        var missing = reordered(); missing.packets[4].pts = nil
        XCTAssertNil(missing.frameIndex(frameStep: 10))
        XCTAssertEqual(missing.unusableReason, "packets without a presentation timestamp")
        var twice = reordered(); twice.packets[4].pts = 50
        XCTAssertNil(twice.frameIndex(frameStep: 10))
        XCTAssertEqual(twice.unusableReason, "two packets with the timestamp 50")
        var open = reordered(); open.packets[0].isKeyframe = false
        XCTAssertNil(open.frameIndex(frameStep: 10))
        XCTAssertNil(PacketIndex(packets: []).frameIndex(frameStep: 1))
        XCTAssertNil(reordered().unusableReason)
    }

    func testTheLastFrameTakesItsPacketsDurationElseOneFrame() throws {
        var p = reordered()
        p.packets[7].duration = 4
        XCTAssertEqual(try XCTUnwrap(p.frameIndex(frameStep: 10)).durations.last, 4)
        p.packets[7].duration = 0
        XCTAssertEqual(try XCTUnwrap(p.frameIndex(frameStep: 12)).durations.last, 12)
    }

    func testSpansAreTheRangesEachWithTheFrameBeforeMerged() {
        XCTAssertEqual(AnalysisSpans.spans(for: [FrameRange(70, 150)]), [FrameRange(69, 150)])
        XCTAssertEqual(AnalysisSpans.spans(for: [FrameRange(0, 10)]), [FrameRange(0, 10)], "no frame before frame 0")
        // Timeline clips in any order; a gap of one frame is closed by the next clip's frame before.
        XCTAssertEqual(AnalysisSpans.spans(for: [FrameRange(50, 60), FrameRange(10, 20), FrameRange(21, 30), FrameRange(40, 40)]),
                       [FrameRange(9, 30), FrameRange(49, 60)])
        XCTAssertEqual(AnalysisSpans.union([FrameRange(9, 30)], [FrameRange(25, 40), FrameRange(100, 120)]),
                       [FrameRange(9, 40), FrameRange(100, 120)])
    }

    func testACacheCoversOnlyWhatItMeasured() {
        let video = VideoFacts(width: 64, height: 64, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 25),
                               frameRate: Rational(25, 1), sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2,
                               colorMatrix: 2, colorRange: 1, chromaLocation: 0, codecName: "h264", streamIndex: 0)
        let index = FrameIndex(pts: Array(0..<200), durations: [Int64](repeating: 1, count: 200), keyframes: [0])
        var cache = SceneCache(fingerprint: "f", video: video, index: index, changes: [Double](repeating: 0, count: 200),
                               settings: SceneSettings(), cuts: [])
        XCTAssertTrue(cache.covers(nil) && cache.covers([FrameRange(3, 9)]), "a whole pass covers everything")
        cache.analysed = [FrameRange(69, 150)]
        XCTAssertNoThrow(try cache.validate())
        XCTAssertTrue(cache.covers([FrameRange(69, 150)]) && cache.covers([FrameRange(100, 120)]))
        XCTAssertFalse(cache.covers([FrameRange(68, 150)]))
        XCTAssertFalse(cache.covers(nil), "a partial cache is no whole pass")
        cache.analysed = [FrameRange(69, 250)]
        XCTAssertThrowsError(try cache.validate())
    }

    /// Random measurements with shots of random lengths: for many ranges, the cuts inside a range from whole-file
    /// measurements equal those from measurements of the span alone (everything else replaced by garbage).
    func testCutsInsideARangeReadOnlyItsSpan() {
        var rng = SplitMix(seed: 17)
        let n = 600
        var changes = (0..<n).map { _ in Double(rng.next() % 400) / 100 }
        var f = 0
        while f < n { changes[f] = 30 + Double(rng.next() % 40); f += 3 + Int(rng.next() % 40) }
        let settings = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 0)
        var compared = 0, nonEmpty = 0
        for _ in 0..<300 {
            let a = Int(rng.next() % UInt64(n)), b = Int(rng.next() % UInt64(n))
            let range = FrameRange(min(a, b), max(a, b) + 1)
            let span = AnalysisSpans.spans(for: [range])[0]
            var partial = (0..<n).map { _ in Double(rng.next() % 10000) / 100 }
            for i in span.start..<span.end { partial[i] = changes[i] }
            let whole = CutDetector.cuts(changes: changes, settings: settings, within: range)
            XCTAssertEqual(CutDetector.cuts(changes: partial, settings: settings, within: range), whole, "\(range)")
            XCTAssertTrue(whole.allSatisfy { $0 - range.start >= 6 && range.end - $0 >= 6 }, "minimum scene length at both edges")
            compared += 1
            if !whole.isEmpty { nonEmpty += 1 }
        }
        XCTAssertEqual(compared, 300)
        XCTAssertGreaterThan(nonEmpty, 100, "most ranges hold cuts")
        // Over the whole of INPUT, the rule is the whole-file detector's.
        XCTAssertEqual(CutDetector.cuts(changes: changes, settings: settings, within: FrameRange(0, n)),
                       CutDetector.cuts(changes: changes, settings: settings))
    }
}

/// A small seeded generator, so the random ranges are the same on every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
