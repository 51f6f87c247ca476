import Foundation
import XCTest

/// `--segmented-analysis`: the coordinator's analysis as leased segments gives the same job as the whole pass.
final class SegmentedAnalysisEndToEndTests: XCTestCase {
    func testSegmentedAnalysisGivesTheSameOutputAndStatusShowsItsSegments() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let common = ["--encoder", "h264", "--preset", "ultrafast", "--crf", "30", "--workers", "2", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("whole.mkv"), s.file("tmp-whole")] + common)
        try Tool.mustRun(Tool.encoda, [clip, s.file("segmented.mkv"), s.file("tmp-seg"), "--segmented-analysis", "--keep"] + common)
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.file("tmp-seg/analysis.json")), "the analysis was leased work")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp-whole/analysis.json")))

        XCTAssertEqual(try Tool.frameHashes(s.file("segmented.mkv")), try Tool.frameHashes(s.file("whole.mkv")), "frame for frame the same OUTPUT")
        XCTAssertEqual(try Tool.frameTimes(s.file("segmented.mkv")), try Tool.frameTimes(s.file("whole.mkv")))
        func scenes(_ tmp: String) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.file(tmp + "/scenes.json")))) as? [String: Any])
        }
        let whole = try scenes("tmp-whole"), segmented = try scenes("tmp-seg")
        XCTAssertEqual(whole["changes"] as? [Double], segmented["changes"] as? [Double], "the whole pass's measurements")
        XCTAssertEqual(whole["cuts"] as? [Int], segmented["cuts"] as? [Int])

        let status = try Tool.mustRun(Tool.encoda, ["status", s.file("tmp-seg"), "--json"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["state"] as? String, "finished")
        let analysis = try XCTUnwrap(json["analysis"] as? [String: Any], status.stdout)
        let count = try XCTUnwrap(analysis["segments"] as? Int)
        XCTAssertGreaterThan(count, 1)
        XCTAssertEqual(analysis["segmentsDone"] as? Int, count)
        XCTAssertEqual((analysis["byWorker"] as? [[String: Any]])?.compactMap { $0["segments"] as? Int }.reduce(0, +), count)
    }
}
