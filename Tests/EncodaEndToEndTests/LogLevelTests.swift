import Foundation
import XCTest

/// The log levels of `encoda encode` and `encoda worker`: the default shows encoda's notes as before and none of the encoder
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
        XCTAssertTrue(lines(normal).contains { $0.hasPrefix("encoda: the plan is complete: ") }, normal.stderr)
        XCTAssertFalse(normal.stderr.contains("x264 [info]"), "x264's information is for -v: \(normal.stderr)")
        XCTAssertTrue(lines(normal).allSatisfy { $0.hasPrefix("encoda: ") || $0.hasPrefix("\r") }, normal.stderr)

        let quiet = try encode(clip, s, "quiet", ["--quiet"])
        XCTAssertEqual(quiet.stderr, "", "--quiet prints no notes")

        let verbose = try encode(clip, s, "verbose", ["-v"])
        XCTAssertTrue(lines(verbose).contains { $0.hasPrefix("x264 [info]: ") }, "x264's information with -v: \(verbose.stderr)")
        // Every note of the default run is there too, in the same form.
        XCTAssertTrue(lines(verbose).contains { $0.hasPrefix("encoda: the plan is complete: ") }, verbose.stderr)

        // --quiet wins over -v.
        let both = try encode(clip, s, "both", ["--quiet", "--verbose"])
        XCTAssertEqual(both.stderr, "")
    }

    /// A worker's lines follow the same levels: shown by default (on stderr, "encoda worker HOST:PID: …"), on stdout
    /// instead with --log-stdout, kept by -v, hidden by --quiet.
    func testAWorkersLinesFollowTheLevelsAndGoToStdoutWhenAsked() throws {
        let s = Scratch()
        let tmp = s.file("no-job")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        func worker(_ extra: [String]) throws -> Tool.Result {
            let r = try Tool.encoda(["worker", tmp, "--workers", "1", "--exit-when-idle", "--no-overrides"] + extra)
            XCTAssertEqual(r.status, 0, "\(extra): \(r.stderr)")
            return r
        }
        func isLeavingLine(_ text: String) -> Bool {
            let lines = text.split(separator: "\n")
            return lines.count == 1 && lines[0].hasPrefix("encoda worker ") && lines[0].contains(": nothing to do: no job in \(tmp) ")
        }

        let normal = try worker([])
        XCTAssertTrue(isLeavingLine(normal.stderr), normal.stderr)
        XCTAssertEqual(normal.stdout, "")

        let toStdout = try worker(["--log-stdout"])
        XCTAssertTrue(isLeavingLine(toStdout.stdout), toStdout.stdout)
        XCTAssertEqual(toStdout.stderr, "")

        let verbose = try worker(["-v"])
        XCTAssertTrue(isLeavingLine(verbose.stderr), verbose.stderr)

        let quiet = try worker(["--quiet", "--log-stdout"])
        XCTAssertEqual(quiet.stdout + quiet.stderr, "", "--quiet hides a worker's lines wherever they would go")
    }
}
