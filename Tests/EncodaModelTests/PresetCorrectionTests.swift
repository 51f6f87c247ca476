import EncodaModel
import XCTest

/// `--probe-preset`'s correction: the CRF shift read off a chunk's probes, its mean over the finished chunks, the
/// final encode's CRF, and the chunk's outcome judged on its final encode.
final class PresetCorrectionTests: XCTestCase {
    /// Probes at 20, 30 and 40 scoring 90, 70 and 40: two straight lines of slope -2 and -3.
    private let probes = [ProbePoint(crf: 40, score: 40), ProbePoint(crf: 20, score: 90), ProbePoint(crf: 30, score: 70)]

    func testTheShiftIsWhereTheProbesReachTheFinalScore() {
        XCTAssertEqual(PresetCorrection.shift(probes: probes, crf: 30, score: 55)!, 5, accuracy: 1e-9, "between two probes")
        XCTAssertEqual(PresetCorrection.shift(probes: probes, crf: 30, score: 70)!, 0, accuracy: 1e-9, "at a probe")
        XCTAssertEqual(PresetCorrection.shift(probes: probes, crf: 25, score: 80)!, 0, accuracy: 1e-9)
        XCTAssertEqual(PresetCorrection.shift(probes: probes, crf: 20, score: 100)!, -5, accuracy: 1e-9, "beyond the best probe")
        XCTAssertEqual(PresetCorrection.shift(probes: probes, crf: 40, score: 31)!, 3, accuracy: 1e-9, "beyond the worst probe")
        XCTAssertEqual(PresetCorrection.shift(probes: probes, crf: 10, score: 0)!, 20, accuracy: 1e-9, "at most maxShift")
        XCTAssertNil(PresetCorrection.shift(probes: [ProbePoint(crf: 30, score: 70)], crf: 30, score: 60), "one probe says nothing")
        XCTAssertNil(PresetCorrection.shift(probes: [ProbePoint(crf: 30, score: 70), ProbePoint(crf: 35, score: 70)], crf: 30, score: 60))
    }

    func testTheShiftUsedIsTheRoundedMeanAndTheFinalCRFStaysInTheRange() {
        func record(_ chunk: Int, crf: Int, score: Double) -> FinalEncodeRecord {
            FinalEncodeRecord(jobID: "j", chunk: chunk, crf: crf, score: score, probeCRF: crf, probeScore: 0, probes: probes, shiftUsed: 0,
                              outcome: .reached, framesScored: 10, file: "x.chunk", bytes: 1, crc32: 0, seconds: 0)
        }
        XCTAssertEqual(PresetCorrection.meanShift(of: []), 0, "none measured yet")
        XCTAssertEqual(record(0, crf: 30, score: 55).shift, 5)
        XCTAssertEqual(PresetCorrection.meanShift(of: [record(0, crf: 30, score: 55)]), 5)
        // 5, and 6 for crf 28 scoring 58, which the probes reach at crf 34: 5.5 rounds to 6.
        XCTAssertEqual(PresetCorrection.meanShift(of: [record(0, crf: 30, score: 55), record(1, crf: 28, score: 58)]), 6)
        XCTAssertEqual(PresetCorrection.finalCRF(probeCRF: 25, shift: 7, range: 10...46), 18)
        XCTAssertEqual(PresetCorrection.finalCRF(probeCRF: 12, shift: 7, range: 10...46), 10)
        XCTAssertEqual(PresetCorrection.finalCRF(probeCRF: 45, shift: -3, range: 10...46), 46)
    }

    func testAMissIsEncodedOnceMoreAtTheChunksOwnShift() {
        // Chose crf 30 on the probes; the encode at 30 scored 55, which the probes reach at 35: once more at 25.
        XCTAssertEqual(PresetCorrection.retry(probes: probes, probeCRF: 30, crf: 30, score: 55, target: 70, range: 10...46)?.crf, 25)
        XCTAssertEqual(PresetCorrection.retry(probes: probes, probeCRF: 30, crf: 30, score: 55, target: 70, range: 10...46)?.shift, 5)
        XCTAssertNil(PresetCorrection.retry(probes: probes, probeCRF: 30, crf: 30, score: 69.5, target: 70, range: 10...46), "within the tolerance")
        XCTAssertNil(PresetCorrection.retry(probes: probes, probeCRF: 30, crf: 30, score: 80, target: 70, range: 10...46), "above it")
        XCTAssertNil(PresetCorrection.retry(probes: probes, probeCRF: 12, crf: 10, score: 55, target: 70, range: 10...46),
                     "already at the range's best end")
        XCTAssertNil(PresetCorrection.retry(probes: [ProbePoint(crf: 30, score: 70)], probeCRF: 30, crf: 30, score: 55, target: 70,
                                            range: 10...46), "no shift to read off one probe")
    }

    func testTheOutcomeIsJudgedOnTheFinalEncode() {
        XCTAssertEqual(PresetCorrection.outcome(finalCRF: 10, finalScore: 70, target: 75, range: 10...46), .unreachable)
        XCTAssertEqual(PresetCorrection.outcome(finalCRF: 10, finalScore: 93, target: 75, range: 10...46), .reached)
        XCTAssertEqual(PresetCorrection.outcome(finalCRF: 46, finalScore: 80, target: 75, range: 10...46), .exceeded)
        XCTAssertEqual(PresetCorrection.outcome(finalCRF: 46, finalScore: 60, target: 75, range: 10...46), .reached)
        XCTAssertEqual(PresetCorrection.outcome(finalCRF: 30, finalScore: 60, target: 75, range: 10...46), .reached)
        let q = { (score: Double, preset: String?) in
            ChunkQuality(crf: 30, score: score, target: 75, metric: .ssimulacra2, outcome: .reached, probes: [], probeSeconds: 0,
                         finalSeconds: 0, probePreset: preset, crfShift: preset == nil ? nil : 0)
        }
        XCTAssertTrue(q(73.9, "ultrafast").finalMissed)
        XCTAssertFalse(q(74.1, "ultrafast").finalMissed, "within the tolerance of 1")
        XCTAssertFalse(q(73.9, nil).finalMissed, "only a search on faster probes can miss this way")
    }
}
