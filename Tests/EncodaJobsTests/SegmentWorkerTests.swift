import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

/// Analysis segments as leased work: the chunk protocol's guarantees, for segments in TMP/analysis.
final class SegmentWorkerTests: XCTestCase {
    func testSeveralWorkersPublishEverySegmentExactlyOnce() throws {
        let a = try TestAnalysis(segments: 24); defer { a.remove() }
        let analyser = FakeAnalyser()
        let workers = (0..<5).map { a.worker("w\($0)", analyser, exitWhenIdle: false) }
        let group = DispatchGroup()
        for w in workers {
            group.enter()
            Thread { _ = try? w.run(); group.leave() }.start()
        }
        group.wait()
        XCTAssertEqual(analyser.analyses, Dictionary(uniqueKeysWithValues: (0..<24).map { ($0, 1) }), "each segment analysed once")
        let published = workers.flatMap(\.analysed)
        XCTAssertEqual(published.sorted(), Array(0..<24), "each segment published by exactly one worker")
        for id in 0..<24 {
            let r = try XCTUnwrap(a.record(id))
            XCTAssertTrue(a.manifest.accepts(r, for: id))
            XCTAssertEqual(r.measurements.changes.first, Double(id * 10), "the record holds its own segment's frames")
            XCTAssertTrue(workers.contains { $0.identity.token == r.worker && $0.analysed.contains(id) }, "the record names its publisher")
        }
        XCTAssertTrue(a.analysis.list(a.analysis.leases).isEmpty, "every lease released")
        XCTAssertTrue(a.dir.list(a.dir.workers).isEmpty, "worker records removed on exit")
        let journalled = a.analysis.list(a.analysis.journal).flatMap { name -> [Substring] in
            ((try? String(contentsOfFile: a.analysis.journal + "/" + name, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        XCTAssertEqual(journalled.count, 24, "one journal line per published segment")
    }

    func testAKilledWorkersSegmentIsTakenOverOnceItsLeaseIsStale() throws {
        let a = try TestAnalysis(segments: 3); defer { a.remove() }
        let killed = a.book("killed")
        XCTAssertEqual(try killed.acquire(1), .acquired)
        // Fresh: another worker leaves it alone.
        let early = FakeAnalyser()
        let w1 = a.worker("a", early)
        XCTAssertEqual(Set(try w1.run()), [0, 2])
        XCTAssertNil(early.analyses[1], "a fresh lease is respected")
        XCTAssertNil(a.record(1))
        // Its heartbeat stopped longer than the lease time ago, by the server's clock: taken over, not a failure.
        a.age(lease: 1, by: 120)
        let later = FakeAnalyser()
        let w2 = a.worker("b", later)
        XCTAssertEqual(try w2.run(), [1])
        XCTAssertEqual(w2.tally.stolen, 1)
        XCTAssertEqual(a.record(1)?.worker, "tokb")
        XCTAssertTrue(a.analysis.list(a.analysis.failures).isEmpty, "a takeover is not counted as an attempt")
    }

    func testAWorkerWhoseLeaseWasTakenDoesNotPublish() throws {
        let a = try TestAnalysis(segments: 1); defer { a.remove() }
        let thief = a.book("thief")
        let analyser = FakeAnalyser()
        analyser.during = { s in
            // While "a" analyses, its lease goes stale and another worker takes it over.
            a.age(lease: s.id, by: 120)
            XCTAssertEqual(try? thief.acquire(s.id), .stolen(previous: a.identity("a")))
        }
        let w = a.worker("a", analyser)
        XCTAssertEqual(try w.run(), [])
        XCTAssertEqual(w.tally.discarded, 1)
        XCTAssertNil(a.record(0), "nothing published without the lease")
        XCTAssertTrue(thief.stillHeld(0), "the thief's lease is untouched")
    }

    func testASegmentThatAlwaysFailsIsQuarantinedAfterMaxAttempts() throws {
        let a = try TestAnalysis(segments: 4, farm: FarmSettings(leaseSeconds: 30, maxAttempts: 2)); defer { a.remove() }
        let analyser = FakeAnalyser(failing: [2])
        let w = a.worker("a", analyser)
        XCTAssertEqual(Set(try w.run()), [0, 1, 3])
        XCTAssertEqual(analyser.analyses[2], 2, "tried max-attempts times, then quarantined instead of looping")
        XCTAssertEqual(w.tally.failed, 2)
        XCTAssertEqual(a.analysis.chunkIDs(in: a.analysis.quarantine, suffix: ".json"), [2])
        let q = try JSONCoding.read(ChunkFailure.self, from: a.analysis.quarantineRecord(2), what: "quarantine record")
        XCTAssertTrue(q.error.contains("fake analyser cannot decode segment 00002"), q.error)
        // Another worker does not try it again.
        let again = FakeAnalyser()
        XCTAssertEqual(try a.worker("b", again).run(), [])
        XCTAssertTrue(again.analyses.isEmpty)
    }

    func testIncompleteMeasurementsAreAFailureNotARecord() throws {
        let a = try TestAnalysis(segments: 2, farm: FarmSettings(leaseSeconds: 30, maxAttempts: 1)); defer { a.remove() }
        _ = try a.worker("a", FakeAnalyser(shortBy: [1: 1])).run()
        XCTAssertNotNil(a.record(0))
        XCTAssertNil(a.record(1))
        let q = try JSONCoding.read(ChunkFailure.self, from: a.analysis.quarantineRecord(1), what: "quarantine record")
        XCTAssertTrue(q.error.contains("9 changes"), q.error)
    }

    func testRecordsSurviveARerunAndANewWorkerSkipsThem() throws {
        let a = try TestAnalysis(segments: 5); defer { a.remove() }
        // The first worker is stopped after two segments (drained, as a kill would leave them).
        let first = FakeAnalyser()
        let w1 = a.worker("a", first)
        first.during = { s in if s.id == 1 { w1.drain() } }
        XCTAssertEqual(try w1.run(), [0, 1])
        let before = try (0..<2).map { try Data(contentsOf: URL(fileURLWithPath: a.analysis.result($0))) }
        // A new worker, on a fresh view of the same TMP, analyses only the rest.
        let second = FakeAnalyser()
        XCTAssertEqual(try a.worker("b", second).run(), [2, 3, 4])
        XCTAssertEqual(Set(second.analyses.keys), [2, 3, 4], "published segments are not analysed again")
        let after = try (0..<2).map { try Data(contentsOf: URL(fileURLWithPath: a.analysis.result($0))) }
        XCTAssertEqual(before, after, "published records are never rewritten")
        // And a third finds nothing to do.
        let third = FakeAnalyser()
        XCTAssertEqual(try a.worker("c", third).run(), [])
        XCTAssertTrue(third.analyses.isEmpty)
    }

    func testAWaitingAnalysisWorkerLeavesWhenOtherWorkAppears() throws {
        let a = try TestAnalysis(segments: 2); defer { a.remove() }
        XCTAssertEqual(try a.book("other").acquire(1), .acquired)
        let w = a.worker("a", FakeAnalyser(), exitWhenIdle: false)
        let manifest = a.dir.manifest
        // Segment 1 is held by a live worker; once job.json appears this worker stops waiting for it.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { FileManager.default.createFile(atPath: manifest, contents: Data("{}".utf8)) }
        XCTAssertEqual(try w.run(stopWaiting: { FileManager.default.fileExists(atPath: manifest) }), [0])
        XCTAssertNil(a.record(1))
    }

    /// A worker started before its job analyses while only analysis.json exists; job.json appearing while segments
    /// are open (a plan that streams, written before any segment is measured) stops it after the segment in hand,
    /// so that it goes on choosing between segments and the chunks being planned.
    func testAnAnalysingWorkerStopsAfterTheSegmentInHandWhenJobJsonAppears() throws {
        let a = try TestAnalysis(segments: 6); defer { a.remove() }
        let manifest = a.dir.manifest
        let analyser = FakeAnalyser()
        analyser.during = { s in if s.id == 1 { FileManager.default.createFile(atPath: manifest, contents: Data("{}".utf8)) } }
        XCTAssertEqual(try a.worker("a", analyser, exitWhenIdle: false).run(stopWaiting: { FileManager.default.fileExists(atPath: manifest) }),
                       [0, 1])
        XCTAssertEqual(analyser.analyses, [0: 1, 1: 1])
        XCTAssertNil(a.record(2), "left open for the worker's next choice")
    }

    func testCleanRemovesTheAnalysisAndKeepsAUsersFile() throws {
        let a = try TestAnalysis(segments: 3); defer { a.remove() }
        _ = try a.worker("a", FakeAnalyser(failing: [2])).run()
        let foreign = a.analysis.results + "/notes.txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: foreign, contents: Data("mine".utf8)))
        let r = OwnFiles.remove(a.dir, folders: WorkDirectory.ownFolders, topLevel: OwnNames.topLevel, removeEmptyFolders: true, listForeign: true)
        XCTAssertTrue(r.failed.isEmpty, "\(r.failed)")
        XCTAssertEqual(r.kept, ["analysis/results/notes.txt"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: a.dir.analysisManifest))
        XCTAssertEqual(a.analysis.list(a.analysis.results), ["notes.txt"])
        XCTAssertTrue(a.analysis.list(a.analysis.failures).isEmpty && a.analysis.list(a.analysis.quarantine).isEmpty
                      && a.analysis.list(a.analysis.journal).isEmpty)
        XCTAssertFalse(FileManager.default.fileExists(atPath: a.analysis.leases), "emptied folders removed")
    }

    func testAnalysisManifestIsWrittenOnceAndChecked() throws {
        let a = try TestAnalysis(segments: 2); defer { a.remove() }
        var other = a.manifest
        other.jobID = "anotherjob-0002"
        XCTAssertEqual(try a.dir.publishAnalysisManifest(other).jobID, a.manifest.jobID, "the first writer wins")
        var bad = a.manifest
        bad.segments[1].segment.frames = FrameRange(5, 20)
        XCTAssertThrowsError(try bad.validate(), "overlapping segments")
        bad = a.manifest
        bad.segments[1].index.first = 7
        XCTAssertThrowsError(try bad.validate(), "a slice that does not start at the frame before")
    }
}
