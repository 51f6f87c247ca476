import Foundation
import XCTest

/// The log levels of `encoda encode`: the default shows encoda's notes as before and none of the encoder
/// libraries' information; --quiet shows only warnings and errors; -v adds the encoder libraries' information,
/// routed through encoda's logging (x264's `pf_log`).
final class LogLevelTests: XCTestCase {
    private func encode(_ clip: String, _ s: Scratch, _ name: String, _ extra: [String]) throws -> Tool.Result {
        let r = try Tool.encoda([clip, s.file(name + ".mkv"), s.file(name + "-tmp"), "--encoder", "h264", "--preset", "ultrafast",
                                 "--workers", "1", "--threads", "1"] + extra)
        XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
        return r
    }

    private func lines(_ r: Tool.Result) -> [String] { r.stderr.split(separator: "\n").map(String.init) }

    func testQuietHidesNotesAndVerboseAddsTheEncodersInformation() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()

        let normal = try encode(clip, s, "default", [])
        XCTAssertTrue(lines(normal).contains { $0.hasPrefix("encoda: scene pass: ") }, normal.stderr)
        XCTAssertFalse(normal.stderr.contains("x264 [info]"), "x264's information is for -v: \(normal.stderr)")
        XCTAssertTrue(lines(normal).allSatisfy { $0.hasPrefix("encoda: ") || $0.hasPrefix("\r") }, normal.stderr)

        let quiet = try encode(clip, s, "quiet", ["--quiet"])
        XCTAssertEqual(quiet.stderr, "", "--quiet prints no notes")

        let verbose = try encode(clip, s, "verbose", ["-v"])
        XCTAssertTrue(lines(verbose).contains { $0.hasPrefix("x264 [info]: ") }, "x264's information with -v: \(verbose.stderr)")
        // Every note of the default run is there too, in the same form.
        XCTAssertTrue(lines(verbose).contains { $0.hasPrefix("encoda: scene pass: ") }, verbose.stderr)

        // --quiet wins over -v.
        let both = try encode(clip, s, "both", ["--quiet", "--verbose"])
        XCTAssertEqual(both.stderr, "")
    }
}
