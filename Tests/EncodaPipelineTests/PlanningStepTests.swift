@testable import EncodaPipeline
import EncodaModel
import XCTest

/// The coordinator's pure planning decisions, without INPUT: how many local workers, and how shots become chunks.
final class PlanningStepTests: XCTestCase {
    private func video(_ width: Int, _ height: Int, fps: Rational = Rational(25, 1)) -> VideoFacts {
        VideoFacts(width: width, height: height, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(fps.den, fps.num),
                   frameRate: fps, sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2,
                   colorMatrix: 2, colorRange: 1, chromaLocation: 0, codecName: "h264", streamIndex: 0)
    }

    func testWorkerBudgetFollowsCoresMemoryAndChunks() {
        let hd = video(1920, 1080) // ~1.24 GB per encoder
        struct Row { var workers: Int?; var threads: Int?; var video: VideoFacts?; var chunks: Int; var cores: Int; var memory: Double
                     var expect: (Int, Int); var why: String }
        let rows = [
            Row(workers: nil, threads: nil, video: hd, chunks: 100, cores: 8, memory: 64e9, expect: (8, 1), why: "one single-threaded worker per core"),
            Row(workers: nil, threads: nil, video: hd, chunks: 3, cores: 8, memory: 64e9, expect: (3, 2), why: "no more workers than chunks; their threads share the cores"),
            Row(workers: nil, threads: nil, video: hd, chunks: 100, cores: 8, memory: 4e9, expect: (2, 4), why: "70 % of memory holds two HD encoders"),
            Row(workers: nil, threads: nil, video: nil, chunks: 100, cores: 8, memory: 2e9, expect: (1, 8), why: "an unknown picture is budgeted 1 GB"),
            Row(workers: 0, threads: nil, video: hd, chunks: 100, cores: 8, memory: 64e9, expect: (0, 8), why: "--workers 0: only coordinate"),
            Row(workers: 3, threads: 5, video: hd, chunks: 100, cores: 8, memory: 64e9, expect: (3, 5), why: "what was asked wins"),
            Row(workers: nil, threads: nil, video: hd, chunks: 100, cores: 0, memory: 64e9, expect: (1, 1), why: "no core granted still runs one"),
        ]
        for r in rows {
            let got = WorkerBudget.choose(requestedWorkers: r.workers, requestedThreads: r.threads, video: r.video, chunks: r.chunks,
                                          cores: r.cores, memory: r.memory)
            XCTAssertEqual(got.workers, r.expect.0, r.why)
            XCTAssertEqual(got.threads, r.expect.1, r.why)
        }
    }

    /// Shots shorter than 2 s of the source's frame rate are grouped into chunks of at least 2 s; the longest shot
    /// (`maxFrames`) bounds the grouping.
    func testChunksAreAtLeastTwoSecondsOfTheSourcesRate() {
        func chunks(shotFrames: Int, frames: Int, fps: Rational, maxFrames: Int = 0) -> [FrameRange] {
            let index = FrameIndex(pts: Array(0..<Int64(frames)), durations: [Int64](repeating: 1, count: frames), keyframes: [0])
            let cache = SceneCache(fingerprint: "f", video: video(64, 64, fps: fps), index: index,
                                   changes: [Double](repeating: 0, count: frames), settings: SceneSettings(), cuts: [])
            let shots = stride(from: 0, to: frames, by: shotFrames).map { FrameRange($0, min(frames, $0 + shotFrames)) }
            return JobSetup.plan(cache: cache, shots: shots, maxFrames: maxFrames).map(\.range)
        }
        XCTAssertEqual(chunks(shotFrames: 10, frames: 100, fps: Rational(25, 1)), [FrameRange(0, 50), FrameRange(50, 100)])
        XCTAssertEqual(chunks(shotFrames: 10, frames: 100, fps: Rational(12, 1)),
                       [FrameRange(0, 30), FrameRange(30, 60), FrameRange(60, 100)], "24 frames at 12 fps; a short tail joins the chunk before")
        XCTAssertEqual(chunks(shotFrames: 10, frames: 100, fps: Rational(24000, 1001)), [FrameRange(0, 50), FrameRange(50, 100)],
                       "48 frames at 23.976 fps")
        XCTAssertEqual(chunks(shotFrames: 20, frames: 100, fps: Rational(25, 1)), [FrameRange(0, 100)],
                       "no longest shot: the 40-frame tail joins the first chunk")
        XCTAssertEqual(chunks(shotFrames: 20, frames: 100, fps: Rational(25, 1), maxFrames: 50),
                       [FrameRange(0, 40), FrameRange(40, 80), FrameRange(80, 100)], "grouping stays within the longest shot")
    }
}
