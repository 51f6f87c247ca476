import EncodaModel
import Foundation
import XCTest

/// The per-chunk CRF search of `--target-quality`, run against fake metrics (monotone curves of score by CRF):
/// it converges within the probe budget, lands on the highest CRF that meets the target (or within the tolerance
/// above it), resumes from recorded probes, and ends at the range's end when the target lies outside the range.
final class CRFSearchTests: XCTestCase {
    /// Fake metrics: score at a CRF, falling as the CRF rises.
    static let curves: [(name: String, score: @Sendable (Int) -> Double)] = [
        ("linear", { 100 - 1.2 * Double($0) }),
        ("convex", { 100 - 0.03 * Double($0 * $0) }),
        ("logistic", { 100 / (1 + exp((Double($0) - 38) / 5)) }),
        ("shallow", { 98 - 0.15 * Double($0) }),
        ("steep-then-flat", { $0 < 25 ? 99 - 2.5 * Double($0 - 10) : 61.5 - 0.3 * Double($0 - 25) }),
    ]

    struct Run { var chosen: Int; var outcome: CRFSearch.Outcome; var probes: [ProbePoint]; var encodes: Int }

    /// Runs the search to its end like a worker does (`TargetQualityEncoding`); `encodes` counts the final encode
    /// at the range's end that follows a search in which no probe met the target.
    func search(_ score: (Int) -> Double, target: Double, range: ClosedRange<Int> = 10...55, probes: Int = 4) -> Run {
        var points: [ProbePoint] = []
        while true {
            switch CRFSearch.next(points, target: target, range: range, maxProbes: probes) {
            case .probe(let crf):
                XCTAssertTrue(range.contains(crf), "probe \(crf) outside \(range)")
                XCTAssertFalse(points.contains { $0.crf == crf }, "crf \(crf) probed twice")
                points.append(ProbePoint(crf: crf, score: score(crf)))
                if points.count > probes { XCTFail("more than \(probes) probes"); return Run(chosen: crf, outcome: .reached, probes: points, encodes: points.count) }
            case .choose(let crf, let outcome):
                // The range's end, not measured yet: encoded once more, and the search asked again.
                if !points.contains(where: { $0.crf == crf }) {
                    XCTAssertEqual(crf, range.lowerBound, "only the range's best end is chosen unmeasured")
                    XCTAssertEqual(points.count, probes, "and only once the probes are spent")
                    points.append(ProbePoint(crf: crf, score: score(crf)))
                    continue
                }
                return Run(chosen: crf, outcome: outcome, probes: points, encodes: points.count)
            }
        }
    }

    func testConvergesOnEveryCurveWithinTheProbeBudget() {
        for (name, score) in Self.curves {
            for target in stride(from: 40.0, through: 96.0, by: 4) {
                let range = 10...55
                guard score(range.lowerBound) >= target, score(range.upperBound) < target else { continue }
                let r = search(score, target: target)
                let label = "\(name) target \(target): chose \(r.chosen) after \(r.probes)"
                XCTAssertEqual(r.outcome, .reached, label)
                XCTAssertLessThanOrEqual(r.encodes, 5, label)
                if r.encodes == 5 { XCTAssertEqual(r.chosen, range.lowerBound, "a fifth encode only at the range's end: \(label)") }
                XCTAssertGreaterThanOrEqual(score(r.chosen), target, "meets the target: \(label)")
                // The best possible is the highest CRF that meets the target; four probes may stop short of it
                // only when the chosen one is within the tolerance (1) above the target, or a few CRFs below it.
                let best = range.filter { score($0) >= target }.max()!
                XCTAssertTrue(score(r.chosen) - target <= 1 || best - r.chosen <= 3, "near the optimum \(best): \(label)")
            }
        }
    }

    func testALinearMetricIsHitByInterpolationInThreeProbes() {
        // 100 - 1.2 crf reaches 70 at crf 25: binary 33 (60.4, miss), 21 (74.8, meets), then the line through them.
        let r = search({ 100 - 1.2 * Double($0) }, target: 70)
        XCTAssertEqual(r.probes.map(\.crf), [33, 21, 25])
        XCTAssertEqual(r.chosen, 25)
        XCTAssertEqual(r.outcome, .reached)
    }

    func testUnreachableTargetsEndAtTheRangesEnds() {
        let score: (Int) -> Double = { 100 - 1.2 * Double($0) }
        // Even crf 30 gives only 64: the best end of 30…50, named unreachable.
        let low = search(score, target: 90, range: 30...50)
        XCTAssertEqual(low.chosen, 30)
        XCTAssertEqual(low.outcome, .unreachable)
        XCTAssertLessThanOrEqual(low.encodes, 4)
        XCTAssertTrue(low.probes.contains { $0.crf == 30 }, "the range's end was measured: \(low.probes)")
        // Even crf 50 gives 40: the worst end, better than asked.
        let high = search(score, target: 20, range: 30...50)
        XCTAssertEqual(high.chosen, 50)
        XCTAssertEqual(high.outcome, .exceeded)
        XCTAssertLessThanOrEqual(high.encodes, 4)
    }

