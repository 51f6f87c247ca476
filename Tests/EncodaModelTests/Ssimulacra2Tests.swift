import XCTest
@testable import EncodaModel

/// The properties of SSIMULACRA 2 that target quality relies on, on synthetic pictures (milliseconds). Agreement with
/// the reference implementation is checked in Ssimulacra2ValidationTests.
final class Ssimulacra2Tests: XCTestCase {
    /// Gradients and a checkerboard of varied contrast; `noise` adds a fixed pseudo-random pattern of that amplitude.
    private func picture(width: Int, height: Int, noise: Float = 0) -> SRGBImage {
        var state: UInt32 = 12345
        var pixels: [Float] = []
        for y in 0..<height {
            for x in 0..<width {
                let check: Float = ((x / 4 + y / 4) % 2 == 0) ? 0.15 : -0.15
                for c in 0..<3 {
                    state = state &* 1_664_525 &+ 1_013_904_223
                    let n = (Float(state >> 8) / Float(1 << 24) - 0.5) * 2 * noise
                    let base = Float(x) / Float(width) * (c == 0 ? 1 : 0.5) + Float(y) / Float(height) * (c == 2 ? 0.6 : 0.3)
                    pixels.append(min(1, max(0, 0.2 + 0.5 * base + check * Float(c + 1) / 3 + n)))
                }
            }
        }
        return SRGBImage(width: width, height: height, pixels: pixels)
    }

    func testIdenticalPicturesScore100() {
        let p = picture(width: 96, height: 64)
        XCTAssertEqual(Ssimulacra2.score(reference: p, distorted: p), 100, accuracy: 1e-9)
    }

    func testMoreNoiseScoresLower() {
        let ref = picture(width: 96, height: 64)
        let scores = [0.003, 0.01, 0.03, 0.08].map { Ssimulacra2.score(reference: ref, distorted: picture(width: 96, height: 64, noise: Float($0))) }
        XCTAssertEqual(scores, scores.sorted(by: >), "\(scores)")
        XCTAssertLessThan(scores[0], 100)
        XCTAssertGreaterThan(scores[0], 85, "\(scores)")
        XCTAssertLessThan(scores[3], 50, "\(scores)")
    }

    /// Sizes that are not multiples of 8 (SIMD tails) or of 2 (partial blocks when halving), and one below 8 pixels,
    /// which no scale can measure: 100, as the reference implementation gives.
    func testOddSizes() {
        for (w, h) in [(37, 23), (9, 130), (130, 9)] {
            let s = Ssimulacra2.score(reference: picture(width: w, height: h), distorted: picture(width: w, height: h, noise: 0.05))
            XCTAssertTrue(s.isFinite && s < 100 && s > 0, "\(w)x\(h): \(s)")
        }
        XCTAssertEqual(Ssimulacra2.score(reference: picture(width: 7, height: 40), distorted: picture(width: 7, height: 40, noise: 0.3)), 100)
    }

    func testCubeRootMatchesTheLibrary() {
        let values: [Float] = [0.0037930732, 0.004, 0.01, 0.1, 0.3333, 0.5, 0.9, 1.0, 1.0037930732, 0]
        let roots = cubeRoot(SIMD8(values[0..<8])), more = cubeRoot(SIMD8(values[2..<10]))
        for i in 0..<8 {
            XCTAssertEqual(roots[i], cbrtf(values[i]), accuracy: 2e-7 * max(1, cbrtf(values[i])))
            XCTAssertEqual(more[i], cbrtf(values[i + 2]), accuracy: 2e-7)
        }
    }
}
