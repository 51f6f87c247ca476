import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

/// Following a job by the workers' journals (`ResultJournal`, `ResultView`): only new lines are read, a record is
/// read once, and a record no journal names (a job of the previous version, a worker killed between the record and
/// its line) is still found.
final class ResultJournalTests: XCTestCase {
    func testTheReaderTakesWholeLinesOnlyAndEachOnce() throws {
        let job = try TestJob(chunks: 3); defer { job.remove() }
        var reader = ResultJournal.Reader(directory: job.dir)
        XCTAssertEqual(reader.news(), [])
        let path = job.dir.journal + "/tokA.txt"
        try Data("00001\n0000".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(reader.news(), [1], "the torn line waits until it is whole")
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: path)); h.seekToEndOfFile(); h.write(Data("2\n".utf8)); h.closeFile()
        try ResultJournal(directory: job.dir, token: "tokB").append(0)
        XCTAssertEqual(Set(reader.news()), [0, 2])
        XCTAssertEqual(reader.news(), [])
    }

    func testAWorkerWritesOneLinePerChunkItPublishes() throws {
        let job = try TestJob(chunks: 5); defer { job.remove() }
        _ = try worker(job, "a", FakeEncoder()).run()
        let text = try String(contentsOfFile: job.dir.journal + "/toka.txt", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").map { Int($0)! }.sorted(), [0, 1, 2, 3, 4])
    }

    func testTheCoordinatorsViewReadsEachRecordOnceAndFollowsTheJournalsNotTheFolder() throws {
        let job = try TestJob(chunks: 4); defer { job.remove() }
        let view = ResultView(directory: job.dir, manifest: job.manifest, readsRecords: true)
        view.refresh()
        XCTAssertTrue(view.done.isEmpty)
        _ = try worker(job, "a", FakeEncoder()).run()
        view.refresh()
        XCTAssertEqual(Set(view.done.keys), [0, 1, 2, 3], "learnt from the journal")
        // A record is immutable once published: were it read again, this one would now be moved aside as malformed.
        let record = job.dir.result(0)
        chmod(record, 0o644)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: record))
        try ResultJournal(directory: job.dir, token: "tokz").append(0) // a second line for it changes nothing
        view.refresh()
        XCTAssertNotNil(view.done[0])
        XCTAssertTrue(FileManager.default.fileExists(atPath: record), "not read again, so not moved aside")
        // A refresh reads journals, not results/: a record no journal names waits for the next listing.
        let other = try TestJob(chunks: 2); defer { other.remove() }
        let v2 = ResultView(directory: other.dir, manifest: other.manifest, readsRecords: true)
        v2.refresh()
        try Self.publishWithoutLine(other, 1)
        v2.refresh()
        XCTAssertNil(v2.done[1])
        v2.relist()
        XCTAssertNotNil(v2.done[1])
    }

    func testAClaimedChunkWhoseRecordNoJournalNamesIsNotEncodedAgainAndGetsItsLine() throws {
        let job = try TestJob(chunks: 3); defer { job.remove() }
        let enc = FakeEncoder()
        // While the worker encodes its first chunk, chunk 2 is published by a worker killed before its line.
        let once = Shared(true)
        enc.during = { [job] c in
            guard c.id != 2, once.update({ o in defer { o = false }; return o }) else { return }
            try? ResultJournalTests.publishWithoutLine(job, 2)
        }
        let w = worker(job, "b", enc)
        let done = try w.run()
        XCTAssertNil(enc.encodes[2], "its record was found after the claim: \(enc.encodes)")
        XCTAssertFalse(done.contains(2))
        let text = try String(contentsOfFile: job.dir.journal + "/tokb.txt", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").map { Int($0)! }.sorted(), [0, 1, 2], "the missing line is written")
    }

    func testAJobOfThePreviousVersionWithoutJournalsResumes() throws {
        let job = try TestJob(chunks: 6); defer { job.remove() }
        try FileManager.default.removeItem(atPath: job.dir.journal)
        for id in [0, 2, 4] { try Self.publishWithoutLine(job, id) }
        let enc = FakeEncoder()
        XCTAssertEqual(Set(try worker(job, "c", enc).run()), [1, 3, 5])
        XCTAssertEqual(enc.encodes, [1: 1, 3: 1, 5: 1])
        let text = try String(contentsOfFile: job.dir.journal + "/tokc.txt", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").map { Int($0)! }.sorted(), [1, 3, 5], "the listing at the start knew the others")
    }

    /// Publishes chunk `id` as a worker does, without the journal line.
    private static func publishWithoutLine(_ job: TestJob, _ id: Int) throws {
        let file = job.dir.chunkFileName(id, token: "tokdead")
        let data = Data("chunk \(id)".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: job.dir.chunkFile(named: file), contents: data))
        let r = ChunkResult(jobID: job.manifest.jobID, chunk: id, file: file, frames: 10, bytes: Int64(data.count),
                            crc32: data.withUnsafeBytes { CRC32.checksum($0) }, worker: job.identity("dead"),
                            startedAt: 0, finishedAt: 0, seekSeconds: 0, framesSkipped: 0)
        XCTAssertTrue(try AtomicFile.publishJSONExclusive(r, to: job.dir.result(id), staging: job.dir.staging))
    }
}
