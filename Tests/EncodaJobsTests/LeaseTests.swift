import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import Synchronization
import XCTest

final class LeaseTests: XCTestCase {
    func testAcquireIsExclusiveAndNamesItsOwner() throws {
        let job = try TestJob(chunks: 2); defer { job.remove() }
        let a = job.book("a"), b = job.book("b")
        XCTAssertEqual(try a.acquire(0), .acquired)
        XCTAssertEqual(try b.acquire(0), .heldByOther)
        XCTAssertEqual(try a.acquire(0), .heldByOther, "a second claim by the same worker is not a second lease")
        XCTAssertEqual(try b.acquire(1), .acquired)
        let owner = try a.readOwner(job.dir.lease(0))
        XCTAssertEqual(owner.worker, job.identity("a"))
        XCTAssertEqual(owner.chunk, 0)
        XCTAssertNotNil(owner.claimedAt)
        XCTAssertTrue(a.stillHeld(0))
        XCTAssertFalse(b.stillHeld(0))
    }

    func testAClaimBetweenClearingAStaleLeaseAndCreatingOursWinsAndTheClearerSaysWhoseLeaseItCleared() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let a = job.book("a", lease: 30), c = job.book("c", lease: 30)
        var b = job.book("b", lease: 30)
        XCTAssertEqual(try a.acquire(0), .acquired)
        job.age(lease: 0, by: 31)
        let cAcquired = Mutex(false)
        b.afterClearingStale = { let plain = (try? c.acquire(0)) == .acquired; cAcquired.withLock { $0 = plain } }
        XCTAssertEqual(try b.acquire(0), .clearedForOther(previous: job.identity("a")))
        XCTAssertTrue(cAcquired.withLock { $0 }, "the name was free: a plain claim, no takeover to log")
        XCTAssertTrue(c.stillHeld(0))
        XCTAssertFalse(b.stillHeld(0))
        XCTAssertEqual(job.dir.list(job.dir.leases), ["00000.lock"], "nothing left aside")
    }

    func testFreshLeaseIsNotStolenStaleLeaseIs() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let a = job.book("a", lease: 30), b = job.book("b", lease: 30)
        XCTAssertEqual(try a.acquire(0), .acquired)
        job.age(lease: 0, by: 10)
        XCTAssertEqual(try b.acquire(0), .heldByOther, "10 s without heartbeat is within a 30 s lease")
        job.age(lease: 0, by: 31)
        XCTAssertEqual(try b.acquire(0), .stolen(previous: job.identity("a")))
        XCTAssertTrue(b.stillHeld(0))
        XCTAssertFalse(a.stillHeld(0), "fencing: the old owner sees it lost the lease")
        XCTAssertTrue(job.dir.list(job.dir.leases).allSatisfy { $0.hasSuffix(".lock") }, "nothing left aside")
    }

    func testHeartbeatKeepsALeaseFromGoingStale() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let a = job.book("a", lease: 30), b = job.book("b", lease: 30)
        XCTAssertEqual(try a.acquire(0), .acquired)
        job.age(lease: 0, by: 100)
        XCTAssertTrue(a.renew(0))
        XCTAssertLessThan(try b.age(job.dir.lease(0)), 5)
        XCTAssertEqual(try b.acquire(0), .heldByOther)
    }

    func testReleaseNeverRemovesAnotherWorkersLease() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let a = job.book("a"), b = job.book("b")
        XCTAssertEqual(try a.acquire(0), .acquired)
        job.age(lease: 0, by: 60)
        XCTAssertEqual(try b.acquire(0), .stolen(previous: job.identity("a")))
        a.release(0) // the old owner, unaware, releases: b's lease must survive
        XCTAssertTrue(b.stillHeld(0))
        XCTAssertEqual(try FileSystem.list(job.dir.leases), ["00000.lock"], "put back, and no name left aside")
        b.release(0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: job.dir.lease(0)))
        XCTAssertEqual(try a.acquire(0), .acquired)
    }

    func testTornLeaseIsStolenOnlyWhenOld() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        XCTAssertTrue(FileManager.default.createFile(atPath: job.dir.lease(0), contents: Data("{\"formatVers".utf8)))
        let b = job.book("b")
        XCTAssertEqual(try b.acquire(0), .heldByOther, "a lease being written is not stolen")
        job.age(lease: 0, by: 60)
        guard case .stolen = try b.acquire(0) else { return XCTFail("an old torn lease should be taken over") }
        XCTAssertTrue(b.stillHeld(0))
    }

    func testServerClockReadsTheFileSystemsTime() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let clock = ServerClock(directory: job.dir, owner: "t")
        let t1 = try clock.now()
        XCTAssertLessThan(abs(t1 - Date().timeIntervalSince1970), 5)
        usleep(20_000)
        XCTAssertGreaterThan(try clock.now(), t1, "every reading is a fresh stamp")
        clock.remove()
    }

    /// Many threads racing for every chunk: each chunk has exactly one owner at a time (counted inside the
    /// critical section), and each is claimed exactly once because owners publish before releasing.
    func testRacingClaimsNeverProduceTwoOwners() throws {
        let job = try TestJob(chunks: 40); defer { job.remove() }
        let tally = RaceTally()
        let threads = 8
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                let book = job.book("r\(t)")
                for id in 0..<40 {
                    if FileManager.default.fileExists(atPath: job.dir.result(id)) { continue }
                    guard (try? book.acquire(id)) == .acquired else { continue }
                    if job.dir.chunkIDs(in: job.dir.results, suffix: ".json").contains(id) { book.release(id); continue }
                    tally.enter(id)
                    usleep(200)
                    tally.leave(id)
                    _ = try? AtomicFile.publishExclusive(Data("\(t)".utf8), to: job.dir.result(id), staging: job.dir.staging)
                    book.release(id)
                }
                group.leave()
            }.start()
        }
        group.wait()
        let (overlaps, claims) = tally.result
        XCTAssertEqual(overlaps, 0)
        XCTAssertEqual(claims.count, 40)
        XCTAssertTrue(claims.values.allSatisfy { $0 == 1 }, "claims per chunk: \(claims)")
    }
}

/// Owners inside each chunk's critical section, counted across threads.
final class RaceTally: Sendable {
    private struct Counts { var inside: [Int: Int] = [:], claims: [Int: Int] = [:], overlaps = 0 }
    private let counts = Mutex(Counts())
    func enter(_ id: Int) {
        counts.withLock { c in c.inside[id, default: 0] += 1; if c.inside[id]! > 1 { c.overlaps += 1 }; c.claims[id, default: 0] += 1 }
    }
    func leave(_ id: Int) { counts.withLock { $0.inside[id]! -= 1 } }
    var result: (Int, [Int: Int]) { counts.withLock { ($0.overlaps, $0.claims) } }
}
