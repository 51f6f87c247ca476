import EncodaJobs
import EncodaModel
import Foundation
import Synchronization
import XCTest

final class WorkerTests: XCTestCase {
    func testWorkerEncodesEveryChunkOnceAndPublishesValidResults() throws {
        let job = try TestJob(chunks: 5); defer { job.remove() }
        let enc = FakeEncoder()
        let done = try worker(job, "a", enc).run()
        XCTAssertEqual(Set(done), Set(0..<5))
        XCTAssertEqual(enc.encodes, [0: 1, 1: 1, 2: 1, 3: 1, 4: 1])
        let state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertEqual(Set(state.done.keys), Set(0..<5))
        XCTAssertTrue(job.dir.list(job.dir.leases).isEmpty, "every lease released")
        XCTAssertTrue(job.dir.list(job.dir.workers).isEmpty, "worker record removed on exit")
    }

    func testSecondWorkerFindsNothingToDo() throws {
        let job = try TestJob(chunks: 3); defer { job.remove() }
        _ = try worker(job, "a", FakeEncoder()).run()
        let enc = FakeEncoder()
        XCTAssertEqual(try worker(job, "b", enc).run(), [])
        XCTAssertTrue(enc.encodes.isEmpty)
    }

    func testChunkThatAlwaysFailsIsQuarantinedAfterMaxAttemptsAndOthersAreKept() throws {
        let job = try TestJob(chunks: 4, farm: FarmSettings(leaseSeconds: 30, maxAttempts: 3)); defer { job.remove() }
        let enc = FakeEncoder(failing: [2])
        let w = worker(job, "a", enc)
        let done = try w.run()
        XCTAssertEqual(Set(done), [0, 1, 3])
        XCTAssertEqual(enc.encodes[2], 3, "tried exactly max-attempts times, then quarantined instead of looping")
        let state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertEqual(Set(state.quarantined.keys), [2])
        XCTAssertTrue(state.quarantined[2]!.contains("fake encoder refuses chunk 00002"), state.quarantined[2]!)
        XCTAssertEqual(state.failures[2], 3)
        XCTAssertTrue(job.manifest.chunks.allSatisfy { state.isFinished($0.id) })
        XCTAssertEqual(w.tally.failed, 3)
    }

    func testWrongFrameCountIsAFailureNotAResult() throws {
        let job = try TestJob(chunks: 2, farm: FarmSettings(leaseSeconds: 30, maxAttempts: 1)); defer { job.remove() }
        _ = try worker(job, "a", FakeEncoder(shortBy: [1: 1])).run()
        let state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertNil(state.done[1])
        XCTAssertTrue(state.quarantined[1]?.contains("produced 9 frames, expected 10") ?? false, "\(state.quarantined)")
    }

