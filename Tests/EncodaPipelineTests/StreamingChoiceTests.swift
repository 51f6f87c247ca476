@testable import EncodaPipeline
import XCTest

/// `StreamingChoice`: what a worker following a plan that streams tries first. Analysis while the planned chunks
/// nobody holds are fewer than the workers busy with the job (the plan only grows as segments are measured), chunks
/// otherwise; always the other kind next, so a worker never idles while there is work of either; chunks alone once
/// every segment is published.
final class StreamingChoiceTests: XCTestCase {
    func testTheOrderFollowsFreeChunksAgainstBusyWorkers() {
        let rows: [(free: Int, busy: Int, open: Bool, order: [StreamingChoice.Unit], why: String)] = [
            (0, 1, true, [.segment, .chunk], "the first worker of the job: nothing planned yet"),
            (0, 4, true, [.segment, .chunk], "nothing planned, four workers busy"),
            (1, 2, true, [.segment, .chunk], "one free chunk for two busy workers: short"),
            (3, 4, true, [.segment, .chunk], "one short of a chunk per busy worker"),
            (4, 4, true, [.chunk, .segment], "a free chunk for each busy worker"),
            (5, 4, true, [.chunk, .segment], "more free chunks than busy workers"),
            (1, 1, true, [.chunk, .segment], "a lone worker with one free chunk encodes it"),
            (12, 2, true, [.chunk, .segment], "a long queue of planned chunks"),
            (0, 3, false, [.chunk], "every segment published: chunks only, even with none free"),
            (7, 1, false, [.chunk], "every segment published, chunks free"),
        ]
        for r in rows {
            XCTAssertEqual(StreamingChoice(freeChunks: r.free, busyWorkers: r.busy, segmentsOpen: r.open).order, r.order, r.why)
        }
    }

    func testBothKindsAreTriedWhileSegmentsRemain() {
        for free in 0...6 {
            for busy in 1...6 {
                let order = StreamingChoice(freeChunks: free, busyWorkers: busy, segmentsOpen: true).order
                XCTAssertEqual(Set(order), [.segment, .chunk], "free \(free), busy \(busy)")
                XCTAssertEqual(order.count, 2)
                XCTAssertEqual(order.first == .segment, free < busy, "free \(free), busy \(busy)")
            }
        }
    }
}
