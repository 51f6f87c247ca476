import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

/// A plan that streams, as TMP holds it: the coordinator publishes each chunk once as TMP/plan/NNNNN.json
/// (`PlanStream.publish`), everyone reads them in plan order up to the first name missing (`PlanStream.extend`), and a
/// view of the results follows the plan as it grows (`ResultView.grow`).
final class PlanStreamTests: XCTestCase {
    /// The whole plan of `TestJob`'s manifest (chunks of 10 frames, a keyframe every 10 frames, packet sizes), the
    /// streaming job.json written before any of it (no chunk, no slice), and one record per chunk.
    struct Streamed {
        let job: TestJob
        let whole: JobManifest
        let start: JobManifest
        let records: [PlanRecord]
    }

    func streamed(chunks: Int) throws -> Streamed {
        let job = try TestJob(chunks: chunks)
        let frames = chunks * 10
        let pts = (0..<frames).map { Int64($0) }
        let index = FrameIndex(pts: pts, durations: FrameIndex.durations(for: pts, lastDuration: 1), keyframes: Array(stride(from: 0, to: frames, by: 10)),
                               packetSizes: (0..<frames).map { Int32(100 + ($0 * 53) % 900) })
        func plan(_ c: [Chunk]) throws -> JobPlan {
            try JobPlanner.plan(.init(output: "/o/out.mkv", settings: job.manifest.settings, requestedPixelFormat: nil),
                                .init(video: job.manifest.video,
                                      layout: PixelLayout(name: "yuv420p", chroma: .c420, bitDepth: 8, isRGB: false, hasAlpha: false),
                                      index: index, chunks: c))
        }
        var whole = job.manifest
        whole.plan = try plan(whole.chunks)
        var start = job.manifest
        start.chunks = []
        start.planStreaming = true
        start.plan = try plan([])
        try start.validate()
        let records = PlanRecord.make(jobID: whole.jobID, chunks: whole.chunks, index: index, complete: true)
        return Streamed(job: job, whole: whole, start: start, records: records)
    }

