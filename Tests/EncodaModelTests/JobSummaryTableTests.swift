import XCTest
@testable import EncodaModel

/// The summary table's headings stand over their columns: each heading ends where the numbers below it end.
final class JobSummaryTableTests: XCTestCase {
    private func summary(metric: String?) throws -> JobSummary {
        let m = metric.map { #""metric": "\#($0)", "target": 80, "pool": "mean","# } ?? ""
        let probes = metric == nil ? "" : #", "probes": 3"#
        let json = #"{"formatVersion": 1, "jobID": "j", \#(m) "chunks": [{"chunk": 0, "frames": 250, "crf": 31, "score": 80.41, "kbps": 1234.4, "bytes": 1000\#(probes)}, {"chunk": 1, "frames": 5, "crf": 4, "score": 99.9, "kbps": 12, "bytes": 10\#(probes)}]}"#
        return try JSONDecoder().decode(JobSummary.self, from: Data(json.utf8))
    }

    /// The column where `word` ends in `line` (its last character's offset + 1).
    private func end(of word: String, in line: String) -> Int? {
        line.range(of: word).map { line.distance(from: line.startIndex, to: $0.upperBound) }
    }

    func testABitRateJobShowsEachChunksShareAndTheWhole() throws {
        let json = #"{"formatVersion": 1, "jobID": "j", "bitRate": 600000, "chunks": [{"chunk": 0, "frames": 50, "crf": 23, "kbps": 244, "bytes": 1, "shareKbps": 240}, {"chunk": 1, "frames": 150, "crf": 23, "kbps": 700, "bytes": 1, "shareKbps": 720}]}"#
        let lines = try JSONDecoder().decode(JobSummary.self, from: Data(json.utf8)).lines
        XCTAssertEqual(end(of: "share", in: lines[0]), end(of: "240", in: lines[1]), lines.joined(separator: "\n"))
        XCTAssertEqual(end(of: "kb/s", in: lines[0]), end(of: "244", in: lines[1]), lines.joined(separator: "\n"))
        XCTAssertFalse(lines[0].contains("crf"), "a --bitrate job has no CRF to show")
        // The whole: (244·50 + 700·150) / 200 = 586, 2.3 % under 600.
        XCTAssertEqual(lines.last, "all       200      600      586  -2.3 % of --bitrate (video only)")
    }

    func testHeadingsEndWhereTheirNumbersEnd() throws {
        for metric in ["ssimulacra2", nil] {
            let lines = try summary(metric: metric).lines
            let header = lines[0], row = lines[1]
            XCTAssertEqual(end(of: "frames", in: header), end(of: "250", in: row), "\(metric ?? "no metric"):\n\(lines.joined(separator: "\n"))")
            XCTAssertEqual(end(of: "crf", in: header), end(of: "31", in: row))
            XCTAssertEqual(end(of: "kb/s", in: header), end(of: "1234", in: row), lines.joined(separator: "\n"))
            if let metric {
                XCTAssertEqual(end(of: metric, in: header), end(of: "80.41", in: row))
                XCTAssertEqual(end(of: "probes", in: header), row.count)
            }
        }
    }
}
