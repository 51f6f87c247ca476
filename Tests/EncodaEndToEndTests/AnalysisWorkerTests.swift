import EncodaModel
import Foundation
import XCTest

/// `encoda worker TMP` takes analysis segments (TMP/analysis.json) before anything else, through the real analyser.
final class AnalysisWorkerTests: XCTestCase {
    func testAWorkerAnalysesEverySegmentAsTheWholePassMeasuresItAndStatusShowsWho() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        _ = try Tool.mustRun(Tool.encoda, ["detect", clip, s.file("whole"), "--quiet"])
        let whole = try JSONDecoder().decode(SceneCache.self, from: Data(contentsOf: URL(fileURLWithPath: s.file("whole/scenes.json"))))
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: clip)[.size] as? NSNumber).int64Value
        let segments = AnalysisSegmentPlanner.segments(index: whole.index, workers: 2)
        XCTAssertGreaterThan(segments.count, 2, "the clip's keyframes give several segments")
        let m = AnalysisManifest(jobID: "analysis-e2e-0001", createdAt: 0,
                                 input: InputReference(absolutePath: clip, pathRelativeToWorkDirectory: nil, size: size, fingerprint: whole.fingerprint),
                                 video: whole.video, index: whole.index, farm: nil, segments: segments)
        try m.validate()
        let tmp = s.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try JSONEncoder().encode(m).write(to: URL(fileURLWithPath: tmp + "/analysis.json"))

        // Two worker processes share the segments.
        _ = try Tool.mustRun(Tool.encoda, ["worker", tmp, "--workers", "2", "--exit-when-idle"])
        for seg in segments {
            let data = try Data(contentsOf: URL(fileURLWithPath: tmp + "/analysis/results/\(seg.name).json"))
            let rec = try JSONDecoder().decode(SegmentRecord.self, from: data)
            XCTAssertEqual(rec.segment, seg)
            let frames = seg.frames.start..<seg.frames.end
            // The first frame's change crosses the boundary: the assembly computes it from the edge planes
            // (SegmentedAnalysisTests and SegmentedAnalysisEndToEndTests prove that part bit for bit).
            XCTAssertEqual(Array(rec.measurements.changes.dropFirst()), Array(whole.changes[frames].dropFirst()),
                           "segment \(seg.name): the whole pass's changes, bit for bit")
            XCTAssertEqual(rec.measurements.changes.first, 0)
            let edges = try XCTUnwrap(rec.measurements.edges)
            XCTAssertEqual(edges.first.count, edges.width * edges.height)
            XCTAssertEqual(edges.last.count, edges.width * edges.height)
            XCTAssertEqual(rec.measurements.pts, Array(whole.index.pts[frames]))
            XCTAssertEqual(rec.measurements.durations, Array(whole.index.durations[frames]))
        }

        let status = try Tool.mustRun(Tool.encoda, ["status", tmp, "--json"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["state"] as? String, "analysing")
        let analysis = try XCTUnwrap(json["analysis"] as? [String: Any])
        XCTAssertEqual(analysis["segments"] as? Int, segments.count)
        XCTAssertEqual(analysis["segmentsDone"] as? Int, segments.count)
        let by = try XCTUnwrap(analysis["byWorker"] as? [[String: Any]])
        XCTAssertEqual(by.compactMap { $0["segments"] as? Int }.reduce(0, +), segments.count, "each segment counted once, by its worker")
        let done = try XCTUnwrap(analysis["done"] as? [[String: Any]])
        XCTAssertEqual(done.compactMap { $0["segment"] as? Int }, segments.map(\.id))
        XCTAssertEqual(Set(done.compactMap { $0["worker"] as? String }), Set(by.compactMap { $0["worker"] as? String }))

        // A second worker finds every segment published and analyses nothing.
        let again = try Tool.mustRun(Tool.encoda, ["worker", tmp, "--workers", "1", "--exit-when-idle"])
        XCTAssertTrue(again.stderr.contains("analysed 0 segment(s)"), again.stderr)
    }
}
