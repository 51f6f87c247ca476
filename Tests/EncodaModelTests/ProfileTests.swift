import EncodaModel
import XCTest

/// Profiles and worker overrides as parsed values: what a profile adds under a command line, how overrides match,
/// and that every problem in a file is one line naming the file, the line and the key.
final class ProfileTests: XCTestCase {
    private func profiles(_ text: String) throws -> [Profile] { try ProfileCatalog.parse(YAMLFile(text: text, file: "p.yaml")) }
    private func overrides(_ text: String) throws -> WorkerOverrides { try WorkerOverrides.parse(YAMLFile(text: text, file: "w.yaml")) }
    private func message(_ f: () throws -> Void) -> String {
        do { try f(); return "" } catch { return (error as? EncodaError)?.message ?? "\(error)" }
    }

    func testBuiltInsAreTheFourNamedProfiles() throws {
        let b = ProfileCatalog.builtIn.profiles
        XCTAssertEqual(b.map(\.name), ["edit-proxy", "review", "archive-av1", "master-lossless"])
        let proxy = try ProfileCatalog.builtIn.profile(named: "edit-proxy")
        XCTAssertEqual(proxy.value("encoder"), "h264")
        XCTAssertEqual(proxy.value("scale"), "720")
        XCTAssertEqual(try ProfileCatalog.builtIn.profile(named: "archive-av1").value("pix-fmt"), "yuv420p10le")
        XCTAssertTrue(try ProfileCatalog.builtIn.profile(named: "master-lossless").sets("lossless"))
        XCTAssertTrue(try ProfileCatalog.builtIn.profile(named: "review").sets("mux"))
    }

    func testGivenOptionsWinAndExcludedOrForeignEncoderOptionsAreDropped() throws {
        let p = try XCTUnwrap(profiles("""
        profiles:
          p:
            encoder: h264
            preset: slow
            crf: 20
            lossless: false
            scale: 720
            mux: true
            encoder-params: "--bframes 5"
        """).first)
        XCTAssertEqual(p.arguments, ["--encoder=h264", "--preset=slow", "--crf=20", "--scale=720", "--mux", "--encoder-params=--bframes 5"],
                       "a false flag is left out; a value starting with a dash stays attached")
        XCTAssertEqual(p.arguments(under: ["crf", "scale"], givenEncoder: nil),
                       ["--encoder=h264", "--preset=slow", "--mux", "--encoder-params=--bframes 5"])
        XCTAssertEqual(p.arguments(under: ["encoder"], givenEncoder: "av1"), ["--scale=720", "--mux"],
                       "another encoder drops preset, crf and encoder-params")
        XCTAssertEqual(p.arguments(under: ["encoder"], givenEncoder: "h264").count, 5, "the same encoder drops nothing else")
        let lossless = try XCTUnwrap(profiles("profiles:\n  m:\n    encoder: h264\n    lossless: true\n").first)
        XCTAssertEqual(lossless.arguments(under: ["crf"], givenEncoder: nil), ["--encoder=h264"], "--crf drops lossless")
    }

    func testLaterFilesReplaceByNameAndAdd() throws {
        var c = ProfileCatalog.builtIn
        c.add(try profiles("profiles:\n  review:\n    encoder: av1\n  mine:\n    crf: 30\n"), file: "p.yaml")
        XCTAssertEqual(c.profiles.map(\.name), ["edit-proxy", "review", "archive-av1", "master-lossless", "mine"])
        let review = try c.profile(named: "review")
        XCTAssertEqual(review.source, "p.yaml")
        XCTAssertEqual(review.options, [.init(name: "encoder", value: "av1")], "replaced whole, not merged")
        XCTAssertTrue(message { _ = try c.profile(named: "nope") }.contains("known: edit-proxy, review"))
    }

    func testProfileFileProblemsNameFileLineProfileAndKey() {
        XCTAssertEqual(message { _ = try profiles("profiles:\n  p:\n    encoder: h264\n    crff: 20\n") }.prefix(43),
                       "p.yaml:4: profile p: unknown option `crff`;")
        XCTAssertTrue(message { _ = try profiles("profiles:\n  p:\n    restart: true\n") }.hasPrefix("p.yaml:3: profile p: `restart` belongs to one run"))
        XCTAssertTrue(message { _ = try profiles("profiles:\n  p:\n    mux: 3\n") }.hasPrefix("p.yaml:3: profile p: `mux` is a flag"))
        XCTAssertTrue(message { _ = try profiles("profiles:\n  p:\n    scale: [720, 1080]\n") }.hasPrefix("p.yaml:3: profile p: `scale` needs one value"))
        XCTAssertTrue(message { _ = try profiles("presets:\n  p:\n    crf: 3\n") }.hasPrefix("p.yaml:1: unknown key `presets`"))
        let syntax = message { _ = try profiles("profiles:\n  p:\n    crf: 20\n   scale: 720\n") }
        XCTAssertTrue(syntax.hasPrefix("p.yaml:4: YAML syntax error"), syntax)
        XCTAssertFalse(syntax.contains("\n"), "one line: \(syntax)")
    }

    func testOverridesMatchByPatternAndTheLastMatchWinsPerSetting() throws {
        let o = try overrides("""
        overrides:
          - match: "*"
            threads: 4
          - match: "archive-*"
            threads: 2
            nice: 10
          - match: archive-av1
            workers: 1
          - match: "master-*"
            serve: false
        """)
        let archive = o.resolve(profile: "archive-av1")
        XCTAssertEqual([archive.threads, archive.nice, archive.workers], [2, 10, 1])
        XCTAssertEqual(archive.entries, [1, 2, 3])
        XCTAssertTrue(archive.serve)
        let other = o.resolve(profile: "archive-h264")
        XCTAssertEqual([other.threads, other.nice, other.workers], [2, 10, nil])
        XCTAssertFalse(o.resolve(profile: "master-lossless").serve)
        let none = o.resolve(profile: nil)
        XCTAssertEqual(none.threads, 4, "a job without a profile matches only *")
        XCTAssertEqual(none.entries, [1])
    }

    func testOverridesThatChangeTheBitstreamAreRefusedAtLoad() {
        for key in ["crf: 18", "preset: slow", "encoder: h264", "pix-fmt: yuv420p10le", "scale: 720", "lossless: true"] {
            let m = message { _ = try overrides("overrides:\n  - match: \"archive-*\"\n    \(key)\n") }
            let name = String(key.prefix { $0 != ":" })
            XCTAssertTrue(m.hasPrefix("w.yaml:3: entry 1 (match archive-*): `\(name)` cannot be overridden on a worker: it changes the encoded bits"), m)
        }
        XCTAssertTrue(message { _ = try overrides("overrides:\n  - match: x\n    lease-seconds: 30\n") }.contains("recorded in the job's plan"))
        XCTAssertTrue(message { _ = try overrides("overrides:\n  - match: x\n    colour: red\n") }.contains("unknown key `colour`"))
        XCTAssertTrue(message { _ = try overrides("overrides:\n  - threads: 2\n") }.contains("no `match:`"))
        XCTAssertTrue(message { _ = try overrides("overrides:\n  - match: x\n    nice: 40\n") }.contains("`nice` must be a whole number from -20 to 19"))
    }
}
