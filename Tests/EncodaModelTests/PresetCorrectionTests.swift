import EncodaModel
import XCTest

/// `--probe-preset`'s correction: the mean of the finished chunks' (final − probe) differences, and the chunk's
/// outcome judged on its final encode.
final class PresetCorrectionTests: XCTestCase {
    private func record(_ chunk: Int, final: Double, probe: Double) -> FinalEncodeRecord {
        FinalEncodeRecord(jobID: "j", chunk: chunk, crf: 30, score: final, probeScore: probe, correctionUsed: 0, outcome: .reached,
                          framesScored: 10, file: "x.chunk", bytes: 1, crc32: 0, seconds: 0)
    }

    func testTheCorrectionIsTheMeanMeasuredDifference() {
        XCTAssertEqual(PresetCorrection.mean(of: []), 0, "none measured yet")
        XCTAssertEqual(PresetCorrection.mean(of: [record(0, final: 70, probe: 75)]), -5)
        XCTAssertEqual(PresetCorrection.mean(of: [record(0, final: 70, probe: 75), record(3, final: 80, probe: 79)]), -2)
        XCTAssertEqual(PresetCorrection.mean(of: [record(0, final: 70, probe: 75), record(1, final: .nan, probe: 79)]), -5,
                       "a score that is not a number measures nothing")
    }

    func testARangesEndIsItsOutcomeOnlyWhenTheFinalEncodeAgrees() {
        XCTAssertEqual(PresetCorrection.outcome(search: .unreachable, finalScore: 70, target: 75), .unreachable)
        XCTAssertEqual(PresetCorrection.outcome(search: .unreachable, finalScore: 93, target: 75), .reached)
        XCTAssertEqual(PresetCorrection.outcome(search: .exceeded, finalScore: 80, target: 75), .exceeded)
        XCTAssertEqual(PresetCorrection.outcome(search: .exceeded, finalScore: 60, target: 75), .reached)
        XCTAssertEqual(PresetCorrection.outcome(search: .reached, finalScore: 60, target: 75), .reached)
        let q = { (score: Double, preset: String?) in
            ChunkQuality(crf: 30, score: score, target: 75, metric: .ssimulacra2, outcome: .reached, probes: [], probeSeconds: 0,
                         finalSeconds: 0, probePreset: preset, correction: preset == nil ? nil : 0)
        }
        XCTAssertTrue(q(73.9, "ultrafast").finalMissed)
        XCTAssertFalse(q(74.1, "ultrafast").finalMissed, "within the tolerance of 1")
        XCTAssertFalse(q(73.9, nil).finalMissed, "only a search on faster probes can miss this way")
    }
}
