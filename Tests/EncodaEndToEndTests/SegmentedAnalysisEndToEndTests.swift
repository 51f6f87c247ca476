import Foundation
import XCTest

/// `--segmented-analysis`: the coordinator's analysis as leased segments gives the same job as the whole pass.
final class SegmentedAnalysisEndToEndTests: XCTestCase {
    func testSegmentedAnalysisGivesTheSameOutputAndStatusShowsItsSegments() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let common = ["--encoder", "h264", "--preset", "ultrafast", "--crf", "30", "--workers", "2", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("whole.mkv"), s.file("tmp-whole"), "--no-segmented-analysis"] + common)
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

    /// Killed during the analysis (some segments published, no scenes.json or plan yet), then run again: the published
    /// segments are reused as they are, only the missing one is analysed, and OUTPUT is frame for frame the same.
    func testARerunAfterAKillDuringTheAnalysisReusesThePublishedSegments() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let tmp = s.file("tmp")
        let common = ["--encoder", "h264", "--preset", "ultrafast", "--crf", "30", "--workers", "2", "--segmented-analysis", "--keep", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("first.mkv"), tmp] + common)
        let results = tmp + "/analysis/results"
        let names = try FileManager.default.contentsOfDirectory(atPath: results).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThan(names.count, 2)
        func record(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: results + "/" + name)) }
        let before = try Dictionary(uniqueKeysWithValues: names.map { ($0, try record($0)) })
        // The state a kill during the analysis leaves: analysis.json and the segments published so far, no plan.
        let fm = FileManager.default
        for f in ["scenes.json", "job.json", "coordinator.json"] { try fm.removeItem(atPath: tmp + "/" + f) }
        for d in ["results", "chunks", "journal", "plan"] {
            for f in try fm.contentsOfDirectory(atPath: tmp + "/" + d) { try fm.removeItem(atPath: tmp + "/" + d + "/" + f) }
        }
        let missing = names[1]
        try fm.removeItem(atPath: results + "/" + missing)

        try Tool.mustRun(Tool.encoda, [clip, s.file("second.mkv"), tmp] + common)
        for name in names where name != missing {
            XCTAssertEqual(try record(name), before[name], "segment \(name) was published before the kill: reused, not analysed again")
        }
        XCTAssertNotEqual(try record(missing), before[missing], "the missing segment was analysed again (its record says when)")
        XCTAssertEqual(try Tool.frameHashes(s.file("second.mkv")), try Tool.frameHashes(s.file("first.mkv")))
        XCTAssertEqual(try Tool.frameTimes(s.file("second.mkv")), try Tool.frameTimes(s.file("first.mkv")))
    }

    /// `--autocrop` with `--segmented-analysis`: the crop comes from frames sought across INPUT before the segments
    /// are analysed, the segments' own border samples confirm it, and OUTPUT is the one the whole pass's crop gives.
    func testAutocropFromSampledFramesConfirmedBySegmentsGivesTheWholePassCrop() throws {
        let s = Scratch()
        let clip = s.file("lb.mp4")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x160:rate=25,pad=320:240:0:40:black", "-t", "6", "-g", "25",
                         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", clip])
        let common = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--workers", "2", "--autocrop", "--quiet"]
        try Tool.mustRun(Tool.encoda, [clip, s.file("whole.mkv"), s.file("tmp-whole"), "--no-segmented-analysis"] + common)
        try Tool.mustRun(Tool.encoda, [clip, s.file("segmented.mkv"), s.file("tmp-seg"), "--segmented-analysis", "--keep"] + common)
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.file("tmp-seg/analysis.json")), "the analysis was leased work, not the whole pass")
        XCTAssertEqual(try Tool.videoField(s.file("segmented.mkv"), "height"), "160")
        XCTAssertEqual(try Tool.frameHashes(s.file("segmented.mkv")), try Tool.frameHashes(clip, filter: "crop=320:160:0:40"))
        XCTAssertEqual(try Tool.frameHashes(s.file("segmented.mkv")), try Tool.frameHashes(s.file("whole.mkv")))
        let analysis = try String(contentsOfFile: s.file("tmp-seg/analysis.json"), encoding: .utf8)
        XCTAssertTrue(analysis.contains("\"sampleBorders\":true"), "workers were asked for border samples")
    }

    /// Bars only in the middle of INPUT: frames sampled across 15–85 % see a letterbox, the segments see the
    /// full-frame start and end too. The job stops before any chunk with one clear line; OUTPUT is not written.
    func testACropTheSegmentsContradictStopsTheJobWithOneLine() throws {
        let s = Scratch()
        let clip = s.file("middle.mp4")
        let bars = "drawbox=x=0:y=0:w=320:h=40:color=black:t=fill:enable='between(t,1,9)',drawbox=x=0:y=200:w=320:h=40:color=black:t=fill:enable='between(t,1,9)'"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25," + bars, "-t", "10", "-g", "25",
                         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", clip])
        let r = try Tool.encoda([clip, s.file("out.mkv"), s.file("tmp"), "--encoder", "h264", "--preset", "ultrafast",
                                 "--workers", "2", "--autocrop", "--segmented-analysis"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--autocrop cannot decide one crop") && r.stderr.contains("320:160:0:40") && r.stderr.contains("--crop W:H:X:Y"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
        // The plan streams (job.json is written before the segments are measured): it stopped before the plan was whole.
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/scenes.json")), "no analysis stored")
        let records = (try? FileManager.default.contentsOfDirectory(atPath: s.file("tmp/plan"))) ?? []
        XCTAssertFalse(try records.contains { try String(contentsOfFile: s.file("tmp/plan/" + $0), encoding: .utf8).contains("\"last\":true") },
                       "no plan record ends the plan")
    }
}
