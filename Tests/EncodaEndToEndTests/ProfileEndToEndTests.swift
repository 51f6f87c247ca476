import EncodaModel
import Foundation
import XCTest

/// `--profile NAME`, `encoda profiles` and a worker's overrides, on the built binary: the OUTPUT has the profile's
/// properties as ffprobe and x264's own settings record (the SEI every chunk's encoder writes) read them, options on
/// the command line win, a worker applies its machine's overrides, and every bad file is one line naming the place.
final class ProfileEndToEndTests: XCTestCase {
    /// HOME points into the scratch folder so that a profiles file of the machine's user cannot change the results.
    private func env(_ s: Scratch, _ more: [String: String] = [:]) -> [String: String] {
        ["HOME": s.path, "ENCODA_PROFILES": "", "ENCODA_WORKER_OVERRIDES": ""].merging(more) { $1 }
    }

    private func encoda(_ s: Scratch, _ args: [String], _ more: [String: String] = [:]) throws -> Tool.Result {
        try Tool.run(Tool.encoda, args, environment: env(s, more))
    }

    /// 160x120 at 12 fps, 4 s, two shots (a cut at frame 24), made here; with --max-scene-length 1, two chunks.
    private func tinyClip(_ s: Scratch) throws -> String {
        let out = s.file("tiny.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=12:d=2", "-f", "lavfi", "-i", "mandelbrot=s=160x120:r=12",
                         "-filter_complex", "[1:v]trim=end_frame=24[m];[0:v][m]concat=n=2:v=1:a=0,format=yuv420p[v]", "-map", "[v]",
                         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", out])
        return out
    }

    /// x264's settings as it records them in the bitstream (one SEI per encoder run, so one per chunk).
    private func x264Settings(_ file: String) throws -> [String] {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self)
        return text.components(separatedBy: "x264 - core ").dropFirst().map { String($0.prefix(2000)) }
    }

    private func manifest(_ tmp: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as! [String: Any]
    }

