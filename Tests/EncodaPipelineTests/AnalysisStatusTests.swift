import EncodaJobs
import EncodaModel
@testable import EncodaPipeline
import EncodaSystem
import Foundation
import XCTest

/// `status` on a TMP whose analysis runs as leased segments, made by the protocol code itself (`SegmentWorker`).
final class AnalysisStatusTests: XCTestCase {
    private struct Analyser: SegmentAnalysing {
        let failing: Set<Int>
        func analyse(_ entry: AnalysisManifest.Entry) throws -> SegmentMeasurements {
            let s = entry.segment
            if failing.contains(s.id) { throw EncodaError(.inputDamaged, "cannot decode segment \(s.name)") }
            let n = s.frames.count
            return SegmentMeasurements(frames: s.frames, changes: Array(repeating: 1, count: n), pts: (s.frames.start..<s.frames.end).map { Int64($0) },
                                       durations: Array(repeating: 1, count: n), framesDecoded: n + 1)
        }
    }

    private func analysisTMP(segments: Int, framesPerSegment: Int) throws -> (WorkDirectory, AnalysisManifest) {
        let dir = WorkDirectory(NSTemporaryDirectory() + "encoda-status-\(UUID().uuidString)")
        try dir.prepare()
        let frames = segments * framesPerSegment
        let index = FrameIndex(pts: (0..<frames).map { Int64($0) }, durations: Array(repeating: 1, count: frames), keyframes: [0])
        let video = VideoFacts(width: 320, height: 240, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 10),
                               frameRate: Rational(10, 1), sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2,
                               colorMatrix: 2, colorRange: 0, chromaLocation: 0, codecName: "h264", streamIndex: 0)
        let m = AnalysisManifest(jobID: "statusjob-0001", createdAt: 0,
                                 input: InputReference(absolutePath: "/nonexistent/in.mkv", pathRelativeToWorkDirectory: nil, size: 1, fingerprint: "1-0"),
                                 video: video, index: index, farm: FarmSettings(leaseSeconds: 30, maxAttempts: 1),
                                 segments: (0..<segments).map { AnalysisSegment(id: $0, frames: FrameRange($0 * framesPerSegment, ($0 + 1) * framesPerSegment)) })
        try m.validate()
        return (dir, try dir.publishAnalysisManifest(m))
    }

    private func worker(_ dir: WorkDirectory, _ m: AnalysisManifest, _ name: String, failing: Set<Int> = []) -> SegmentWorker {
        var o = WorkerOptions()
        o.farm = m.farmSettings
        o.exitWhenIdle = true
        return SegmentWorker(directory: dir, manifest: m, analyser: Analyser(failing: failing),
                             identity: WorkerIdentity(host: "host-\(name)", pid: 1000, token: "tok\(name)"), options: o)
    }

    func testStatusShowsSegmentsDoneByWhomRunningAndQuarantined() throws {
        let (dir, m) = try analysisTMP(segments: 6, framesPerSegment: 5)
        defer { try? FileManager.default.removeItem(atPath: dir.root) }
        // Segment 4 is held by a live worker on another host; segment 5 cannot be decoded (quarantined at once).
        let holder = LeaseBook(directory: dir.analysis, jobID: m.jobID, me: WorkerIdentity(host: "host-c", pid: 77, token: "tokc"), leaseSeconds: 30)
        XCTAssertEqual(try holder.acquire(4), .acquired)
        let a = worker(dir, m, "a", failing: [5])
        let b = worker(dir, m, "b")
        // "a" publishes 0…3 alone; "b" then finds them published and 4 held.
        XCTAssertEqual(try a.run(), [0, 1, 2, 3])
        XCTAssertEqual(try b.run(), [])

        // A worker analysing now (its record's heartbeat is fresh) is listed before any job.json exists.
        try AtomicFile.writeJSON(WorkerRecord(identity: WorkerIdentity(host: "host-c", pid: 77, token: "tokc"), jobID: m.jobID),
                                 to: dir.workers + "/tokc.json", staging: dir.staging)
        let r = try JobStatus.report(dir)
        XCTAssertEqual(r.state, "analysing")
        XCTAssertEqual(r.workers.map(\.host), ["host-c"])
        XCTAssertNil(r.jobID, "a job's id comes with its plan (job.json); the analysis has an id of its own")
        let s = try XCTUnwrap(r.analysis)
        XCTAssertEqual(s.segments, 6)
        XCTAssertEqual(s.segmentsDone, 4)
        XCTAssertEqual(s.frames, 30)
        XCTAssertEqual(s.framesDone, 20)
        XCTAssertEqual(s.done.map(\.segment), [0, 1, 2, 3])
        XCTAssertTrue(s.done.allSatisfy { $0.worker == "toka" && $0.host == "host-a" && $0.finishedAt >= $0.startedAt })
        XCTAssertEqual(s.byWorker.map { "\($0.host)/\($0.worker)/\($0.segments)" }, ["host-a/toka/4"])
        XCTAssertEqual(s.running.map { "\($0.segment) \($0.host) \($0.pid) \($0.stale)" }, ["4 host-c 77 false"])
        XCTAssertEqual(s.quarantined.map(\.segment), [5])
        XCTAssertTrue(s.quarantined[0].error.contains("cannot decode segment 00005"), s.quarantined[0].error)
        XCTAssertTrue(s.failed.isEmpty, "a quarantined segment is listed once, as quarantined")
        let json = try JSONSerialization.jsonObject(with: JSONCoding.encode(r)) as! [String: Any]
        let analysis = try XCTUnwrap(json["analysis"] as? [String: Any])
        XCTAssertEqual(analysis["segmentsDone"] as? Int, 4)

        // Another worker takes 4 over once its lease is stale: the status then counts it done, by that worker.
        let t = Date().timeIntervalSince1970 - 120
        var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, dir.analysis.lease(4), &times, 0), 0)
        XCTAssertEqual(try JobStatus.report(dir).analysis?.running.first?.stale, true)
        XCTAssertEqual(try b.run(), [4])
        let after = try XCTUnwrap(try JobStatus.report(dir).analysis)
        XCTAssertEqual(after.segmentsDone, 5)
        XCTAssertEqual(after.byWorker.map { "\($0.host)/\($0.segments)" }, ["host-a/4", "host-b/1"])
        XCTAssertTrue(after.running.isEmpty)
    }
}
