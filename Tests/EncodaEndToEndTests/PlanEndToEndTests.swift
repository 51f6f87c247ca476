import Foundation
import XCTest

/// job.json holds the plan's decisions: a worker encodes from it alone, the same bits as before, and a job.json of
/// an older format is refused with what to do.
final class PlanEndToEndTests: XCTestCase {
    /// 48 frames at 4 fps with a keyframe every 5 frames, cut every 8 frames (2 s, encoda's shortest chunk) by an
    /// Av1an scenes.json: 6 chunks, most of them starting between keyframes.
    private func job(_ s: Scratch) throws -> (clip: String, args: [String]) {
        let clip = s.file("in.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=4", "-frames:v", "48",
                         "-c:v", "libx264", "-preset", "ultrafast", "-g", "5", "-sc_threshold", "0", "-pix_fmt", "yuv420p", clip])
        let scenes = (0..<6).map { "{\"start_frame\":\(8 * $0),\"end_frame\":\(8 * $0 + 8),\"zone_overrides\":null}" }
        try Data("{\"scenes\":[\(scenes.joined(separator: ","))],\"frames\":48}".utf8).write(to: URL(fileURLWithPath: s.file("scenes-av1an.json")))
        return (clip, [clip, s.file("out.mkv"), s.file("tmp"), "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                       "--scenes-json", s.file("scenes-av1an.json"), "--max-scene-length", "0", "--workers", "2", "--threads", "1",
                       "--keep", "--quiet", "-y"])
    }

    private func record(_ tmp: String, _ id: Int) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + String(format: "%05d.json", id)))) as? [String: Any])
    }

    func testAWorkerEncodesFromJobJsonAloneTheSameBits() throws {
        let s = Scratch()
        let (clip, args) = try job(s)
        let tmp = s.file("tmp")
        try Tool.mustRun(Tool.encoda, args)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "frame-exact")
        let job = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as? [String: Any])
        let plan = try XCTUnwrap(job["plan"] as? [String: Any])
        XCTAssertEqual(plan["container"] as? String, "matroska")
        XCTAssertEqual(plan["pixelFormat"] as? String, "yuv420p")
        XCTAssertEqual((plan["claimOrder"] as? [Int])?.sorted(), Array(0..<6))
        let slices = try XCTUnwrap(plan["slices"] as? [[String: Any]])
        XCTAssertEqual(slices.map { $0["first"] as? Int }, [0, 7, 15, 23, 31, 39])
        XCTAssertEqual(slices[1]["keyframes"] as? [Int], [0, 5])

        // Chunks 1, 3 and 4 gone, and scenes.json with them: a remote worker encodes them again from job.json.
        let before = try (0..<6).map { try record(tmp, $0)["crc32"] as? Int }
        for id in [1, 3, 4] {
            let file = try XCTUnwrap(try record(tmp, id)["file"] as? String)
            try FileManager.default.removeItem(atPath: tmp + "/results/" + String(format: "%05d.json", id))
            try FileManager.default.removeItem(atPath: tmp + "/chunks/" + file)
        }
        try FileManager.default.removeItem(atPath: tmp + "/scenes.json")
        let r = try Tool.run(Tool.encoda, ["worker", tmp, "--exit-when-idle", "--threads", "1", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/scenes.json"), "the worker did not need scenes.json")
        XCTAssertEqual(try (0..<6).map { try record(tmp, $0)["crc32"] as? Int }, before, "byte-identical chunks")
    }

    func testAJobJsonOfTheFormerFormatIsRefusedWithWhatToDo() throws {
        let s = Scratch()
        let (clip, args) = try job(s)
        let tmp = s.file("tmp")
        try Tool.mustRun(Tool.encoda, args)
        // As the previous encoda wrote it: format 1, no plan.
        var job = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as? [String: Any])
        job["formatVersion"] = 1
        job["plan"] = nil
        try JSONSerialization.data(withJSONObject: job).write(to: URL(fileURLWithPath: tmp + "/job.json"))
        let refused = try Tool.run(Tool.encoda, args)
        XCTAssertEqual(refused.status, 78, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("earlier encoda") && refused.stderr.contains("--restart"), refused.stderr)
        let worker = try Tool.run(Tool.encoda, ["worker", tmp, "--exit-when-idle", "--quiet"])
        XCTAssertNotEqual(worker.status, 0)
        XCTAssertTrue(worker.stderr.contains("--restart"), worker.stderr)
        try Tool.mustRun(Tool.encoda, args + ["--restart"])
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "frame-exact")
    }
}
