import EncodaModel
import XCTest

/// `PlanRecord` and `JobManifest.appending`: a job.json written before any cut is known, grown by the records the
/// coordinator publishes as `StreamingPlanner` makes chunks final, is, once the last record is in, the job.json a
/// plan of the whole analysis would have been (chunks, slices, costs, claim order); a record that does not continue
/// the plan is refused.
final class PlanRecordTests: XCTestCase {
    /// A 25 fps source of 900 frames: a keyframe every 25 frames, shots cut at known frames (one exactly on a
    /// 100-frame segment boundary, one 300-frame shot split by `--max-scene-length 4`), packets whose sizes vary.
    struct Source {
        var index: FrameIndex
        var changes: [Double]
        var settings = SceneSettings(threshold: 12, minSceneLength: 6, maxSceneSeconds: 4)
        var frames: Int { changes.count }
    }

    static func source(packetSizes: Bool = true) -> Source {
        let n = 900
        let keyframes = Array(stride(from: 0, to: n, by: 25))
        let sizes: [Int32]? = packetSizes ? (0..<n).map { f in Int32(keyframes.contains(f) ? 9000 : 400 + (f * 37) % 1700) } : nil
        let index = JobPlannerTests.index(frames: n, keyframes: keyframes, sizes: sizes, positions: true)
        return Source(index: index, changes: StreamingPlannerTests.changes(count: n, cuts: [40, 100, 170, 230, 530, 590, 611, 800]))
    }

    static let jobID = "planrecord-0001"

    /// The job.json the coordinator writes before any segment is measured: no chunk, a plan with no slice.
    static func streamingManifest(_ s: Source) throws -> JobManifest {
        let video = JobPlannerTests.video(320, 240)
        let settings = JobPlannerTests.settings(.h264)
        var m = JobManifest(jobID: jobID, createdAt: 0,
                            input: InputReference(absolutePath: "/media/in.mp4", pathRelativeToWorkDirectory: nil, size: 1, fingerprint: "1-0"),
                            video: video, frameCount: s.frames, settings: settings, scene: s.settings,
                            versions: EncoderVersions(encoda: "t", svtav1: "t", x264: "t", libavcodec: "t"), chunks: [])
        m.planStreaming = true
        m.plan = try plan(s, chunks: [])
        return m
    }

    static func plan(_ s: Source, chunks: [Chunk]) throws -> JobPlan {
        try JobPlanner.plan(.init(output: "/o/out.mkv", settings: JobPlannerTests.settings(.h264), requestedPixelFormat: nil),
                            .init(video: JobPlannerTests.video(320, 240), layout: JobPlannerTests.yuv420p8, index: s.index, chunks: chunks))
    }

    /// The records in the batches the coordinator publishes them: the chunks `StreamingPlanner` returns for each
    /// 100-frame segment fed in order, the last batch ending the plan.
    static func streamedRecords(_ s: Source, segment: Int = 100) throws -> [[PlanRecord]] {
        var planner = StreamingPlanner(frameCount: s.frames, frameRate: Rational(25, 1), keyframes: s.index.keyframes, settings: s.settings)
        var batches: [[PlanRecord]] = []
        for start in stride(from: 0, to: s.frames, by: segment) {
            let end = min(s.frames, start + segment)
            let chunks = try planner.feed(changes: s.changes[start..<end], from: start)
            batches.append(PlanRecord.make(jobID: jobID, chunks: chunks, index: s.index, complete: planner.isComplete))
        }
        return batches
    }

    func testAManifestGrownRecordByRecordIsTheWholeAnalysissPlan() throws {
        for packetSizes in [true, false] {
            let s = Self.source(packetSizes: packetSizes)
            let whole = StreamingPlannerTests.wholePlan(s.changes, keyframes: s.index.keyframes, settings: s.settings)
            XCTAssertGreaterThan(whole.count, 8)
            XCTAssertTrue(whole.contains { $0.range.start == 100 }, "a chunk starts on a segment boundary")
            XCTAssertTrue(whole.contains { $0.range.start > 230 && $0.range.start < 530 }, "the long shot is split")
            let expected = try Self.plan(s, chunks: whole)
            XCTAssertEqual(expected.costs != nil, packetSizes)

            let batches = try Self.streamedRecords(s)
            XCTAssertTrue(batches.contains { $0.isEmpty }, "some segment makes no chunk final")
            XCTAssertTrue(batches.contains { $0.count > 1 }, "some segment makes several")
            let records = batches.flatMap { $0 }
            XCTAssertEqual(records.map(\.chunk), whole)
            XCTAssertEqual(records.map(\.last), Array(repeating: false, count: whole.count - 1) + [true])

            // Record by record, as a worker reads TMP/plan.
            var m = try Self.streamingManifest(s)
            try m.validate()
            for (i, r) in records.enumerated() {
                m = try m.appending([r])
                XCTAssertEqual(m.chunks, Array(whole.prefix(i + 1)))
                XCTAssertEqual(m.plan?.slices, Array(expected.slices.prefix(i + 1)), "chunk \(i)'s slice")
                XCTAssertEqual(m.planStreaming, i == records.count - 1 ? nil : true, "cleared by the last record only, at \(i)")
            }
            XCTAssertEqual(m.chunks, whole)
            XCTAssertEqual(m.plan, expected, "slices, costs and claim order as JobPlanner makes them for the whole plan")
            XCTAssertEqual(m.plan?.claimOrder, ChunkPlanner.workOrder(whole, costs: expected.costs).map(\.id))
            try m.validate()

            // Batch by batch, as the coordinator grows its own view, gives the same.
            var c = try Self.streamingManifest(s)
            for b in batches {
                c = try c.appending(b)
                XCTAssertEqual(c.planStreaming, c.chunks.count == whole.count ? nil : true)
            }
            XCTAssertEqual(c.plan, expected)
            XCTAssertEqual(c.chunks, whole)
        }
    }

