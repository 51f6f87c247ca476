import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import Synchronization
import XCTest

/// A job in a fresh temporary TMP, with a plan of `chunks` chunks of `framesPerChunk` frames.
struct TestJob {
    let dir: WorkDirectory
    let manifest: JobManifest

    init(chunks: Int, framesPerChunk: Int = 10, farm: FarmSettings = FarmSettings(leaseSeconds: 30, maxAttempts: 3)) throws {
        let root = NSTemporaryDirectory() + "encoda-jobs-\(UUID().uuidString)"
        dir = WorkDirectory(root)
        try dir.prepare()
        var m = TestJob.manifest(chunks: chunks, framesPerChunk: framesPerChunk)
        m.farm = farm
        try m.validate()
        try AtomicFile.writeJSON(m, to: dir.manifest, staging: dir.staging)
        manifest = m
    }

    static func manifest(chunks: Int, framesPerChunk: Int) -> JobManifest {
        let plan = (0..<chunks).map { i in
            Chunk(id: i, range: FrameRange(i * framesPerChunk, (i + 1) * framesPerChunk), shotStarts: [i * framesPerChunk])
        }
        let video = VideoFacts(width: 320, height: 240, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 10),
                               frameRate: Rational(10, 1), sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2,
                               colorMatrix: 2, colorRange: 0, chromaLocation: 0, codecName: "h264", streamIndex: 0)
        return JobManifest(jobID: "testjob-0001", createdAt: 0,
                           input: InputReference(absolutePath: "/nonexistent/in.mkv", pathRelativeToWorkDirectory: "../in.mkv",
                                                 size: 1000, fingerprint: "1000-0"),
                           video: video, frameCount: chunks * framesPerChunk,
                           settings: EncodeSettings(encoder: .h264, preset: "ultrafast", crf: 0, lossless: true, pixelFormat: .yuv420p, encoderParams: ""),
                           scene: SceneSettings(), versions: EncoderVersions(encoda: "t", svtav1: "t", x264: "t", libavcodec: "t"),
                           chunks: plan)
    }

    func identity(_ name: String) -> WorkerIdentity { WorkerIdentity(host: "host-\(name)", pid: 1000, token: "tok\(name)") }

    func book(_ name: String, lease: Double = 30) -> LeaseBook {
        LeaseBook(directory: dir, jobID: manifest.jobID, me: identity(name), leaseSeconds: lease)
    }

    /// Makes chunk `id`'s lease look `seconds` old (its heartbeat stopped that long ago).
    func age(lease id: Int, by seconds: Double) {
        let t = Date().timeIntervalSince1970 - seconds
        var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, dir.lease(id), &times, 0), 0)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir.root) }
}

/// A fake encoder: writes a small file whose bytes name the chunk, counts encodes, fails where told.
final class FakeEncoder: ChunkEncoding, Sendable {
    private let counts = Mutex<[Int: Int]>([:])
    private let duringEncode = Mutex<(@Sendable (Chunk) -> Void)?>(nil)
    let failing: Set<Int>
    let shortBy: [Int: Int]

    init(failing: Set<Int> = [], shortBy: [Int: Int] = [:]) { self.failing = failing; self.shortBy = shortBy }

    /// Called in the middle of an encode (to simulate what other workers do meanwhile).
    var during: (@Sendable (Chunk) -> Void)? {
        get { duringEncode.withLock { $0 } }
        set { duringEncode.withLock { $0 = newValue } }
    }

    var encodes: [Int: Int] { counts.withLock { $0 } }

    func encode(chunk: Chunk, outputPath: String) throws -> EncodedChunk {
        counts.withLock { $0[chunk.id, default: 0] += 1 }
        during?(chunk)
        if failing.contains(chunk.id) { throw EncodaError(.encoder, "fake encoder refuses chunk \(chunk.name)") }
        let data = Data("chunk \(chunk.id) frames \(chunk.range)".utf8)
        guard FileManager.default.createFile(atPath: outputPath, contents: data) else {
            throw EncodaError(.workDirectory, "cannot write \(outputPath)")
        }
        let crc = data.withUnsafeBytes { CRC32.checksum($0) }
        return EncodedChunk(frames: chunk.range.count - (shortBy[chunk.id] ?? 0), bytes: Int64(data.count), crc32: crc,
                            seekSeconds: 0, framesSkipped: 0)
    }
}

/// A value shared between a test and the threads it starts.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ v: Value) { value = Mutex(v) }
    var get: Value { value.withLock { $0 } }
    func set(_ v: Value) { value.withLock { $0 = v } }
    @discardableResult
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}

func worker(_ job: TestJob, _ name: String, _ encoder: ChunkEncoding, exitWhenIdle: Bool = true) -> Worker {
    var o = WorkerOptions()
    o.farm = job.manifest.farmSettings
    o.exitWhenIdle = exitWhenIdle
    o.pollSeconds = 0.05
    return Worker(directory: job.dir, manifest: job.manifest, encoder: encoder, identity: job.identity(name), options: o)
}

/// A worker's log lines, collected from whichever thread logs them.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