    func testEditProxyProfileWritesA720pH264() throws {
        let s = Scratch()
        let clip = s.file("hd.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=1280x960:r=12:d=1", "-pix_fmt", "yuv444p", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", clip])
        let r = try encoda(s, [clip, s.file("proxy.mp4"), s.file("tmp"), "--profile", "edit-proxy", "--keep"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("encoda: profile edit-proxy (built-in): --encoder=h264 --preset=veryfast --crf=23 --scale=720 --pix-fmt=yuv420p\n"), r.stderr)
        let out = s.file("proxy.mp4")
        XCTAssertEqual(try Tool.videoField(out, "codec_name"), "h264")
        XCTAssertEqual(try Tool.videoField(out, "height"), "720")
        XCTAssertEqual(try Tool.videoField(out, "width"), "960")
        XCTAssertEqual(try Tool.videoField(out, "pix_fmt"), "yuv420p", "4:4:4 INPUT, the profile's 4:2:0 OUTPUT")
        XCTAssertEqual(try Tool.frameHashes(out).count, 12)
        let sei = try x264Settings(out)
        XCTAssertFalse(sei.isEmpty)
        for chunk in sei { XCTAssertTrue(chunk.contains(" crf=23.0 "), chunk) }
        XCTAssertEqual(try manifest(s.file("tmp"))["profile"] as? String, "edit-proxy", "the job records its profile")
    }

    func testOptionsOnTheCommandLineWinOverTheProfile() throws {
        let s = Scratch()
        let clip = try tinyClip(s)
        let file = s.file("profiles.yaml")
        try "profiles:\n  small:\n    description: test\n    encoder: h264\n    preset: ultrafast\n    crf: 30\n    scale: 96\n    max-scene-length: 1\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        // Options before INPUT, as the server passes them, and an explicit --crf and --scale.
        let r = try encoda(s, ["--profile", "small", "--profiles", file, clip, s.file("a.mkv"), s.file("tmp"), "--crf", "18", "--scale", "64", "--keep"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tool.videoField(s.file("a.mkv"), "height"), "64")
        let sei = try x264Settings(s.file("a.mkv"))
        XCTAssertGreaterThanOrEqual(sei.count, 2, "the profile's max-scene-length gives several chunks")
        for chunk in sei { XCTAssertTrue(chunk.contains(" crf=18.0 "), chunk) }
        let settings = try manifest(s.file("tmp"))["settings"] as! [String: Any]
        XCTAssertEqual(settings["preset"] as? String, "ultrafast", "what the command line does not give comes from the profile")

        // --crf against a lossless profile: the profile's lossless gives way instead of the two being refused together.
        let m = try encoda(s, [clip, s.file("m.mkv"), s.file("tmp2"), "--profile", "master-lossless", "--crf", "20", "--preset", "ultrafast"])
        XCTAssertEqual(m.status, 0, m.stderr)
        let lossy = try x264Settings(s.file("m.mkv"))
        XCTAssertFalse(lossy.isEmpty)
        for chunk in lossy { XCTAssertTrue(chunk.contains(" crf=20.0 "), chunk) }
        XCTAssertNotEqual(try Tool.frameHashes(s.file("m.mkv")), try Tool.frameHashes(clip), "not lossless")

        // Another encoder than the profile's: its x264 preset and CRF are not given to SVT-AV1. The profile's scale
        // (720) is a ceiling for this 120-line INPUT, where an explicit --scale 720 is refused.
        let a = try encoda(s, [clip, s.file("b.mkv"), s.file("tmp3"), "--profile", "edit-proxy", "--encoder", "av1", "--preset", "12"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stderr.contains("profile edit-proxy (built-in): --scale=720 --pix-fmt=yuv420p\n"), a.stderr)
        XCTAssertTrue(a.stderr.contains("profile edit-proxy: the picture is 120 lines, not above its scale 720; encoding it at its own size"), a.stderr)
        XCTAssertEqual(try Tool.videoField(s.file("b.mkv"), "codec_name"), "av1")
        XCTAssertEqual(try Tool.videoField(s.file("b.mkv"), "height"), "120")
        XCTAssertEqual(try Tool.frameHashes(s.file("b.mkv")).count, 48)
        let explicit = try encoda(s, [clip, s.file("c.mkv"), s.file("tmp4"), "--profile", "edit-proxy", "--scale", "720", "--dry-run"])
        XCTAssertEqual(explicit.status, 64, explicit.stderr)
        XCTAssertTrue(explicit.stderr.contains("--scale 720 is larger than INPUT's 120 lines"), explicit.stderr)
    }

    func testWorkerAppliesItsOverridesAndSkipsProfilesItDoesNotServe() throws {
        let s = Scratch()
        let clip = try tinyClip(s)
        try "overrides:\n  - match: \"*\"\n    threads: 2\n  - match: \"edit-*\"\n    threads: 3\n    nice: 7\n"
            .write(toFile: s.file("worker.yaml"), atomically: true, encoding: .utf8)
        try "overrides:\n  - match: \"*\"\n    serve: false\n  - match: review\n    serve: true\n"
            .write(toFile: s.file("review-only.yaml"), atomically: true, encoding: .utf8)
        // The coordinator plans and joins; only the worker started below encodes (--workers 0).
        let coordinator = Process()
        coordinator.executableURL = URL(fileURLWithPath: Tool.encoda)
        coordinator.arguments = [clip, s.file("out.mkv"), s.file("tmp"), "--profile", "edit-proxy", "--scale", "96", "--preset", "ultrafast",
                                 "--max-scene-length", "1", "--workers", "0", "--keep", "--quiet"]
        coordinator.environment = ProcessInfo.processInfo.environment.merging(env(s)) { $1 }
        coordinator.standardError = FileHandle.nullDevice
        try coordinator.run()
        defer { if coordinator.isRunning { Tool.killJob(coordinator, tmp: s.file("tmp")) } }

        // A worker that serves only `review` waits for the plan, sees the profile and leaves without a claim.
        let skip = try encoda(s, ["worker", s.file("tmp"), "--overrides", s.file("review-only.yaml"), "--workers", "1"])
        XCTAssertEqual(skip.status, 0, skip.stderr)
        XCTAssertTrue(skip.stderr.contains("this worker does not serve jobs of profile edit-proxy (\(s.file("review-only.yaml")), entry 1); leaving"), skip.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.file("tmp/results")).count, 0)

        let w = try encoda(s, ["worker", s.file("tmp"), "--overrides", s.file("worker.yaml"), "--workers", "1"])
        XCTAssertEqual(w.status, 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("of profile edit-proxy: threads 3, nice 7 (\(s.file("worker.yaml")), entries 1, 2)"), w.stderr)
        coordinator.waitUntilExit()
        XCTAssertEqual(coordinator.terminationStatus, 0)
        let sei = try x264Settings(s.file("out.mkv"))
        XCTAssertGreaterThanOrEqual(sei.count, 2)
        for chunk in sei { XCTAssertTrue(chunk.contains(" threads=3 "), "every chunk encoded with the override's threads: \(chunk)") }
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")).count, 48)
    }

    /// `--watch` with two processes and `workers: 1` for the profile: only the first process takes the job's chunks.
    func testWatchingWorkerGivesAProfileOnlyItsNumberOfProcesses() throws {
        let s = Scratch()
        let clip = try tinyClip(s)
        let root = s.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "overrides:\n  - match: \"edit-*\"\n    workers: 1\n".write(toFile: s.file("w.yaml"), atomically: true, encoding: .utf8)
        let log = s.file("watch.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: Tool.encoda)
        watcher.arguments = ["worker", root, "--watch", "--workers", "2", "--overrides", s.file("w.yaml"), "--poll-seconds", "0.2"]
        watcher.environment = ProcessInfo.processInfo.environment.merging(env(s)) { $1 }
        watcher.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try watcher.run()
        defer { if watcher.isRunning { kill(watcher.processIdentifier, SIGKILL); watcher.waitUntilExit() } }

        let r = try encoda(s, [clip, s.file("out.mkv"), root + "/job1", "--profile", "edit-proxy", "--preset", "ultrafast",
                              "--max-scene-length", "1", "--workers", "0", "--keep", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The second process says it leaves the job alone once it has looked at it (job.json stays with --keep).
        var text = ""
        for _ in 0..<600 where !text.contains("this is number 2") {
            usleep(100_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        kill(watcher.processIdentifier, SIGTERM)
        watcher.waitUntilExit()
        text = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(text.contains("jobs of profile edit-proxy take 1 worker process on this machine and this is number 2 (\(s.file("w.yaml")), entry 1)"), text)
        let publishers = Set(text.split(separator: "\n").filter { $0.contains(": published (") }.map { $0.split(separator: ":")[1] })
        XCTAssertEqual(publishers.count, 1, "one process encoded every chunk: \(text)")
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")).count, 48)
    }

    func testWorkerRefusesOverridesThatChangeTheBitstream() throws {
        let s = Scratch()
        for (key, line) in [("crf: 18", 3), ("pix-fmt: yuv420p10le", 3), ("scale: 720", 5)] {
            let file = s.file("w.yaml")
            let text = line == 3 ? "overrides:\n  - match: \"archive-*\"\n    \(key)\n"
                                 : "overrides:\n  - match: \"*\"\n    threads: 2\n  - match: \"archive-*\"\n    \(key)\n"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try encoda(s, ["worker", s.file("no-job-yet"), "--overrides", file, "--exit-when-idle"])
            XCTAssertEqual(r.status, 64, r.stderr)
            let name = String(key.prefix { $0 != ":" })
            let entry = line == 3 ? 1 : 2
            XCTAssertTrue(r.stderr.hasPrefix("encoda: error: \(file):\(line): entry \(entry) (match archive-*): `\(name)` cannot be overridden on a worker: it changes the encoded bits"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        // From $ENCODA_WORKER_OVERRIDES as well.
        let r = try encoda(s, ["worker", s.file("no-job-yet"), "--exit-when-idle"], ["ENCODA_WORKER_OVERRIDES": s.file("w.yaml")])
        XCTAssertEqual(r.status, 64, r.stderr)
    }

    func testProfilesListsBuiltInsAndFilesWithTheirSource() throws {
        let s = Scratch()
        try FileManager.default.createDirectory(atPath: s.file(".config/encoda"), withIntermediateDirectories: true)
        try "profiles:\n  review:\n    description: mine\n    encoder: h264\n    crf: 21\n"
            .write(toFile: s.file(".config/encoda/profiles.yaml"), atomically: true, encoding: .utf8)
        try "profiles:\n  web:\n    encoder: h264\n    scale: 540\n    mux: true\n".write(toFile: s.file("extra.yaml"), atomically: true, encoding: .utf8)
        let r = try encoda(s, ["profiles", "--json"], ["ENCODA_PROFILES": s.file("extra.yaml")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["files"] as? [String], [s.file(".config/encoda/profiles.yaml"), s.file("extra.yaml")])
        let list = o["profiles"] as! [[String: Any]]
        XCTAssertEqual(list.map { $0["name"] as! String }, ["edit-proxy", "review", "archive-av1", "master-lossless", "web"])
        XCTAssertEqual(list.map { $0["source"] as! String },
                       ["built-in", s.file(".config/encoda/profiles.yaml"), "built-in", "built-in", s.file("extra.yaml")])
        let web = list[4]["options"] as! [String: Any]
        XCTAssertEqual(web["scale"] as? Int, 540)
        XCTAssertEqual(web["mux"] as? Bool, true)
        XCTAssertEqual(list[1]["options"] as? NSDictionary, ["encoder": "h264", "crf": 21] as NSDictionary, "replaced whole")

        let text = try encoda(s, ["profiles"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("edit-proxy       H.264 720p edit proxy"), text.stdout)
        XCTAssertTrue(text.stdout.contains("--encoder h264 --preset veryfast --crf 23 --scale 720 --pix-fmt yuv420p"), text.stdout)

        // The shipped example file defines exactly the built-ins.
        let example = Tool.packageRoot.appendingPathComponent("profiles/profiles.yaml").path
        let clean = Scratch()
        let shipped = try encoda(clean, ["profiles", "--json", "--profiles", example])
        let builtIn = try encoda(clean, ["profiles", "--json"])
        func profiles(_ r: Tool.Result) throws -> [String] {
            let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            return (o["profiles"] as! [[String: Any]]).map { "\($0["name"]!) \($0["description"]!) \(($0["arguments"] as! [String]).joined(separator: " "))" }
        }
        XCTAssertEqual(try profiles(shipped), try profiles(builtIn))
        XCTAssertEqual(try profiles(builtIn).count, 4)
        XCTAssertTrue(shipped.stdout.contains(#""source":"\#(example)""#), shipped.stdout)
    }

    func testBadProfilesAreOneLineNamingFileLineProfileAndKey() throws {
        let s = Scratch()
        let clip = try tinyClip(s)
        let cases: [(String, String, String)] = [
            ("syntax.yaml", "profiles:\n  p:\n    crf: 20\n   scale: 720\n", "syntax.yaml:4: YAML syntax error"),
            ("key.yaml", "profiles:\n  p:\n    encoder: h264\n    crff: 20\n", "key.yaml:4: profile p: unknown option `crff`"),
            ("run.yaml", "profiles:\n  p:\n    start: 10\n", "run.yaml:3: profile p: `start` belongs to one run or one INPUT"),
            ("value.yaml", "profiles:\n  p:\n    encoder: h264\n    crf: 99\n", "profile p (\(s.file("value.yaml"))): --crf 99 is out of range for h264"),
        ]
        for (name, text, expected) in cases {
            try text.write(toFile: s.file(name), atomically: true, encoding: .utf8)
            let r = try encoda(s, [clip, s.file("o.mkv"), s.file("tmp"), "--profile", "p", "--profiles", s.file(name)])
            XCTAssertEqual(r.status, 64, r.stderr)
            let prefix = expected.hasPrefix("profile ") ? "encoda: error: " : "encoda: error: " + s.path + "/"
            XCTAssertTrue(r.stderr.hasPrefix(prefix + expected), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp")), "refused before any work")
        }
        let unknown = try encoda(s, [clip, s.file("o.mkv"), s.file("tmp"), "--profile", "nope"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.hasPrefix("encoda: error: --profile nope: no such profile"), unknown.stderr)
        let missing = try encoda(s, ["profiles", "--profiles", s.file("absent.yaml")])
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.stderr.contains("profiles file \(s.file("absent.yaml")) cannot be read"), missing.stderr)
    }

    /// The option table profiles are checked against is the encode command's own list of options.
    func testOptionTableMatchesTheEncodeCommand() throws {
        let r = try Tool.mustRun(Tool.encoda, ["encode", "--experimental-dump-help"])
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let args = (o["command"] as! [String: Any])["arguments"] as! [[String: Any]]
        var declared: [String: Bool] = [:]
        for a in args {
            guard let kind = a["kind"] as? String, kind != "positional",
                  let long = (a["names"] as? [[String: Any]])?.first(where: { $0["kind"] as? String == "long" })?["name"] as? String,
                  !["help", "version"].contains(long) else { continue }
            declared[long] = kind == "option"
        }
        XCTAssertEqual(declared, Dictionary(uniqueKeysWithValues: EncodeOptionTable.entries.map { ($0.name, $0.takesValue) }))
    }
}
