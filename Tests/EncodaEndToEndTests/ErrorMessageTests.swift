import Foundation
import XCTest

/// Failures a new user meets first: bad encoder parameters, options that do not go together, chunks that fail.
/// Each must stop early, in one line that names what the user gave, and leave nothing behind.
final class ErrorMessageTests: XCTestCase {

    /// The `encoda: error:` lines of stderr.
    private func errorLines(_ r: Tool.Result) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("encoda: error:") }
    }

    /// A refused run: the given exit status, exactly one error line naming `mentions`, no SVT-AV1 error lines
    /// (their reason is in encoda's line), no scene pass (TMP has no scenes.json) and no OUTPUT.
    private func assertRefusedAtPlan(_ args: [String], tmp: String, output: String, status: Int32 = 64, mentions: [String],
                                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try Tool.encoda(args)
        XCTAssertEqual(r.status, status, "exit status; stderr: \(r.stderr)", file: file, line: line)
        let errors = errorLines(r)
        XCTAssertEqual(errors.count, 1, "one error line, got: \(r.stderr)", file: file, line: line)
        let message = errors.first ?? ""
        for m in mentions { XCTAssertTrue(message.contains(m), "'\(m)' missing from: \(message)", file: file, line: line) }
        XCTAssertFalse(r.stderr.contains("Svt[error]"), "SVT-AV1's own error lines belong in encoda's message: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("scene pass"), "the scene pass must not run: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/scenes.json"), "the scene pass ran", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/job.json"), "a job was planned", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "OUTPUT was written", file: file, line: line)
        return message
    }

    func testBadEncoderParamsFailInThePlanStepNamingTheKey() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        let out = s.file("out.mkv")
        let tmp = s.file("tmp")

        // A key SVT-AV1 does not have.
        var m = try assertRefusedAtPlan([clip, out, tmp, "--encoder-params", "enable-overlays=1:no-such-key=3"], tmp: tmp, output: out,
                                        mentions: ["no-such-key"])
        XCTAssertFalse(m.contains("enable-overlays"), "only the bad item is named: \(m)")

        // A value out of range: SVT-AV1 accepts the name and refuses the configuration, saying why only in its log.
        m = try assertRefusedAtPlan([clip, out, tmp, "--encoder-params", "film-grain=99"], tmp: tmp, output: out,
                                    mentions: ["film-grain=99", "EB_ErrorBadParameter", "0x80001005", "[0,50]"])
        XCTAssertFalse(m.contains("0x-"), "hex is printed unsigned: \(m)")

        // A value that is not a number.
        _ = try assertRefusedAtPlan([clip, out, tmp, "--encoder-params", "enable-overlays=1:film-grain=lots"], tmp: tmp, output: out,
                                    mentions: ["film-grain", "lots"])

        // x264: an unknown option, a value it cannot read, and a value x264_encoder_open refuses.
        let h264 = ["--encoder", "h264", "--preset", "ultrafast"]
        _ = try assertRefusedAtPlan([clip, out, tmp] + h264 + ["--encoder-params", "bframes=2:no-such-option=1"], tmp: tmp, output: out,
                                    mentions: ["no-such-option"])
        _ = try assertRefusedAtPlan([clip, out, tmp] + h264 + ["--encoder-params", "bframes=many"], tmp: tmp, output: out,
                                    mentions: ["bframes", "many"])
        _ = try assertRefusedAtPlan([clip, out, tmp] + h264 + ["--encoder-params", "ref=2:crop-rect=400,0,0,0"], tmp: tmp, output: out,
                                    mentions: ["crop-rect=400,0,0,0"])
    }

    /// Av1an passes encoder options as `--film-grain 8`. encoda reads that as film-grain=8; the proof is that the
    /// value reaches the encoder: 99 is refused as film-grain=99 (not as a key named "99"), and x264 writes the
    /// options it ran with into the stream.
    func testAv1anSpellingIsReadAsKeyValue() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()

        let plan = try Tool.encoda([clip, s.file("o.mkv"), s.file("tmp0"), "--encoder-params", "--film-grain 8 --tune 0", "--dry-run"])
        XCTAssertEqual(plan.status, 0, plan.stderr)

        let m = try assertRefusedAtPlan([clip, s.file("o.mkv"), s.file("tmp1"), "--encoder-params", "--film-grain 99"],
                                        tmp: s.file("tmp1"), output: s.file("o.mkv"), mentions: ["--film-grain 99", "film-grain=99"])
        XCTAssertTrue(m.contains("read as film-grain=99"), m)

        // A value without its name is refused with the right spelling.
        _ = try assertRefusedAtPlan([clip, s.file("o.mkv"), s.file("tmp2"), "--encoder-params", "film-grain 8"],
                                    tmp: s.file("tmp2"), output: s.file("o.mkv"), mentions: ["write film-grain=8"])

        // x264 records its options in an SEI message of the stream it writes.
        let out = s.file("out.mkv")
        try Tool.mustRun(Tool.encoda, [clip, out, s.file("tmp3"), "--encoder", "h264", "--preset", "veryfast",
                                       "--encoder-params", "--bframes 0 --ref 2", "--workers", "1", "--quiet"])
        let stream = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
        XCTAssertTrue(stream.contains(" bframes=0 "), "x264 ran without b-frames")
        XCTAssertTrue(stream.contains(" ref=2 "), "x264 ran with 2 reference frames")
        XCTAssertEqual(try Tool.videoField(out, "has_b_frames"), "0")
    }

    func testLosslessWithoutH264NamesLossless() throws {
        let s = Scratch()
        let r = try Tool.encoda([try Clips.singleShot(), s.file("o.mkv"), s.file("tmp"), "--lossless"])
        XCTAssertEqual(r.status, 64, r.stderr)
        let errors = errorLines(r)
        XCTAssertEqual(errors.count, 1, r.stderr)
        XCTAssertTrue(errors.first?.contains("--lossless needs --encoder h264") ?? false, r.stderr)
        XCTAssertFalse(r.stderr.contains("--crf"), "--crf was not given: \(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/scenes.json")))

        // The audio options name only the ones given.
        let a = try Tool.encoda([try Clips.singleShot(), s.file("o.mkv"), s.file("tmp"), "--no-audio"])
        XCTAssertEqual(a.status, 64, a.stderr)
        XCTAssertTrue(a.stderr.contains("--no-audio applies to --mux"), a.stderr)
        XCTAssertFalse(a.stderr.contains("--audio-codec"), a.stderr)
    }

    /// The versions are checked against pkg-config, which reads the installed libraries' own records.
    func testVersionNamesTheLibraryVersions() throws {
        let r = try Tool.mustRun(Tool.encoda, ["--version"])
        XCTAssertTrue(r.stdout.hasPrefix("encoda "), r.stdout)
        for (package, label) in [("SvtAv1Enc", "SVT-AV1"), ("x264", "x264"), ("libavcodec", "libavcodec"),
                                 ("libavformat", "libavformat"), ("libavutil", "libavutil")] {
            let v = try Tool.mustRun("pkg-config", ["--modversion", package]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertFalse(v.isEmpty)
            let line = r.stdout.split(separator: "\n").first { $0.contains(label + " ") } ?? ""
            XCTAssertTrue(line.contains(v), "\(label) \(v) (pkg-config) missing from: \(r.stdout)")
        }
    }

    /// SVT-AV1 prints a 16-line banner per encoder at its info level. Neither a quiet run nor a normal one shows it,
    /// on stderr or in the workers' logs; --quiet leaves stderr empty.
    func testEncoderBannersAreNotLogged() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        for (name, quiet) in [("quiet", true), ("normal", false)] {
            let tmp = s.file("tmp-" + name)
            let r = try Tool.mustRun(Tool.encoda, [clip, s.file(name + ".mkv"), tmp, "--workers", "1", "--preset", "12",
                                                   "--max-scene-length", "2"] + (quiet ? ["--quiet"] : []))
            XCTAssertFalse(r.stderr.contains("Svt["), "\(name) stderr: \(r.stderr)")
            if quiet { XCTAssertEqual(r.stderr, "", "--quiet prints nothing on success") }
            let logs = try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs").filter { $0.hasSuffix(".log") }
            XCTAssertFalse(logs.isEmpty, "the worker wrote a log")
            var encoded = 0
            for log in logs {
                let text = try String(contentsOfFile: tmp + "/logs/" + log, encoding: .utf8)
                XCTAssertFalse(text.contains("Svt[info]"), "\(name) worker log \(log): \(text)")
                encoded += text.components(separatedBy: ": published").count - 1
            }
            XCTAssertGreaterThanOrEqual(encoded, 2, "the logs are those of workers that encoded the chunks")
        }
    }

    /// Every chunk fails the same way: the final error tells it once, with the chunks it stopped.
    func testChunkFailuresAreSummarisedInOneLine() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let tmp = s.file("tmp")
        let r = try Tool.run(Tool.encoda, [clip, s.file("o.mkv"), tmp, "--encoder", "h264", "--preset", "ultrafast",
                                           "--max-scene-length", "2", "--max-attempts", "1", "--workers", "2", "--quiet"],
                             environment: ["ENCODA_TEST_FAIL_CHUNKS": (0..<40).map(String.init).joined(separator: ",")])
        XCTAssertEqual(r.status, 70, r.stderr)
        let chunks = try FileManager.default.contentsOfDirectory(atPath: tmp + "/quarantine").filter { $0.hasSuffix(".json") }.count
        XCTAssertGreaterThanOrEqual(chunks, 4, "the clip is planned into several chunks")
        let errors = errorLines(r)
        XCTAssertEqual(errors.count, 1, r.stderr)
        let message = errors.first ?? ""
        XCTAssertTrue(message.contains("\(chunks) chunks (00000-\(String(format: "%05d", chunks - 1))) failed: "), message)
        XCTAssertEqual(message.components(separatedBy: "ENCODA_TEST_FAIL_CHUNKS").count - 1, 1, "the error is told once: \(message)")
        XCTAssertLessThan(message.count, 400, message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("o.mkv")))
    }
}
