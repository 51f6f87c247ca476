import EncodaModel
import XCTest
@testable import EncodaMedia

/// The sampled crop pass (`CropSampler`) decides as the whole scene pass's border samples do, on real clips ffmpeg
/// makes: letterboxed, without bars, bars that come and go; and it samples where it says it does.
final class CropSamplerTests: XCTestCase {
    var clips: Clips!
    override func setUpWithError() throws { clips = try Clips() }
    override func tearDown() { clips.remove() }

    private func lavfi(_ name: String, _ graph: String, seconds: Int, gop: Int = 25) throws -> String {
        try clips.make(name, ["-f", "lavfi", "-i", graph, "-t", "\(seconds)", "-c:v", "libx264", "-preset", "ultrafast",
                              "-g", "\(gop)", "-bf", "2", "-pix_fmt", "yuv420p"])
    }

    /// The sampled decision and the whole pass's, on the same file.
    private func decisions(_ path: String) throws -> (sampled: CropDecision, whole: CropDecision, wholeAnalysis: CropAnalysis) {
        let whole = try ScenePass.run(input: path, encoder: .h264)
        let (preview, reason) = try ScenePass.preview(input: path, encoder: .h264)
        let p = try XCTUnwrap(preview, reason ?? "no preview")
        let frames = CropSampler.frames(frameCount: p.index.frameCount, keyframes: p.index.keyframes)
        let sampled = try CropSampler.measure(input: path, video: p.video, index: p.index, frames: frames)
        XCTAssertEqual(sampled.frames, frames, "every chosen frame is measured")
        let wholeAnalysis = try XCTUnwrap(whole.crop)
        return (CropDetector.decide(sampled), CropDetector.decide(wholeAnalysis), wholeAnalysis)
    }

    func testLetterboxIsFoundBySamplingAsByTheWholePass() throws {
        let src = try lavfi("lb.mp4", "testsrc2=size=320x160:rate=25,pad=320:240:0:40:black", seconds: 6)
        let d = try decisions(src)
        XCTAssertEqual(d.sampled.crop, CropRect(width: 320, height: 160, x: 0, y: 40), d.sampled.explanation)
        XCTAssertEqual(d.sampled.crop, d.whole.crop)
        XCTAssertNil(CropSampler.disagreement(sampled: d.sampled, full: d.wholeAnalysis))
    }

    func testAFullFramePictureIsNotCropped() throws {
        let src = try lavfi("full.mp4", "testsrc2=size=320x240:rate=25", seconds: 4)
        let d = try decisions(src)
        XCTAssertNil(d.sampled.crop, d.sampled.explanation)
        XCTAssertNil(d.whole.crop)
    }

    func testBarsThatComeAndGoGiveNoCropEitherWay() throws {
        let src = try lavfi("mixed.mp4",
            "testsrc2=size=320x240:rate=25,drawbox=x=0:y=0:w=320:h=40:color=black:t=fill:enable='lt(t,1)',drawbox=x=0:y=200:w=320:h=40:color=black:t=fill:enable='lt(t,1)'",
            seconds: 3)
        let d = try decisions(src)
        XCTAssertNil(d.sampled.crop, d.sampled.explanation)
        XCTAssertNil(d.whole.crop)
    }

    /// Bars only in the middle 70 % of a file: the samples see the letterbox everywhere, a whole pass sees the
    /// full-frame opening and end as well. The two must not silently disagree: `disagreement` names it.
    func testAContradictionIsNamed() throws {
        let src = try lavfi("middle.mp4",
            "testsrc2=size=320x240:rate=25,drawbox=x=0:y=0:w=320:h=40:color=black:t=fill:enable='between(t,1,9)',drawbox=x=0:y=200:w=320:h=40:color=black:t=fill:enable='between(t,1,9)'",
            seconds: 10)
        let d = try decisions(src)
        XCTAssertEqual(d.sampled.crop, CropRect(width: 320, height: 160, x: 0, y: 40), d.sampled.explanation)
        // The whole pass also sees the full-frame first and last second: no single rectangle covers every sample.
        XCTAssertNil(d.whole.crop, d.whole.explanation)
        let why = try XCTUnwrap(CropSampler.disagreement(sampled: d.sampled, full: d.wholeAnalysis))
        XCTAssertTrue(why.contains("crop 320:160:0:40") && why.contains("no crop"), why)
    }

    func testPointsSnapToNearbyKeyframesAndStayInTheMiddle() {
        // 10,000 frames, a keyframe every 50: 141 points 49.6 frames apart; each within 25 frames of a keyframe.
        let keyframes = Array(stride(from: 0, to: 10_000, by: 50))
        let frames = CropSampler.frames(frameCount: 10_000, keyframes: keyframes)
        XCTAssertEqual(frames.count, 141)
        XCTAssertTrue(frames.allSatisfy { $0 % 50 == 0 }, "\(frames.filter { $0 % 50 != 0 })")
        XCTAssertGreaterThanOrEqual(frames.first!, 1500)
        XCTAssertLessThanOrEqual(frames.last!, 8500)
        // Keyframes far apart (one every 1,000): points keep their place, except the few near a keyframe.
        let sparse = CropSampler.frames(frameCount: 10_000, keyframes: Array(stride(from: 0, to: 10_000, by: 1000)))
        XCTAssertEqual(sparse.count, 141)
        XCTAssertEqual(sparse, sparse.sorted())
        // A short clip: one point per frame of its middle.
        let short = CropSampler.frames(frameCount: 20, keyframes: [0])
        XCTAssertEqual(short, Array(3...17))
    }
}
