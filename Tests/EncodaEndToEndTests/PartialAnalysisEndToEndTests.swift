import EncodaModel
import Foundation
import XCTest

/// A trim's or a timeline's analysis decodes only its frames, each range with the frame before it, from the source
/// keyframe before that: the frame index comes from the packets alone. Checked against a whole-file pass of the same
/// INPUT (`encoda detect`): the same frame index, the same measurements inside the range, the same plan; and by the
/// frames decoded that scenes.json records. OUTPUT is checked against ffmpeg's trim (framemd5 and ffprobe times).
final class PartialAnalysisEndToEndTests: XCTestCase {
    private var scratch: Scratch!
    private var work: String { scratch.path }

    override func setUpWithError() throws { scratch = Scratch() }
    override func tearDownWithError() throws { scratch = nil }

    private let common = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]

    /// 200 frames of 160x120 at 25 fps in MP4, three shots (cuts at 60 and 120), B-frames (decode order is not
    /// presentation order) and a keyframe every 30 frames exactly: 0, 30, …, 180.
    private func source() throws -> String {
        let out = work + "/src.mp4"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "mandelbrot=size=160x120:rate=25",
                         "-f", "lavfi", "-i", "smptebars=size=160x120:rate=25,hue=H=2*PI*t",
                         "-filter_complex", "[0]trim=end_frame=60[a];[1]trim=end_frame=60[b];[2]trim=end_frame=80[c];[a][b][c]concat=n=3:v=1[v]",
                         "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "3",
                         "-x264-params", "keyint=30:min-keyint=30:scenecut=0", "-pix_fmt", "yuv420p", out])
        return out
    }

    private func cache(_ tmp: String) throws -> SceneCache {
        try JSONDecoder().decode(SceneCache.self, from: Data(contentsOf: URL(fileURLWithPath: tmp + "/scenes.json")))
    }

    private func manifest(_ tmp: String) throws -> JobManifest {
        try JSONDecoder().decode(JobManifest.self, from: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json")))
    }

    func testTrimDecodesOnlyItsRangeAndPlansAsAWholePassDoes() throws {
        let src = try source()
        // The whole-file pass, and in its TMP a dry run of the trim (which reuses that analysis): the reference plan.
        let whole = work + "/tmp-whole"
        try Tool.mustRun(Tool.encoda, ["detect", src, whole, "--quiet"])
        let reference = try cache(whole)
        XCTAssertNil(reference.analysed)
        XCTAssertEqual(reference.framesDecoded, 200)
        XCTAssertEqual(reference.index.keyframes, [0, 30, 60, 90, 120, 150, 180])
        let range = ["--start", "95", "--end", "170"]
        let referencePlan = try Tool.mustRun(Tool.encoda, [src, work + "/ref.mkv", whole, "--dry-run"] + common + range).stdout

        let out = work + "/part.mkv", tmp = work + "/tmp-part"
        let run = try Tool.mustRun(Tool.encoda, [src, out, tmp, "--keep"] + common + range)
        let partial = try cache(tmp)
        // Frames 94..<170 measured (the range and the frame before it); decoded from keyframe 90, plus frame 0 for
        // the stream's facts: 81 of 200.
        XCTAssertEqual(partial.analysed, [FrameRange(94, 170)])
        XCTAssertEqual(partial.framesDecoded, 81, run.stderr)
        XCTAssertTrue(run.stderr.contains("scene pass: 76 of 200 frames measured (81 decoded)"), run.stderr)
        // The packets give the index the whole decode gave, and the measurements inside the range are the same.
        XCTAssertEqual(partial.index, reference.index)
        XCTAssertEqual(partial.video, reference.video)
        XCTAssertEqual(Array(partial.changes[95..<170]), Array(reference.changes[95..<170]))
        XCTAssertTrue(partial.changes[..<94].allSatisfy { $0 == 0 } && partial.changes[170...].allSatisfy { $0 == 0 }, "nothing outside measured")
        // The same plan (cut at 120 inside the range) as the whole pass gives.
        let chunks = try manifest(tmp).chunks
        XCTAssertTrue(chunks.contains { $0.shotStarts.contains(120) }, "\(chunks)")
        let plan = try Tool.mustRun(Tool.encoda, [src, work + "/part2.mkv", tmp, "--dry-run"] + common + range).stdout
        XCTAssertTrue(plan.contains("cuts:      1: 120"), plan)
        XCTAssertEqual(plan, referencePlan)
        // OUTPUT: exactly source frames 95..<170, timestamps from 0.
        let expected = try Tool.frameHashes(src, filter: "trim=start_frame=95:end_frame=170,setpts=PTS-STARTPTS")
        XCTAssertEqual(expected.count, 75)
        XCTAssertEqual(try Tool.frameHashes(out), expected)
        let source = try Tool.frameTimes(src), times = try Tool.frameTimes(out)
        XCTAssertEqual(times.count, 75)
        for (t, w) in zip(times, source[95..<170].map { $0 - source[95] }) { XCTAssertEqual(t, w, accuracy: 0.0011) }
    }

    /// A timeline measures each clip with the frame before it, and nothing between its clips.
    func testTimelineDecodesOnlyItsClips() throws {
        let src = try source()
        let edl = work + "/cut.edl"
        try """
        TITLE: TWO
        FCM: NON-DROP FRAME

        001  AX       V     C        00:10:00:00 00:10:00:20 00:00:00:10 00:00:01:05
        * FROM CLIP NAME: First
        002  BL       V     C        00:00:00:00 00:00:04:00 00:00:01:05 00:00:05:05
        003  AX       V     C        00:20:00:00 00:20:01:00 00:00:05:05 00:00:06:05
        * FROM CLIP NAME: Second
        """.write(toFile: edl, atomically: true, encoding: .utf8)
        let tmp = work + "/tmp-edl"
        let plan = try Tool.mustRun(Tool.encoda, [src, work + "/{clip}.mkv", tmp, "--edl", edl, "--timeline-start", "00:00:00:00", "--dry-run"] + common)
        XCTAssertTrue(plan.stdout.contains("\"First\" frames 10–29 (20)") && plan.stdout.contains("\"Second\" frames 130–154 (25)"), plan.stdout)
        let partial = try cache(tmp)
        XCTAssertEqual(partial.analysed, [FrameRange(9, 30), FrameRange(129, 155)])
        // Frame 0 for the stream's facts, frames 0 to 29 (the first clip's keyframe is 0), then keyframe 120 to 154.
        XCTAssertEqual(partial.framesDecoded, 1 + 30 + 35)
    }
}
