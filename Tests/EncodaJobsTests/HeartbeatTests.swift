import EncodaJobs
import Foundation
import Synchronization
import XCTest

final class HeartbeatTests: XCTestCase {
    /// Beats begun and beats finished, and whether one is running now.
    final class Beats: Sendable {
        struct Counts { var begun = 0; var finished = 0; var inBeat = false }
        let counts = Mutex(Counts())
        var now: Counts { counts.withLock { $0 } }
        func waitFor(begun n: Int) {
            while now.begun < n { Thread.sleep(forTimeInterval: 0.001) }
        }
    }

    func testStartReturnsAfterTheFirstBeat() {
        let beats = Beats()
        let h = Heartbeat(tick: 60)
        h.start { beats.counts.withLock { $0.begun += 1; $0.finished += 1 } }
        XCTAssertEqual(beats.now.finished, 1)
        h.stop() // wakes the thread from its 60 s pause
        XCTAssertEqual(beats.now.finished, 1)
    }

    func testStopReturnsOnlyAfterTheLastBeatAndNoBeatFollows() {
        let beats = Beats()
        let h = Heartbeat(tick: 0.001)
        h.start {
            let n = beats.counts.withLock { c -> Int in c.begun += 1; c.inBeat = true; return c.begun }
            // The third beat is slow, as a write to a busy file server is: stop() must wait for it.
            if n == 3 { Thread.sleep(forTimeInterval: 0.3) }
            beats.counts.withLock { $0.finished += 1; $0.inBeat = false }
        }
        beats.waitFor(begun: 3)
        h.stop()
        let atStop = beats.now
        XCTAssertFalse(atStop.inBeat, "stop() returned while a beat was running")
        XCTAssertEqual(atStop.begun, atStop.finished)
        XCTAssertGreaterThanOrEqual(atStop.finished, 3)
        Thread.sleep(forTimeInterval: 0.05) // fifty ticks
        XCTAssertEqual(beats.now.begun, atStop.begun, "a beat after stop()")
    }

    func testStopFromTwoThreadsBothWaitAndStopBeforeStartNeverStarts() {
        let beats = Beats()
        let h = Heartbeat(tick: 0.001)
        h.start { beats.counts.withLock { $0.begun += 1 }; Thread.sleep(forTimeInterval: 0.01) }
        beats.waitFor(begun: 2)
        let group = DispatchGroup()
        for _ in 0..<2 { DispatchQueue.global().async(group: group) { h.stop() } }
        group.wait()
        let atStop = beats.now.begun
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(beats.now.begun, atStop)

        let never = Heartbeat(tick: 0.001)
        never.stop()
        never.start { beats.counts.withLock { $0.begun += 1 } }
        never.stop()
        XCTAssertEqual(beats.now.begun, atStop, "a stopped heartbeat does not start")
    }
}