    func testAPlanDoesNotEndBeforeItsLastRecordNorWithARecordThatLeavesFramesOut() throws {
        let s = Self.source()
        let records = try Self.streamedRecords(s).flatMap { $0 }
        var m = try Self.streamingManifest(s)
        m = try m.appending(Array(records.dropLast()))
        XCTAssertEqual(m.planStreaming, true, "every chunk but the last: still streaming")
        try m.validate()
        // A record that says it is the last while frames are left: the whole plan would not cover INPUT.
        var early = records[records.count - 2]
        early.last = true
        XCTAssertThrowsError(try Self.streamingManifest(s).appending(Array(records.prefix(records.count - 2)) + [early]))
    }

    func testRecordsThatDoNotContinueThePlanAreRefused() throws {
        let s = Self.source()
        let records = try Self.streamedRecords(s).flatMap { $0 }
        let start = try Self.streamingManifest(s)
        let two = try start.appending(Array(records.prefix(2)))
        func refused(_ m: JobManifest, _ r: [PlanRecord], _ what: String) {
            XCTAssertThrowsError(try m.appending(r), what) { e in
                XCTAssertEqual((e as? EncodaError)?.code, .stateCorrupt, what)
            }
        }
        refused(two, [records[3]], "skips chunk 2")
        refused(two, [records[1]], "chunk 1 again")
        refused(start, [records[1]], "does not start at chunk 0")
        refused(two, [records[2], records[4]], "a gap inside one batch")
        var foreign = records[2]
        foreign.jobID = "otherjob-0002"
        refused(two, [foreign], "another job's record")
        let whole = try start.appending(records)
        XCTAssertNil(whole.planStreaming)
        var after = records.last!
        after.chunk.id += 1
        after.chunk.range = FrameRange(s.frames, s.frames + 10)
        after.chunk.shotStarts = [s.frames]
        refused(whole, [after], "a record after the last one")
        refused(try start.appending(Array(records.dropLast())), [records.last!, after], "after the last one, in the same batch")
        XCTAssertEqual(try two.appending([]).chunks, two.chunks, "no record: the same view")

        // A job.json planned whole takes no record.
        var planned = start
        planned.planStreaming = nil
        planned.chunks = Array(records.map(\.chunk))
        planned.plan = try Self.plan(s, chunks: planned.chunks)
        try planned.validate()
        refused(planned, [records[0]], "a plan that does not stream")
    }

    func testValidateAcceptsAStreamedPrefixAndRefusesAWholeJobWithoutChunks() throws {
        let s = Self.source()
        let records = try Self.streamedRecords(s).flatMap { $0 }
        var m = try Self.streamingManifest(s)
        XCTAssertTrue(m.chunks.isEmpty)
        XCTAssertNoThrow(try m.validate(), "a streaming job.json: no chunk yet")
        for n in [1, 3, records.count - 1] {
            XCTAssertNoThrow(try m.appending(Array(records.prefix(n))).validate(), "a prefix of \(n) chunks")
        }
        m.planStreaming = nil
        XCTAssertThrowsError(try m.validate(), "a job.json planned whole must hold chunks") { e in
            XCTAssertEqual((e as? EncodaError)?.code, .stateCorrupt)
        }
        var prefix = try Self.streamingManifest(s).appending(Array(records.prefix(3)))
        prefix.planStreaming = nil
        XCTAssertThrowsError(try prefix.validate(), "a whole plan must cover every frame")
        // The JSON a worker reads: `planStreaming` survives the round trip, and is absent from a whole plan.
        let streamed = try JSONDecoder().decode(JobManifest.self, from: JSONEncoder().encode(try Self.streamingManifest(s)))
        XCTAssertEqual(streamed.planStreaming, true)
        let complete = try Self.streamingManifest(s).appending(records)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(complete), as: UTF8.self).contains("planStreaming"))
    }
}
