import XCTest
@testable import EncodaModel

final class ScorePoolingTests: XCTestCase {
    func testPoolingRules() {
        let s: [Double] = [90, 80, 70, 60, 100, 95, 85, 75, 65, 55, 92, 82, 72, 62, 98, 93, 83, 73, 63, 10]
        XCTAssertEqual(ScorePooling.mean.pool(s)!, s.reduce(0, +) / 20, accuracy: 1e-9)
        // 20 scores: the 5th percentile by nearest rank is the lowest one.
        XCTAssertEqual(ScorePooling.p5.pool(s), 10)
        XCTAssertEqual(ScorePooling.p5.pool(Array(1...100).map(Double.init)), 5)
        XCTAssertEqual(ScorePooling.harmonic.pool([3, 3])!, 3, accuracy: 1e-9)
        // The harmonic mean sits below the mean and is pulled down by the bad frame.
        XCTAssertLessThan(ScorePooling.harmonic.pool(s)!, ScorePooling.mean.pool(s)! - 2)
        XCTAssertEqual(ScorePooling.harmonic.pool([-20, 0])!, 0, accuracy: 1e-9)
        XCTAssertNil(ScorePooling.mean.pool([]))
    }
}