    func testTargetsAtTheEdgesOfTheRange() {
        let score: (Int) -> Double = { 100 - 1.2 * Double($0) }
        // Met exactly at the low end (crf 10 gives 88) and no higher.
        let atLow = search(score, target: 88)
        XCTAssertEqual(atLow.chosen, 10)
        XCTAssertEqual(atLow.outcome, .reached)
        // Met exactly at the high end (crf 55 gives 34).
        let atHigh = search(score, target: 34)
        XCTAssertEqual(atHigh.chosen, 55, "\(atHigh.probes)")
        XCTAssertNotEqual(atHigh.outcome, .unreachable)
        XCTAssertLessThanOrEqual(atHigh.encodes, 4)
    }

    func testOneProbeBudgetStillEndsAndNeverGoesBeyondTheRange() {
        // One probe, plus the range's end when it missed.
        for (name, score) in Self.curves {
            let r = search(score, target: 80, probes: 1)
            XCTAssertLessThanOrEqual(r.encodes, 2, name)
            XCTAssertTrue((10...55).contains(r.chosen), name)
            if r.outcome == .reached { XCTAssertGreaterThanOrEqual(score(r.chosen), 80, name) }
        }
    }

    func testResumingFromRecordedProbesContinuesTheSameSearch() {
        let score: (Int) -> Double = { 100 / (1 + exp((Double($0) - 38) / 5)) }
        let whole = search(score, target: 80)
        // A worker killed after any number of probes: the next one, given those records (in any order),
        // asks for exactly the probes the killed one would have made.
        for k in 0...whole.probes.count {
            var points = Array(whole.probes.prefix(k).reversed())
            while case .probe(let crf) = CRFSearch.next(points, target: 80, range: 10...55, maxProbes: 4) {
                points.append(ProbePoint(crf: crf, score: score(crf)))
            }
            XCTAssertEqual(Set(points.map(\.crf)), Set(whole.probes.map(\.crf)), "resumed after \(k) probes")
            XCTAssertEqual(CRFSearch.next(points, target: 80, range: 10...55, maxProbes: 4), .choose(whole.chosen, whole.outcome))
        }
    }

    func testAMetricThatWobblesStillEnds() {
        // Not monotone: noise of ±3 on a line. The search must end inside the budget with a measured CRF.
        let score: (Int) -> Double = { 100 - 1.2 * Double($0) + ($0 % 2 == 0 ? 3 : -3) }
        let r = search(score, target: 70)
        XCTAssertLessThanOrEqual(r.probes.count, 4)
        XCTAssertGreaterThanOrEqual(score(r.chosen), 70)
    }

    func testOptionsAreCheckedAgainstTheMetricAndTheEncoder() {
        func message(_ t: QualityTarget, _ e: EncoderKind) -> String? {
            do { try t.validate(encoder: e, preset: EncodeSettings.defaultPreset(for: e)); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(message(QualityTarget(target: 93, metric: .vmaf, crfLow: 10, crfHigh: 55), .av1))
        XCTAssertTrue(message(QualityTarget(target: 101, metric: .vmaf, crfLow: 10, crfHigh: 55), .av1)?.contains("outside vmaf's scale") == true)
        XCTAssertTrue(message(QualityTarget(target: -5, metric: .ssimulacra2, crfLow: 10, crfHigh: 55), .av1)?.contains("outside ssimulacra2's scale") == true)
        XCTAssertTrue(message(QualityTarget(target: 93, metric: .vmaf, crfLow: 10, crfHigh: 55), .h264)?.contains("0 ≤ LO < HI ≤ 51") == true)
        XCTAssertTrue(message(QualityTarget(target: 93, metric: .vmaf, crfLow: 0, crfHigh: 40), .av1)?.contains("1 ≤ LO < HI ≤ 63") == true)
        XCTAssertTrue(message(QualityTarget(target: 93, metric: .vmaf, crfLow: 30, crfHigh: 30), .h264)?.contains("--crf-range 30:30") == true)
        XCTAssertTrue(message(QualityTarget(target: 93, metric: .vmaf, probes: 0, crfLow: 10, crfHigh: 40), .h264)?.contains("--probes 0") == true)
        XCTAssertTrue(message(QualityTarget(target: 93, metric: .vmaf, crfLow: 10, crfHigh: 40, probeRate: 0), .h264)?.contains("--probe-rate 0") == true)
        // --probe-preset: the encoder's, and no slower than --preset (medium for h264, 8 for av1 here).
        func probe(_ p: String, _ e: EncoderKind) -> String? {
            message(QualityTarget(target: 80, metric: .ssimulacra2, crfLow: 10, crfHigh: 40, probePreset: p), e)
        }
        for ok in ["ultrafast", "veryfast", "medium"] { XCTAssertNil(probe(ok, .h264), ok) }
        for ok in ["8", "12", "13"] { XCTAssertNil(probe(ok, .av1), ok) }
        XCTAssertTrue(probe("slow", .h264)?.contains("--probe-preset slow is slower than --preset medium") == true)
        XCTAssertTrue(probe("quick", .h264)?.contains("--probe-preset quick is not an x264 preset") == true)
        XCTAssertTrue(probe("4", .av1)?.contains("--probe-preset 4 is slower than --preset 8") == true)
        XCTAssertTrue(probe("14", .av1)?.contains("--probe-preset 14 is not an SVT-AV1 preset") == true)
        XCTAssertTrue(probe("ultrafast", .av1)?.contains("is not an SVT-AV1 preset") == true)
        XCTAssertNotNil(QualityTarget.parseCRFRange("20:45"))
        for bad in ["20", "20-45", "a:b", "20:45:50", ""] { XCTAssertNil(QualityTarget.parseCRFRange(bad), bad) }
    }
}
