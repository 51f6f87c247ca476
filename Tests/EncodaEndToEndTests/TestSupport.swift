import Foundation
import XCTest

/// Runs the built `encoda` binary and the independent oracles (ffmpeg, ffprobe) for end-to-end tests.
enum Tool {
    static let packageRoot: URL = {
        var u = URL(fileURLWithPath: #filePath)
        while u.path != "/" {
            u.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: u.appendingPathComponent("Package.swift").path) { return u }
        }
        fatalError("package root not found")
    }()

    /// A clip from Tests/Media (real footage kept with the tests, see its README).
    static func media(_ name: String) -> String { packageRoot.appendingPathComponent("Tests/Media/" + name).path }

    /// The binary under test: `ENCODA_BIN` as given, else `.build/debug/encoda` (or the release one), rebuilt first
    /// when it is older than a source file or Package.swift. A plain `swift test` builds it with everything else,
    /// but `swift test --skip-build`, running the .xctest bundle directly or an editor's test runner do not, and
    /// would test a stale build. The `swift test` that runs this process holds the build folder's lock while tests
    /// run and builds nothing meanwhile, so the rebuild passes `--ignore-lock`, and test processes running side by
    /// side (`--parallel`) take turns by a lock of their own. When the rebuild fails, the tests stop with its message.
    static let encoda: String = {
        if let e = ProcessInfo.processInfo.environment["ENCODA_BIN"] { return e }
        let candidates = [("debug", ".build/debug/encoda"), ("release", ".build/release/encoda")]
            .map { ($0.0, packageRoot.appendingPathComponent($0.1).path) }
        guard let (configuration, path) = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.1) }) else {
            fatalError("encoda binary not built; run `swift build` first or set ENCODA_BIN")
        }
        guard BuildFreshness.newerSource(than: path, root: packageRoot) != nil else { return path }
        let lock = open(packageRoot.appendingPathComponent(".build/encoda-tests-rebuild.lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        defer { if lock >= 0 { close(lock) } }
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        // Another test process may have rebuilt it while this one waited.
        guard let source = BuildFreshness.newerSource(than: path, root: packageRoot) else { return path }
        print("encoda tests: \(path) is older than \(source); rebuilding it (swift build --product encoda -c \(configuration))")
        let r = try? run("/usr/bin/env", ["swift", "build", "--product", "encoda", "-c", configuration, "--ignore-lock"], cwd: packageRoot.path)
        guard let r, r.status == 0 else {
            let why = r.map { ($0.stderr + $0.stdout).split(separator: "\n").suffix(5).joined(separator: " | ") } ?? "swift not found on PATH"
            fatalError("\(path) is older than \(source) and rebuilding it failed (\(why)); run `swift build` or set ENCODA_BIN")
        }
        // SwiftPM does not relink when a touched source compiles to the same object: it is current then, say so.
        _ = utimensat(AT_FDCWD, path, nil, 0)
        return path
    }()

    struct Result {
        /// The exit status, or the signal's number when `reason` is `.uncaughtSignal`.
        var status: Int32
        var stdout: String
        var stderr: String
        /// `.uncaughtSignal` when the process died by a signal (a crash, or a kill) instead of exiting.
        var reason: Process.TerminationReason = .exit
        /// The process id it ran as.
        var pid: Int32 = 0
    }

    /// Runs a program to completion, capturing its output. `environment` is added to this process's environment.
    @discardableResult
    static func run(_ exe: String, _ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe.hasPrefix("/") ? exe : "/usr/bin/" + exe)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("encoda-test-\(UUID().uuidString).out")
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("encoda-test-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outFile); try? FileManager.default.removeItem(at: errFile) }
        p.standardOutput = try FileHandle(forWritingTo: outFile)
        p.standardError = try FileHandle(forWritingTo: errFile)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "", reason: p.terminationReason,
                      pid: p.processIdentifier)
    }

    @discardableResult
    static func encoda(_ args: [String]) throws -> Result { try run(encoda, args) }

    /// Runs and fails the test on a non-zero status.
    @discardableResult
    static func mustRun(_ exe: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let r = try run(exe, args)
        if r.status != 0 {
            XCTFail("\(exe) \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)", file: file, line: line)
        }
        return r
    }

    static func ffmpeg(_ args: [String]) throws {
        let r = try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + args)
        guard r.status == 0 else { throw NSError(domain: "ffmpeg", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
    }

    /// Per-frame MD5s of the decoded first video stream (`ffmpeg -f framemd5`), in output order.
    /// The chunks a job in TMP has planned so far, as JSON objects: job.json's, and while its plan streams
    /// (`planStreaming`), the records published in TMP/plan, read by name in order as workers read them.
    static func plannedChunks(_ tmp: String) throws -> (chunks: [[String: Any]], streaming: Bool) {
        func json(_ path: String) throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], path)
        }
        let job = try json(tmp + "/job.json")
        var chunks = try XCTUnwrap(job["chunks"] as? [[String: Any]], "job.json's chunks")
        guard job["planStreaming"] as? Bool == true else { return (chunks, false) }
        while FileManager.default.fileExists(atPath: tmp + "/plan/" + String(format: "%05d.json", chunks.count)) {
            chunks.append(try XCTUnwrap(try json(tmp + "/plan/" + String(format: "%05d.json", chunks.count))["chunk"] as? [String: Any]))
        }
        return (chunks, true)
    }

    static func frameHashes(_ file: String, filter: String? = nil, swsFlags: String? = nil) throws -> [String] {
        var args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", file, "-map", "0:v:0"]
        if let swsFlags { args += ["-sws_flags", swsFlags] }
        if let filter { args += ["-vf", filter] }
        args += ["-f", "framemd5", "-"]
        let r = try run("ffmpeg", args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
            $0.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Kills a running job at once, like a power cut: the coordinator `p` with SIGKILL, then every worker that
    /// registered itself in TMP/workers; waits until the coordinator is reaped and the kills have landed.
    static func killJob(_ p: Process, tmp: String) {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp + "/workers")) ?? [] where name.hasSuffix(".json") {
            if let d = FileManager.default.contents(atPath: tmp + "/workers/" + name),
               let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any], let pid = o["pid"] as? Int {
                kill(pid_t(pid), SIGKILL)
            }
        }
        usleep(200_000)
    }

    /// MD5 of a file's bytes, by md5sum (an independent tool).
    static func md5(_ file: String) throws -> String {
        let r = try run("md5sum", [file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return String(r.stdout.prefix(32))
    }

    /// Presentation times (seconds) of every video frame, as ffprobe reads them.
    static func frameTimes(_ file: String) throws -> [Double] {
        let r = try run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "csv=p=0", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").compactMap { Double($0.split(separator: ",").first.map(String.init) ?? "") }
    }

    /// One ffprobe stream field of the first video stream.
    static func videoField(_ file: String, _ field: String) throws -> String {
        let r = try run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=\(field)", "-of", "default=nw=1:nk=1", file])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Decoded frames as small grey thumbnails (w×h bytes each), for per-frame similarity checks.
    static func thumbnails(_ file: String, width: Int = 64, height: Int = 48) throws -> [[UInt8]] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("thumbs-\(UUID().uuidString).gray").path
        defer { unlink(out) }
        try ffmpeg(["-i", file, "-map", "0:v:0", "-vf", "scale=\(width):\(height):flags=area,format=gray", "-f", "rawvideo", out])
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let n = width * height
        return stride(from: 0, to: data.count - n + 1, by: n).map { [UInt8](data[$0..<($0 + n)]) }
    }
}

/// Test clips made from ffmpeg's lavfi generators, with shots at known frames. Made once per test run.
enum Clips {
    static let dir: String = {
        let d = ProcessInfo.processInfo.environment["ENCODA_TEST_MEDIA"] ?? (NSTemporaryDirectory() + "encoda-test-media-v2")
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    /// Segments: (lavfi source, frames). Each segment is one shot; cuts are at the segment starts.
    static let cutSegments: [(String, Int)] = [
        ("testsrc2=s=320x240:r=25", 40),
        ("mandelbrot=s=320x240:r=25", 30),
        ("smptehdbars=s=320x240:r=25,noise=alls=6:allf=t", 35),
        ("life=s=160x120:r=25:seed=7:mold=10:ratio=0.3:life_color=#00ff80:death_color=#c83232,scale=320:240:flags=neighbor", 110),
        ("rgbtestsrc=s=320x240:r=25,hue=H=2*PI*t", 35),
    ]
    static var knownCuts: [Int] {
        var cuts: [Int] = []
        var start = 0
        for (i, s) in cutSegments.enumerated() { if i > 0 { cuts.append(start) }; start += s.1 }
        return cuts
    }
    static var cutFrames: Int { cutSegments.reduce(0) { $0 + $1.1 } }

    private static let lock = NSLock()

    private static func make(_ name: String, _ build: (String) throws -> Void) throws -> String {
        lock.lock(); defer { lock.unlock() }
        let path = dir + "/" + name
        if FileManager.default.fileExists(atPath: path) { return path }
        let temp = dir + "/.tmp-" + name
        try build(temp)
        try FileManager.default.moveItem(atPath: temp, toPath: path)
        return path
    }

    private static func concat(_ segs: [(String, Int)], _ out: String, extra: [String] = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]) throws {
        var args: [String] = []
        var fc = ""
        for (i, s) in segs.enumerated() {
            args += ["-f", "lavfi", "-i", s.0]
            fc += "[\(i):v]trim=end_frame=\(s.1),setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v\(i)];"
        }
        fc += segs.indices.map { "[v\($0)]" }.joined() + "concat=n=\(segs.count):v=1:a=0[out]"
        try Tool.ffmpeg(args + ["-filter_complex", fc, "-map", "[out]"] + extra + ["-f", out.hasSuffix("mkv") ? "matroska" : "mp4", out])
    }

    /// 320x240, 25 fps, 250 frames, H.264 in MP4, cuts at `knownCuts`; the 110-frame shot is longer than 4 s.
    static func cuts() throws -> String { try make("cuts.mp4") { try concat(cutSegments, $0) } }

    /// Four shots in which every frame differs visibly from its neighbours (no noise-only or hue-only motion,
    /// which luma comparisons cannot tell apart): for checking that lossy output frames sit in place. 220 frames.
    static func moving() throws -> String {
        try make("moving.mp4") {
            try concat([cutSegments[0], cutSegments[1], cutSegments[3],
                        ("cellauto=s=320x240:r=25:rule=110:random_fill_ratio=0.5:random_seed=3", 40)], $0)
        }
    }

    /// A single moving shot, 100 frames.
    static func singleShot() throws -> String { try make("single.mp4") { try concat([("testsrc2=s=320x240:r=25", 100)], $0) } }

    /// Variable frame rate: every fourth frame (after the first) dropped, so frame durations alternate
    /// between 40 and 80 ms; in Matroska.
    static func vfr() throws -> String {
        try make("vfr.mkv") { out in
            try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "90",
                             "-vf", "select='not(eq(mod(n\\,4)\\,1))+eq(n\\,0)'", "-fps_mode", "passthrough",
                             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-f", "matroska", out])
        }
    }

    /// The cut clip encoded with one keyframe only, at frame 0 (no scene-cut keyframes, like a fixed-GOP camera or
    /// broadcast file): every chunk but the first starts on a frame that only decoding from frame 0 reaches.
    static func oneKeyframe() throws -> String {
        try make("one-keyframe.mp4") {
            try concat(cutSegments, $0, extra: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                                                "-x264-params", "keyint=1000:min-keyint=1000:scenecut=0"])
        }
    }

    /// A longer clip for the resume test: the cut clip twice (500 frames, 10 shots).
    static func long() throws -> String { try make("long.mp4") { try concat(cutSegments + cutSegments, $0) } }
}