    func testReadersTakeTheRecordsInOrderUpToTheFirstMissingName() throws {
        let s = try streamed(chunks: 8); defer { s.job.remove() }
        let dir = s.job.dir
        XCTAssertEqual(try PlanStream.extend(s.start, in: dir).chunks, [], "nothing published yet")
        try PlanStream.publish(Array(s.records[0..<3]), in: dir)
        try PlanStream.publish([s.records[4], s.records[5]], in: dir) // published out of order: 3 is missing
        let three = try PlanStream.extend(s.start, in: dir)
        XCTAssertEqual(three.chunks, Array(s.whole.chunks.prefix(3)), "stops at 00003.json although 00004 and 00005 exist")
        XCTAssertEqual(three.planStreaming, true)
        XCTAssertEqual(try PlanStream.extend(three, in: dir).chunks.count, 3, "no news: the same view")

        try PlanStream.publish([s.records[3]], in: dir)
        let six = try PlanStream.extend(three, in: dir)
        XCTAssertEqual(six.chunks, Array(s.whole.chunks.prefix(6)))
        XCTAssertEqual(six.plan?.slices, Array(s.whole.plan!.slices.prefix(6)))

        try PlanStream.publish(Array(s.records[6...]), in: dir)
        // A stray name after the last record is never read: the plan ends at the record that says so.
        let stray = s.records[7].chunk.id + 1
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir.planRecord(stray)))
        let all = try PlanStream.extend(six, in: dir)
        XCTAssertNil(all.planStreaming)
        XCTAssertEqual(all.chunks, s.whole.chunks)
        XCTAssertEqual(all.plan, s.whole.plan)
        XCTAssertEqual(try PlanStream.extend(all, in: dir).chunks, s.whole.chunks, "a whole plan is not extended")
        XCTAssertEqual(try PlanStream.extend(s.whole, in: dir).plan, s.whole.plan, "nor is a plan that never streamed")
    }

    func testLimitReadsThatManyRecordsAtATime() throws {
        let s = try streamed(chunks: 7); defer { s.job.remove() }
        try PlanStream.publish(s.records, in: s.job.dir)
        var m = s.start
        var counts: [Int] = []
        while m.planStreaming == true {
            m = try PlanStream.extend(m, in: s.job.dir, limit: 3)
            counts.append(m.chunks.count)
        }
        XCTAssertEqual(counts, [3, 6, 7])
        XCTAssertEqual(m.plan, s.whole.plan)
    }

    func testARecordAlreadyPublishedMayOnlyBeTheSameOne() throws {
        let s = try streamed(chunks: 4); defer { s.job.remove() }
        let dir = s.job.dir
        try PlanStream.publish(Array(s.records.prefix(2)), in: dir)
        let path = dir.planRecord(1)
        let before = try FileSystem.stat(path)
        // A re-run of the same job publishes the same records again: accepted, the file left as it is.
        XCTAssertNoThrow(try PlanStream.publish(s.records, in: dir))
        let after = try FileSystem.stat(path)
        XCTAssertEqual(after.st_ino, before.st_ino)
        XCTAssertEqual(after.st_mtim.tv_sec, before.st_mtim.tv_sec)
        XCTAssertEqual(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec)

        // Another plan under a published name: refused, the record there kept.
        var other = s.records[1]
        other.chunk.range = FrameRange(10, 15)
        other.last = false
        XCTAssertThrowsError(try PlanStream.publish([other], in: dir)) { e in
            XCTAssertEqual((e as? EncodaError)?.code, .stateCorrupt)
            XCTAssertTrue("\(e)".contains("plan/00001.json") && "\(e)".contains("--restart"), "\(e)")
        }
        var foreign = s.records[0]
        foreign.jobID = "otherjob-0002"
        XCTAssertThrowsError(try PlanStream.publish([foreign], in: dir), "another job's record under a published name")
        XCTAssertEqual(try JSONCoding.read(PlanRecord.self, from: path, what: "plan record"), s.records[1])
        XCTAssertEqual(try PlanStream.extend(s.start, in: dir).chunks, s.whole.chunks)
    }

    /// A worker publishes chunks the coordinator's view has not planned yet (the worker read more of TMP/plan): its
    /// journal lines are kept, and the records are read once `grow` brings the plan to them.
    func testAViewTakesInChunksNamedBeforeThePlanReachedThem() throws {
        let s = try streamed(chunks: 4); defer { s.job.remove() }
        let dir = s.job.dir
        try PlanStream.publish(s.records, in: dir)
        let two = try PlanStream.extend(s.start, in: dir, limit: 2)
        let view = ResultView(directory: dir, manifest: two, readsRecords: true)
        view.refresh()
        XCTAssertTrue(view.done.isEmpty)
        _ = try worker(s.job, "a", FakeEncoder()).run() // the whole plan: chunks 0…3, one journal line each
        view.refresh()
        XCTAssertEqual(Set(view.done.keys), [0, 1], "chunks 2 and 3 are past the plan this view holds")
        XCTAssertEqual(JobState.scan(dir, manifest: two, view: view).published, [0, 1])

        let all = try PlanStream.extend(two, in: dir)
        view.grow(all)
        XCTAssertEqual(view.manifest.chunks.count, 4)
        view.refresh() // no new journal line: the ones held back are taken in
        XCTAssertEqual(Set(view.done.keys), [0, 1, 2, 3])
        XCTAssertEqual(view.done[3]?.frames, 10)
        XCTAssertEqual(JobState.scan(dir, manifest: all, view: view).done.count, 4)

        // A worker's view (journal lines taken at their word) does the same.
        let wv = ResultView(directory: dir, manifest: two, readsRecords: false)
        wv.quietSeconds = 1_000
        wv.refresh() // the first refresh lists results/: 0 and 1 in the plan, 2 and 3 named by the journal
        XCTAssertEqual(wv.published, [0, 1])
        wv.grow(all)
        wv.refresh()
        XCTAssertEqual(wv.published, [0, 1, 2, 3])
    }
}
