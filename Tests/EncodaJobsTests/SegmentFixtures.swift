import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import Synchronization
import XCTest

/// An analysis in a fresh temporary TMP: `segments` segments of `framesPerSegment` frames, written as analysis.json.
struct TestAnalysis {
    let dir: WorkDirectory
    let manifest: AnalysisManifest

    init(segments: Int, framesPerSegment: Int = 10, farm: FarmSettings = FarmSettings(leaseSeconds: 30, maxAttempts: 3)) throws {
        dir = WorkDirectory(NSTemporaryDirectory() + "encoda-analysis-\(UUID().uuidString)")
        try dir.prepare()
        let job = TestJob.manifest(chunks: segments, framesPerChunk: framesPerSegment)
        let entries = (0..<segments).map { i -> AnalysisManifest.Entry in
            let frames = FrameRange(i * framesPerSegment, (i + 1) * framesPerSegment)
            let first = max(0, frames.start - 1) // the slice of the decoded frames [start, end), as job.json gives a chunk's
            let slice = FrameIndexSlice(first: first, pts: (first..<frames.end).map { Int64($0) }, keyframes: [0], keyframeTimestamps: [0],
                                        keyframePositions: [-1], timestampsReliable: true, seeksByByte: false)
            return .init(segment: AnalysisSegment(id: i, frames: frames), index: slice)
        }
        let m = AnalysisManifest(jobID: job.jobID, createdAt: 0, input: job.input, video: job.video, frameCount: segments * framesPerSegment,
                                 farm: farm, segments: entries)
        try m.validate()
        manifest = try dir.publishAnalysisManifest(m)
    }

    var analysis: WorkDirectory { dir.analysis }

    func identity(_ name: String) -> WorkerIdentity { WorkerIdentity(host: "host-\(name)", pid: 1000, token: "tok\(name)") }

    func book(_ name: String) -> LeaseBook {
        LeaseBook(directory: analysis, jobID: manifest.jobID, me: identity(name), leaseSeconds: manifest.farmSettings.leaseSeconds)
    }

    func worker(_ name: String, _ analyser: SegmentAnalysing, exitWhenIdle: Bool = true) -> SegmentWorker {
        var o = WorkerOptions()
        o.farm = manifest.farmSettings
        o.exitWhenIdle = exitWhenIdle
        o.pollSeconds = 0.05
        return SegmentWorker(directory: dir, manifest: manifest, analyser: analyser, identity: identity(name), options: o)
    }

    /// Makes segment `id`'s lease look `seconds` old (its heartbeat stopped that long ago).
    func age(lease id: Int, by seconds: Double) {
        let t = Date().timeIntervalSince1970 - seconds
        var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, analysis.lease(id), &times, 0), 0)
    }

    /// The published record of segment `id`, if any.
    func record(_ id: Int) -> SegmentRecord? {
        try? JSONCoding.read(SegmentRecord.self, from: analysis.result(id), what: "segment record")
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir.root) }
}

/// A fake analyser: measures each frame as its own number (so a record shows which frames it covers), counts
/// analyses, fails where told, and runs `during` in the middle of an analysis.
final class FakeAnalyser: SegmentAnalysing, Sendable {
    private let counts = Mutex<[Int: Int]>([:])
    private let hook = Mutex<(@Sendable (AnalysisSegment) -> Void)?>(nil)
    let failing: Set<Int>
    let shortBy: [Int: Int]

    init(failing: Set<Int> = [], shortBy: [Int: Int] = [:]) { self.failing = failing; self.shortBy = shortBy }

    var during: (@Sendable (AnalysisSegment) -> Void)? {
        get { hook.withLock { $0 } }
        set { hook.withLock { $0 = newValue } }
    }

    var analyses: [Int: Int] { counts.withLock { $0 } }

    func analyse(_ entry: AnalysisManifest.Entry) throws -> SegmentMeasurements {
        let s = entry.segment
        counts.withLock { $0[s.id, default: 0] += 1 }
        during?(s)
        if failing.contains(s.id) { throw EncodaError(.inputDamaged, "fake analyser cannot decode segment \(s.name)") }
        let frames = Array(s.frames.start..<(s.frames.end - (shortBy[s.id] ?? 0)))
        return SegmentMeasurements(frames: s.frames, changes: frames.map { Double($0) }, pts: frames.map { Int64($0) },
                                   durations: frames.map { _ in 1 }, framesDecoded: frames.count + 1)
    }
}