/// A scratch folder per test, removed afterwards.
final class Scratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "encoda-e2e-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Whether a built binary is older than the sources it is built from.
enum BuildFreshness {
    /// The first source file (under Sources/, or Package.swift) modified after `binary`, relative to `root`; nil
    /// when the binary is at least as new as all of them.
    static func newerSource(than binary: String, root: URL) -> String? {
        func mtime(_ path: String) -> timespec? {
            var st = stat()
            return stat(path, &st) == 0 ? st.st_mtim : nil
        }
        func later(_ a: timespec, _ b: timespec) -> Bool { (a.tv_sec, a.tv_nsec) > (b.tv_sec, b.tv_nsec) }
        guard let built = mtime(binary) else { return nil }
        var names = ["Package.swift"]
        if let walk = FileManager.default.enumerator(atPath: root.appendingPathComponent("Sources").path) {
            for case let name as String in walk where [".swift", ".h", ".c", ".modulemap"].contains(where: name.hasSuffix) {
                names.append("Sources/" + name)
            }
        }
        return names.sorted().first { name in mtime(root.appendingPathComponent(name).path).map { later($0, built) } ?? false }
    }
}

/// A process running in the background with its stdout and stderr in one file.
final class Background {
    let process = Process()
    let logPath: String
    init(_ exe: String, _ args: [String], log: String, environment: [String: String] = [:]) throws {
        logPath = log
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = h
        process.standardError = h
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    func wait() -> Int32 { process.waitUntilExit(); return process.terminationStatus }
    func stop() { if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() } }
}