    func testFencedWorkerDiscardsItsResultWhenItsLeaseWasTakenOver() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let enc = FakeEncoder()
        let thief = job.book("thief")
        enc.during = { c in
            // While "a" encodes, its lease goes stale and another worker takes it over.
            job.age(lease: c.id, by: 120)
            XCTAssertEqual(try? thief.acquire(c.id), .stolen(previous: job.identity("a")))
        }
        let a = worker(job, "a", enc)
        XCTAssertEqual(try a.run(), [])
        XCTAssertEqual(a.tally.discarded, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: job.dir.result(0)), "no result published without the lease")
        XCTAssertTrue(thief.stillHeld(0), "the thief's lease is untouched")
        XCTAssertTrue(job.dir.list(job.dir.chunks).isEmpty, "the fenced worker removed its chunk file")
    }

    func testTakingOverAStaleLeaseIsNotAFailureOfTheChunk() throws {
        let job = try TestJob(chunks: 2); defer { job.remove() }
        // Three owners in a row die holding chunk 0 (killed, frozen, cut off): with --max-attempts 3, counting the
        // takeovers would quarantine a healthy chunk.
        for name in ["dead1", "dead2", "dead3"] {
            let gone = job.book(name)
            try? FileManager.default.removeItem(atPath: job.dir.lease(0))
            XCTAssertEqual(try gone.acquire(0), .acquired)
            job.age(lease: 0, by: 120)
            XCTAssertEqual(try job.book("thief-" + name).acquire(0), .stolen(previous: job.identity(name)))
            job.age(lease: 0, by: 120)
        }
        let enc = FakeEncoder()
        let w = worker(job, "b", enc)
        XCTAssertEqual(Set(try w.run()), [0, 1])
        XCTAssertEqual(w.tally.stolen, 1)
        let state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertNil(state.failures[0], "a takeover is not counted against the chunk")
        XCTAssertTrue(state.quarantined.isEmpty)
    }

    func testARerunGivesAQuarantinedChunkExactlyOneMoreAttempt() throws {
        let job = try TestJob(chunks: 2); defer { job.remove() }
        let ledger = FailureLedger(directory: job.dir, manifest: job.manifest)
        let who = job.identity("x")
        for t in 0..<job.manifest.farmSettings.maxAttempts { try ledger.record(1, error: "boom \(t)", by: who, at: Double(t)) }
        XCTAssertTrue(ledger.quarantineIfNeeded(1, by: who, at: 10))
        let released = ledger.releaseQuarantine()
        XCTAssertEqual(released.map(\.chunk), [1])
        XCTAssertTrue(released[0].error.contains("boom 2"), released[0].error)
        var state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertTrue(state.quarantined.isEmpty)
        XCTAssertEqual(state.failures[1], job.manifest.farmSettings.maxAttempts - 1, "one attempt left before the limit")
        // The one more attempt fails too: quarantined again at once.
        try ledger.record(1, error: "boom again", by: who, at: 11)
        XCTAssertTrue(ledger.quarantineIfNeeded(1, by: who, at: 12))
        state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertNotNil(state.quarantined[1])
    }

    func testDrainRequestedBeforeStartClaimsNothing() throws {
        let job = try TestJob(chunks: 2); defer { job.remove() }
        let enc = FakeEncoder()
        let w = worker(job, "a", enc)
        w.drain()
        XCTAssertEqual(try w.run(), [])
        XCTAssertTrue(enc.encodes.isEmpty)
        XCTAssertTrue(job.dir.list(job.dir.leases).isEmpty)
    }

    func testDrainDuringAChunkPublishesItAndLeaves() throws {
        let job = try TestJob(chunks: 3); defer { job.remove() }
        let enc = FakeEncoder()
        let w = worker(job, "a", enc)
        enc.during = { _ in w.drain() }
        XCTAssertEqual(try w.run().count, 1, "the chunk in hand is finished and published, no other is started")
        XCTAssertEqual(JobState.scan(job.dir, manifest: job.manifest).done.count, 1)
    }

    func testAbandonGivesTheClaimUpAndNoHeartbeatWritesTheRecordAgain() throws {
        // The shortest lease (10 s): a heartbeat left running would rewrite the record (every 1.7 s) within the wait below.
        let job = try TestJob(chunks: 1, farm: FarmSettings(leaseSeconds: 10, maxAttempts: 3)); defer { job.remove() }
        let enc = FakeEncoder()
        let w = worker(job, "a", enc)
        let record = job.dir.workers + "/toka.json"
        let seen = Shared<[Bool]>([])
        enc.during = { _ in
            guard seen.get.isEmpty else { return }
            let before = FileManager.default.fileExists(atPath: record) && FileManager.default.fileExists(atPath: job.dir.lease(0))
            w.abandon()
            let gone = !FileManager.default.fileExists(atPath: record) && !FileManager.default.fileExists(atPath: job.dir.lease(0))
            Thread.sleep(forTimeInterval: 2.2)
            seen.set([before, gone, !FileManager.default.fileExists(atPath: record)])
        }
        _ = try w.run() // goes on after abandon (a real worker exits): fenced, then claims the chunk again
        XCTAssertEqual(seen.get, [true, true, true], "record and lease there, both gone after abandon, the record not rewritten")
        XCTAssertEqual(w.tally.discarded, 1, "the abandoned encode was not published")
    }

    func testManyWorkersTogetherEncodeEachChunkExactlyOnce() throws {
        let job = try TestJob(chunks: 30); defer { job.remove() }
        let enc = FakeEncoder()
        let group = DispatchGroup()
        for i in 0..<6 {
            group.enter()
            Thread { _ = try? worker(job, "w\(i)", enc, exitWhenIdle: false).run(); group.leave() }.start()
        }
        group.wait()
        XCTAssertEqual(enc.encodes.count, 30)
        XCTAssertTrue(enc.encodes.values.allSatisfy { $0 == 1 }, "\(enc.encodes)")
        XCTAssertEqual(JobState.scan(job.dir, manifest: job.manifest).done.count, 30)
    }

    func testWaitingForALeaseHeldByAnotherCallsWhenIdleOncePerWait() throws {
        let job = try TestJob(chunks: 2); defer { job.remove() }
        let other = job.book("other")
        XCTAssertEqual(try other.acquire(0), .acquired)
        let calls = Shared(0)
        var o = WorkerOptions()
        o.farm = job.manifest.farmSettings
        o.pollSeconds = 0.05
        o.whenIdle = {
            let first = calls.update { n in n += 1; return n == 1 }
            // The other worker gives chunk 0 up a few polls later; the waiting worker then takes it.
            if first { DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { other.release(0) } }
        }
        let w = Worker(directory: job.dir, manifest: job.manifest, encoder: FakeEncoder(), identity: job.identity("a"), options: o)
        XCTAssertEqual(Set(try w.run()), [0, 1])
        XCTAssertEqual(calls.get, 1, "called when the wait began, not on every poll")
    }

    /// An encoder whose decoder stands at the end of the last chunk it encoded (like the real one, which keeps it).
    final class CarryingEncoder: ChunkEncoding, Sendable {
        private struct State { var end: Int?; var order: [Int] = []; var releases = 0 }
        private let state = Mutex(State())
        private let inner = FakeEncoder()
        var order: [Int] { state.withLock { $0.order } }
        var releases: Int { state.withLock { $0.releases } }
        func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk {
            let r = try inner.encode(chunk: chunk, outputPath: outputPath)
            state.withLock { $0.order.append(chunk.id); $0.end = chunk.range.end }
            return r
        }
        func cheapStart() -> Int? { state.withLock { $0.end } }
        func releaseKeptState() { state.withLock { $0.end = nil; $0.releases += 1 } }
    }

    private func carryingRun(_ job: TestJob, costs: [Double]) throws -> CarryingEncoder {
        let enc = CarryingEncoder()
        var o = WorkerOptions()
        o.farm = job.manifest.farmSettings
        o.exitWhenIdle = true
        o.pollSeconds = 0.05
        o.chunkCosts = costs
        _ = try Worker(directory: job.dir, manifest: job.manifest, encoder: enc, identity: job.identity("a"), options: o).run()
        return enc
    }

    func testAWorkerTakesTheChunkWhereItsDecoderStandsAheadOfTheWorkOrder() throws {
        let job = try TestJob(chunks: 6); defer { job.remove() }
        // Work order by cost: 3, then 0, 1, 2, 4, 5. After 3 the decoder stands at chunk 4, after 4 at chunk 5.
        let enc = try carryingRun(job, costs: [1, 1, 1, 10, 1, 1])
        XCTAssertEqual(enc.order, [3, 4, 5, 0, 1, 2])
        XCTAssertGreaterThanOrEqual(enc.releases, 1, "kept state is given up when the worker leaves")
    }

    func testAWorkerKeepsTheWorkOrderWhenTheChunkWhereItsDecoderStandsWouldFinishLast() throws {
        let job = try TestJob(chunks: 5); defer { job.remove() }
        // Another worker is busy on chunk 4. After chunk 0 the decoder stands at chunk 1 (cost 3), but the other
        // free chunks hold only 3.7: taking chunk 1 early could leave this worker busy alone at the end.
        XCTAssertEqual(try job.book("other").acquire(4), .acquired)
        let enc = try carryingRun(job, costs: [10, 3, 0.2, 3.5, 1])
        XCTAssertEqual(enc.order, [0, 3, 1, 2])

        // With enough other work left it does take it.
        let job2 = try TestJob(chunks: 5); defer { job2.remove() }
        XCTAssertEqual(try job2.book("other").acquire(4), .acquired)
        XCTAssertEqual(try carryingRun(job2, costs: [10, 1, 5, 5, 1]).order, [0, 1, 2, 3])
    }
}
