import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

final class ResultValidationTests: XCTestCase {
    let m = TestJob.manifest(chunks: 3, framesPerChunk: 10)
    func result(_ edit: (inout ChunkResult) -> Void) -> ChunkResult {
        var r = ChunkResult(jobID: m.jobID, chunk: 1, file: "00001-tok.chunk", frames: 10, bytes: 100, crc32: 1,
                            worker: WorkerIdentity(host: "h", pid: 1, token: "tok"), startedAt: 0, finishedAt: 1, seekSeconds: 0, framesSkipped: 0)
        edit(&r)
        return r
    }

    func testAGoodRecordPasses() throws { XCTAssertNoThrow(try result { _ in }.validate(against: m, chunkID: 1)) }

    func testHostileRecordsAreRejected() {
        let hostile: [(String, (inout ChunkResult) -> Void)] = [
            ("path escaping TMP", { $0.file = "../../../etc/passwd" }),
            ("absolute path", { $0.file = "/etc/passwd" }),
            ("another chunk's file", { $0.file = "00002-tok.chunk" }),
            ("another job", { $0.jobID = "otherjob-0001" }),
            ("chunk number mismatch", { $0.chunk = 2 }),
            ("wrong frame count", { $0.frames = 11 }),
            ("empty file", { $0.bytes = 0 }),
            ("absurd size", { $0.bytes = Int64.max }),
            ("future format", { $0.formatVersion = 99 }),
        ]
        for (what, edit) in hostile {
            XCTAssertThrowsError(try result(edit).validate(against: m, chunkID: 1), what) { e in
                XCTAssertEqual((e as? EncodaError)?.code, .stateCorrupt, what)
            }
        }
        XCTAssertThrowsError(try result { _ in }.validate(against: m, chunkID: 7), "chunk outside the plan")
    }

    func testScanMovesAHostileRecordAsideInsteadOfTrustingIt() throws {
        let job = try TestJob(chunks: 2); defer { job.remove() }
        _ = try worker(job, "a", FakeEncoder()).run()
        var r = try JSONCoding.read(ChunkResult.self, from: job.dir.result(0), what: "result")
        r.file = "../job.json"
        try AtomicFile.writeJSON(r, to: job.dir.result(0), staging: job.dir.staging)
        XCTAssertTrue(FileManager.default.createFile(atPath: job.dir.result(5), contents: Data("{}".utf8))) // outside the plan: ignored
        let state = JobState.scan(job.dir, manifest: job.manifest)
        XCTAssertEqual(Set(state.done.keys), [1])
        XCTAssertTrue(state.isOpen(0), "chunk 0 will be encoded again")
        XCTAssertTrue(job.dir.list(job.dir.results).contains { $0.hasPrefix("00000.json.invalid-") })
    }

    func testMalformedJSONGivesAClearError() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        let path = job.dir.root + "/bad.json"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("{\"formatVersion\":\"one\"}".utf8)))
        XCTAssertThrowsError(try JSONCoding.read(ChunkResult.self, from: path, what: "result record")) { e in
            let msg = (e as? EncodaError)?.message ?? ""
            XCTAssertTrue(msg.contains("malformed at formatVersion"), msg)
        }
    }
}

final class ManifestValidationTests: XCTestCase {
    func manifest(_ edit: (inout JobManifest) -> Void) -> JobManifest {
        var m = TestJob.manifest(chunks: 3, framesPerChunk: 10)
        edit(&m)
        return m
    }

    func testAGoodManifestPasses() { XCTAssertNoThrow(try manifest { _ in }.validate()) }

    func testInputPathMayOnlyLeadIntoTheSharedFolder() {
        for ok in ["in.mkv", "media/in.mkv", "../in.mkv", "../media/in.mkv"] {
            XCTAssertNoThrow(try manifest { $0.input.pathRelativeToWorkDirectory = ok }.validate(), ok)
        }
        for bad in ["../../in.mkv", "../../../../etc/passwd", "media/../../x", "/etc/passwd", "..", "./in.mkv", "a//b", ""] {
            XCTAssertThrowsError(try manifest { $0.input.pathRelativeToWorkDirectory = bad }.validate(), bad)
        }
    }

