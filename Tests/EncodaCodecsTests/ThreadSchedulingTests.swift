@testable import EncodaCodecs
import EncodaModel
import Foundation
import XCTest

/// SVT-AV1 1.4.1 run as root makes the thread that opens an encoder SCHED_FIFO 99, and everything that thread starts
/// afterwards inherits it (encoda's encoder threads, its worker processes, a test's children). encoda keeps the
/// policy it was started with: the calling thread and the encoder's own threads stay SCHED_OTHER.
final class ThreadSchedulingTests: XCTestCase {
    private func config(params: String) -> EncoderConfiguration {
        let video = VideoFacts(width: 64, height: 64, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 25),
                               frameRate: Rational(25, 1), sampleAspectRatio: Rational(1, 1), colorPrimaries: 2,
                               colorTransfer: 2, colorMatrix: 2, colorRange: 0, chromaLocation: 0, codecName: "none",
                               streamIndex: 0)
        let settings = EncodeSettings(encoder: .av1, preset: "12", crf: 30, lossless: false, pixelFormat: .yuv420p,
                                      encoderParams: params)
        return EncoderConfiguration(settings: settings, video: video, width: 64, height: 64, threads: 2)
    }

    /// The scheduling policy of every thread of this process (field 41 of /proc/self/task/TID/stat).
    private func threadPolicies() throws -> [Int: Int] {
        var out: [Int: Int] = [:]
        for tid in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after the command name start at field 3; the policy is field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 38, let policy = Int(fields[38]), let t = Int(tid) { out[t] = policy }
        }
        return out
    }

    func testOpeningAnSvtAv1EncoderKeepsTheThreadsPolicy() throws {
        guard getuid() == 0 else { throw XCTSkip("SVT-AV1 raises the thread's priority only when run as root") }
        XCTAssertEqual(sched_getscheduler(0), SCHED_OTHER, "the test thread starts as SCHED_OTHER")
        do {
            let encoder = try SvtAv1Encoder(config(params: ""))
            XCTAssertEqual(sched_getscheduler(0), SCHED_OTHER, "opening an encoder left this thread's policy alone")
            let rt = try threadPolicies().filter { $0.value != Int(SCHED_OTHER) }
            XCTAssertEqual(rt, [:], "no thread of this process runs real-time while the encoder is open (tid: policy)")
            withExtendedLifetime(encoder) {}
        }
        // A configuration SVT-AV1 refuses after the handle was made.
        XCTAssertThrowsError(try SvtAv1Encoder(config(params: "film-grain=99")))
        XCTAssertEqual(sched_getscheduler(0), SCHED_OTHER, "a refused encoder left this thread's policy alone")
    }
}
