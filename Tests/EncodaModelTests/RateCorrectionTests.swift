import EncodaModel
import XCTest

/// The correction of a chunk that misses its share of --bitrate under SVT-AV1 --two-pass: when it stops, and the
/// rates it tries.
final class RateCorrectionTests: XCTestCase {
    typealias Attempt = RateCorrection.Attempt

    func testTargetBytesAreTheShareOverTheChunksDuration() {
        XCTAssertEqual(RateCorrection.targetBytes(rate: 600_000, frames: 50, framesPerSecond: 25), 150_000)
        XCTAssertEqual(RateCorrection.targetBytes(rate: 1_186_745, frames: 39, framesPerSecond: 25), 231_415)
        XCTAssertEqual(RateCorrection.targetBytes(rate: 600_000, frames: 50, framesPerSecond: 0), 0)
    }

    func testAChunkWithinFourPercentIsKept() {
        for bytes in [96_000, 100_000, 104_000] {
            XCTAssertNil(RateCorrection.nextRate(share: 800_000, target: 100_000, attempts: [Attempt(rate: 800_000, bytes: bytes)]), "\(bytes)")
        }
        XCTAssertNotNil(RateCorrection.nextRate(share: 800_000, target: 100_000, attempts: [Attempt(rate: 800_000, bytes: 104_100)]))
        XCTAssertNotNil(RateCorrection.nextRate(share: 800_000, target: 100_000, attempts: [Attempt(rate: 800_000, bytes: 95_900)]))
    }

    /// The figures of chunk 00001 of the end-to-end test's clip at preset 12: 42.8 % over, then 4.8 % under.
    func testTheFirstCorrectionScalesAndTheSecondFollowsTheEncodersResponse() throws {
        let share = 379_486, target = 94_872
        let first = try XCTUnwrap(RateCorrection.nextRate(share: share, target: target, attempts: [Attempt(rate: share, bytes: 135_476)]))
        XCTAssertEqual(first, Int((Double(share) * pow(94_872 / 135_476, 1 / RateCorrection.typicalResponse)).rounded()))
        let attempts = [Attempt(rate: share, bytes: 135_476), Attempt(rate: first, bytes: 90_283)]
        let second = try XCTUnwrap(RateCorrection.nextRate(share: share, target: target, attempts: attempts))
        // Between the two rates tried, nearer the second, on the line through both (log scale).
        XCTAssertGreaterThan(second, first)
        XCTAssertLessThan(second, share)
        let slope = log(135_476.0 / 90_283) / log(Double(share) / Double(first))
        XCTAssertEqual(Double(second), Double(first) * pow(Double(target) / 90_283, 1 / slope), accuracy: 1)
        // Four corrections at most.
        var more = attempts + [Attempt(rate: second, bytes: 80_000)]
        XCTAssertNotNil(RateCorrection.nextRate(share: share, target: target, attempts: more))
        more += [Attempt(rate: second + 1_000, bytes: 81_000), Attempt(rate: second + 2_000, bytes: 82_000)]
        XCTAssertEqual(more.count, 1 + RateCorrection.maxCorrections)
        XCTAssertNil(RateCorrection.nextRate(share: share, target: target, attempts: more))
    }

    func testAFlatOrBackwardResponseFallsBackToTheTypicalOneAndRatesStayNearTheShare() throws {
        func typical(_ rate: Double, _ ratio: Double) -> Int { Int((rate * pow(ratio, 1 / RateCorrection.typicalResponse)).rounded()) }
        // Twice the rate gave the same bytes, or more rate fewer bytes: the last rate is scaled at the typical response.
        let flat = [Attempt(rate: 100_000, bytes: 50_000), Attempt(rate: 200_000, bytes: 50_000)]
        XCTAssertEqual(RateCorrection.nextRate(share: 100_000, target: 40_000, attempts: flat), typical(200_000, 0.8))
        let backward = [Attempt(rate: 100_000, bytes: 50_000), Attempt(rate: 120_000, bytes: 40_000)]
        XCTAssertEqual(RateCorrection.nextRate(share: 100_000, target: 30_000, attempts: backward), typical(120_000, 0.75))
        // A rate already tried is not tried again (it would give the same bytes): here the lowest one allowed.
        XCTAssertNil(RateCorrection.nextRate(share: 100_000, target: 100_000, attempts: [Attempt(rate: 25_000, bytes: 200_000)]))
        // Never below a quarter or above four times the share.
        XCTAssertEqual(RateCorrection.nextRate(share: 100_000, target: 1_000, attempts: [Attempt(rate: 100_000, bytes: 100_000)]), 25_000)
        XCTAssertEqual(RateCorrection.nextRate(share: 100_000, target: 100_000, attempts: [Attempt(rate: 100_000, bytes: 1_000)]), 400_000)
        // Nothing to measure: keep what there is.
        XCTAssertNil(RateCorrection.nextRate(share: 100_000, target: 100_000, attempts: []))
        XCTAssertNil(RateCorrection.nextRate(share: 100_000, target: 100_000, attempts: [Attempt(rate: 100_000, bytes: 0)]))
    }
    func testTheClosestAttemptIsKeptWhenTheLastOvershootsFurther() throws {
        typealias A = RateCorrection.Attempt
        // -8 %, then +12 %, then +10 %: the first is closest.
        let attempts = [A(rate: 600_000, bytes: 9_200), A(rate: 660_000, bytes: 11_200), A(rate: 640_000, bytes: 11_000)]
        XCTAssertEqual(RateCorrection.closest(target: 10_000, attempts: attempts), attempts[0])
        XCTAssertEqual(RateCorrection.closest(target: 10_000, attempts: [attempts[0], A(rate: 620_000, bytes: 10_300)])?.rate, 620_000)
        // Equally close: the earlier one (no encode more than needed).
        XCTAssertEqual(RateCorrection.closest(target: 10_000, attempts: [A(rate: 1, bytes: 9_500), A(rate: 2, bytes: 10_500)])?.rate, 1)
        XCTAssertNil(RateCorrection.closest(target: 10_000, attempts: []))
    }
}