    func testInconsistentOrHugeValuesAreRejected() {
        let bad: [(String, (inout JobManifest) -> Void)] = [
            ("huge frame count", { $0.frameCount = Int.max }),
            ("frame count below the plan", { $0.frameCount = 20 }),
            ("gap between chunks", { $0.chunks[1].range = FrameRange(11, 20) }),
            ("chunk past the end", { $0.chunks[2].range = FrameRange(20, 1 << 40) }),
            ("ids out of order", { $0.chunks[1].id = 5 }),
            ("no chunks", { $0.chunks = [] }),
            ("job id with a slash", { $0.jobID = "../../etc-0001" }),
            ("huge picture", { $0.video.width = 1 << 30 }),
            ("lease too short", { $0.farm = FarmSettings(leaseSeconds: 1, maxAttempts: 3) }),
            ("lease not a number", { $0.farm = FarmSettings(leaseSeconds: .nan, maxAttempts: 3) }),
            ("attempts zero", { $0.farm = FarmSettings(leaseSeconds: 60, maxAttempts: 0) }),
            ("future format", { $0.formatVersion = 99 }),
        ]
        for (what, edit) in bad {
            XCTAssertThrowsError(try manifest(edit).validate(), what) { e in
                XCTAssertTrue((e as? EncodaError)?.message.contains("job.json is invalid") ?? false, "\(what): \(e)")
            }
        }
    }

    func testWrongTypesInJobJSONAreReportedWithTheField() throws {
        let job = try TestJob(chunks: 1); defer { job.remove() }
        var text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: job.dir.manifest)), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"frameCount\":10", with: "\"frameCount\":[1]")
        try Data(text.utf8).write(to: URL(fileURLWithPath: job.dir.manifest))
        XCTAssertThrowsError(try JSONCoding.read(JobManifest.self, from: job.dir.manifest, what: "job manifest")) { e in
            XCTAssertTrue((e as? EncodaError)?.message.contains("malformed at frameCount") ?? false, "\(e)")
        }
    }

    func testAPlanWithoutFarmSettingsUsesTheDefaults() throws {
        let m = manifest { $0.farm = nil }
        XCTAssertNoThrow(try m.validate())
        XCTAssertEqual(m.farmSettings, FarmSettings())
    }
}

/// A timeline job's plan: the chunks cover each clip's range in turn (gaps between clips skipped), ids running on.
final class TimelinePlanValidationTests: XCTestCase {
    func plan(_ outputs: [FrameRange], _ chunks: [FrameRange]) -> JobManifest {
        var m = TestJob.manifest(chunks: 3, framesPerChunk: 10)
        m.outputs = outputs.enumerated().map { ClipOutput(clip: "c\($0)", path: "/out/\($0).mkv", range: $1) }
        m.chunks = chunks.enumerated().map { Chunk(id: $0, range: $1, shotStarts: [$1.start]) }
        return m
    }

    func testChunksCoverEveryClipAndNoGap() throws {
        let good = plan([FrameRange(0, 8), FrameRange(12, 30)], [FrameRange(0, 8), FrameRange(12, 20), FrameRange(20, 30)])
        XCTAssertNoThrow(try good.validate())
        XCTAssertEqual(good.outputFrameCount, 26)
        XCTAssertEqual(good.chunks(ofOutput: 1).map(\.id), [1, 2])
        XCTAssertEqual(good.forOutput(1).trim?.range, FrameRange(12, 30))
        XCTAssertEqual(good.forOutput(1).outputFrameCount, 18)
        for (what, bad) in [("a chunk across two clips", plan([FrameRange(0, 8), FrameRange(8, 30)], [FrameRange(0, 10), FrameRange(10, 30)])),
                            ("a chunk in the gap", plan([FrameRange(0, 8), FrameRange(12, 30)], [FrameRange(0, 8), FrameRange(8, 12), FrameRange(12, 30)])),
                            ("a clip without chunks", plan([FrameRange(0, 8), FrameRange(12, 30)], [FrameRange(0, 8)])),
                            ("a clip beyond INPUT", plan([FrameRange(0, 8), FrameRange(12, 31)], [FrameRange(0, 8), FrameRange(12, 31)]))] {
            XCTAssertThrowsError(try bad.validate(), what)
        }
    }
}
