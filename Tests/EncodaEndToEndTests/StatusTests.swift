import Foundation
import XCTest

/// `encoda status --json` in every state a job can be in, each report checked against docs/status.schema.json;
/// status only reads (a read-only mount's listing is unchanged); the progress display ends at 100 % with a summary
/// whose size is OUTPUT's.
final class StatusTests: XCTestCase {

    // MARK: states of a live job, then killed

    /// A real coordinator stopped (SIGSTOP) during its scene pass, then during the encode with a worker inside a
    /// chunk, then killed: analysing, encoding (frames inside the running chunk counted), the same on a read-only
    /// mount without a change to TMP, interrupted.
    func testStatusWhileAnalysingEncodingAndAfterTheCoordinatorIsKilled() throws {
        let s = Scratch()
        let clip = try Self.longClip()
        let tmp = s.file("tmp")
        // The single pass: its analysis lasts the whole decode of INPUT before job.json. With the plan streaming (the
        // default) job.json follows the packet index within moments, too soon to be caught reliably (StreamingPlanTests
        // covers status while a plan streams).
        var job = try Self.startCoordinator([clip, s.file("out.mkv"), tmp, "--encoder", "av1", "--preset", "5",
                                            "--max-scene-length", "2", "--workers", "1", "--threads", "1", "--no-segmented-analysis"])
        defer { Self.killTree(job) }

        // Analysing: stop the coordinator as soon as its record says so; if it moved on before the stop landed,
        // start over (nothing else about the job is asserted on such a round).
        var analysed: [String: Any]? = nil
        for _ in 0..<5 {
            try Self.waitUntil("the coordinator's record", 120) { FileManager.default.fileExists(atPath: tmp + "/coordinator.json") }
            kill(job.processIdentifier, SIGSTOP)
            let phase = (try? Self.jsonFile(tmp + "/coordinator.json"))?["phase"] as? String
            if phase == "analysing" && !FileManager.default.fileExists(atPath: tmp + "/job.json") {
                analysed = try Self.status(tmp)
                kill(job.processIdentifier, SIGCONT)
                break
            }
            Self.killTree(job)
            try FileManager.default.removeItem(atPath: tmp)
            job = try Self.startCoordinator(job.arguments!)
        }
        let a = try XCTUnwrap(analysed, "never caught the coordinator in its scene pass")
        XCTAssertEqual(a["state"] as? String, "analysing")
        XCTAssertEqual(a["input"] as? String, clip)
        XCTAssertEqual(a["output"] as? String, s.file("out.mkv"))
        XCTAssertNil(a["jobID"], "no plan yet")
        XCTAssertEqual((a["settings"] as? [String: Any])?["encoder"] as? String, "av1")
        XCTAssertEqual((a["coordinator"] as? [String: Any])?["alive"] as? Bool, true)

        // Encoding: stop the coordinator and its worker while a chunk is under way with frames out of the encoder.
        var encoding: [String: Any]? = nil
        for _ in 0..<20 {
            try Self.waitUntil("a worker inside a chunk", 300) { Self.workerInsideAChunk(tmp) }
            Self.signalTree(job, SIGSTOP)
            let st = try Self.status(tmp)
            let running = st["running"] as? [[String: Any]] ?? []
            if running.contains(where: { ($0["framesEncoded"] as? Int ?? 0) > 0 }) { encoding = st; break }
            Self.signalTree(job, SIGCONT) // the chunk was published between the look and the stop: look again
        }
        let e = try XCTUnwrap(encoding, "never caught a worker inside a chunk")
        XCTAssertEqual(e["state"] as? String, "encoding")
        // While the plan streams, the chunks planned so far (the job's frames are all of INPUT's all the same).
        let (planned, streaming) = try Tool.plannedChunks(tmp)
        let chunkFrames = planned.map { c -> Int in
            let r = c["range"] as! [String: Any]
            return (r["end"] as! Int) - (r["start"] as! Int)
        }
        let done = e["done"] as! [Int]
        let running = e["running"] as! [[String: Any]]
        let inChunks = running.reduce(0) { $0 + ($1["framesEncoded"] as? Int ?? 0) }
        XCTAssertGreaterThan(inChunks, 0)
        XCTAssertEqual(e["framesDone"] as? Int, done.reduce(0) { $0 + chunkFrames[$1] } + inChunks,
                       "frames done = frames of done chunks + frames encoded so far in the running one")
        XCTAssertEqual(e["frames"] as? Int, streaming ? try Self.jsonFile(tmp + "/job.json")["frameCount"] as? Int : chunkFrames.reduce(0, +))
        let workers = e["workers"] as! [[String: Any]]
        XCTAssertEqual(workers.count, 1, "one live worker: \(workers)")
        XCTAssertEqual(workers.first?["chunk"] as? Int, running.first?["chunk"] as? Int)
        XCTAssertEqual(workers.first?["framesEncoded"] as? Int, inChunks)

        // The same job through a read-only mount: the same answer, and not one name, size or time in TMP changed.
        let before = try Self.listing(tmp)
        let ro = s.file("ro")
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        try Tool.mustRun("/usr/bin/mount", ["--bind", tmp, ro])
        defer { _ = try? Tool.run("/usr/bin/umount", [ro]) }
        try Tool.mustRun("/usr/bin/mount", ["-o", "remount,ro,bind", ro])
        let r = try Self.status(ro)
        XCTAssertEqual(r["state"] as? String, "encoding")
        XCTAssertEqual(r["clock"] as? String, "local", "a read-only TMP cannot hold a clock probe")
        XCTAssertEqual(r["framesDone"] as? Int, e["framesDone"] as? Int)
        XCTAssertEqual(r["done"] as? [Int], done)
        XCTAssertEqual(try Self.listing(tmp), before, "status changed TMP")

        // Killed: the coordinator's process is provably gone (same machine), so the job is interrupted.
        kill(job.processIdentifier, SIGKILL)
        job.waitUntilExit()
        let k = try Self.status(tmp)
        XCTAssertEqual(k["state"] as? String, "interrupted")
        XCTAssertEqual((k["coordinator"] as? [String: Any])?["alive"] as? Bool, false)
        XCTAssertEqual((k["coordinator"] as? [String: Any])?["phase"] as? String, "encoding")
        XCTAssertNotNil(k["error"])
    }

    // MARK: ended jobs

    /// A finished job: state finished with OUTPUT's size; the plain progress lines end at 100 % and the summary
    /// names the frames and OUTPUT's size. OUTPUT removed afterwards: no longer finished.
    func testStatusOfAFinishedJobAndTheProgressItPrinted() throws {
        let s = Scratch()
        let out = s.file("out.mkv")
        let tmp = s.file("tmp")
        let r = try Tool.mustRun(Tool.encoda, [try Clips.cuts(), out, tmp, "--encoder", "h264", "--preset", "ultrafast",
                                               "--max-scene-length", "2", "--workers", "2"])
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: out)[.size] as? Int)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let progress = lines.filter { $0.contains(" frames (") && $0.contains(" fps") }
        XCTAssertEqual(progress.last?.hasPrefix("encoda: \(Clips.cutFrames)/\(Clips.cutFrames) frames (100%)"), true, r.stderr)
        let summary = try XCTUnwrap(lines.last { $0.hasPrefix("encoda: wrote ") }, r.stderr)
        XCTAssertTrue(summary.contains(": \(Clips.cutFrames) frames, "), summary)
        XCTAssertTrue(summary.contains("(\(size) bytes)"), "summary size must be OUTPUT's \(size) bytes: \(summary)")
        XCTAssertTrue(summary.contains(" kb/s") && summary.contains(" fps average"), summary)

        let st = try Self.status(tmp)
        XCTAssertEqual(st["state"] as? String, "finished")
        XCTAssertEqual(st["outputBytes"] as? Int, size)
        XCTAssertEqual(st["outputExists"] as? Bool, true)
        XCTAssertEqual(st["framesDone"] as? Int, Clips.cutFrames)
        XCTAssertEqual(st["percentDone"] as? Double, 100)
        XCTAssertEqual((st["settings"] as? [String: Any])?["pixelFormat"] as? String, "yuv420p")

        try FileManager.default.removeItem(atPath: out)
        let gone = try Self.status(tmp)
        XCTAssertEqual(gone["state"] as? String, "failed", "OUTPUT is not written any more")
        XCTAssertEqual(gone["outputExists"] as? Bool, false)
    }

    /// A chunk that always fails with one attempt allowed: the coordinator fails and status says so, with the
    /// chunk quarantined by its integer id. A record claiming a coordinator still encoding whose process is gone
    /// changes nothing: every chunk is finished with one quarantined. On a full disk status still answers and
    /// changes nothing. A TMP with no job is an error (74).
    func testStatusOfAFailedJobAndOfAFolderWithoutAJob() throws {
        let s = Scratch()
        let tmp = s.file("tmp")
        let r = try Tool.run(Tool.encoda, [try Clips.cuts(), s.file("out.mkv"), tmp, "--encoder", "h264", "--preset", "ultrafast",
                                           "--max-scene-length", "2", "--workers", "2", "--max-attempts", "1", "--quiet"],
                             environment: ["ENCODA_TEST_FAIL_CHUNKS": "1"])
        XCTAssertEqual(r.status, 70, r.stderr)
        let st = try Self.status(tmp)
        XCTAssertEqual(st["state"] as? String, "failed")
        XCTAssertEqual((st["quarantined"] as? [[String: Any]])?.compactMap { $0["chunk"] as? Int }, [1])
        XCTAssertTrue((st["error"] as? String)?.contains("1 chunk (00001) failed") == true, "\(st["error"] ?? "")")
        XCTAssertFalse((st["done"] as! [Int]).contains(1))
        XCTAssertEqual(st["outputExists"] as? Bool, false)

        // The same TMP on a full disk: answered by this machine's clock, nothing in TMP touched.
        let full = s.file("full")
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        try Tool.mustRun("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", full])
        defer { _ = try? Tool.run("/usr/bin/umount", [full]) }
        try Tool.mustRun("/usr/bin/cp", ["-a", tmp, full + "/tmp"])
        let filler = try Tool.run("/usr/bin/dd", ["if=/dev/zero", "of=" + full + "/tmp/filler", "bs=1M", "count=16"])
        XCTAssertTrue(filler.stderr.contains("No space left"), filler.stderr)
        let before = try Self.listing(full + "/tmp")
        let onFull = try Self.status(full + "/tmp")
        XCTAssertEqual(onFull["state"] as? String, "failed")
        XCTAssertEqual(onFull["clock"] as? String, "local")
        XCTAssertEqual(try Self.listing(full + "/tmp"), before, "status changed a full TMP")

        var record = try Self.jsonFile(tmp + "/coordinator.json")
        record["phase"] = "encoding"
        record["pid"] = Int(r.pid)
        record.removeValue(forKey: "error")
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: tmp + "/coordinator.json"))
        XCTAssertEqual(try Self.status(tmp)["state"] as? String, "failed")

        try FileManager.default.createDirectory(atPath: s.file("empty"), withIntermediateDirectories: true)
        for dir in [s.file("empty"), s.file("missing")] {
            let e = try Tool.encoda(["status", dir, "--json"])
            XCTAssertEqual(e.status, 74, e.stderr)
            XCTAssertTrue(e.stderr.contains("holds no job") || e.stderr.contains("does not exist"), e.stderr)
            XCTAssertEqual(e.stdout, "")
        }
    }

    /// Result records that do not check out (one malformed, one whose chunk file is gone) are reported by status,
    /// in text and JSON, and left where they are: every name, inode, size, mode and time in TMP is the same after
    /// status as before, except TMP/clock's own times (the server-clock probe is written and removed there).
    /// Moving such records aside stays with the workers and the coordinator.
    func testStatusReportsInvalidRecordsAndLeavesThemInPlace() throws {
        let s = Scratch()
        let clip = s.file("clip.mp4"), tmp = s.file("tmp")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25", "-frames:v", "75", "-c:v", "libx264", "-preset", "ultrafast",
                         "-pix_fmt", "yuv420p", clip])
        try Tool.mustRun(Tool.encoda, [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--preset", "ultrafast",
                                       "--max-scene-length", "1", "--keep", "--quiet"])
        let results = tmp + "/results"
        XCTAssertGreaterThanOrEqual(try FileManager.default.contentsOfDirectory(atPath: results).count, 2)
        try Data("{\"formatVersion\":".utf8).write(to: URL(fileURLWithPath: results + "/00000.json"))
        let record = try Self.jsonFile(results + "/00001.json")
        let chunkFile = try XCTUnwrap(record["file"] as? String)
        try FileManager.default.removeItem(atPath: tmp + "/chunks/" + chunkFile)

        let before = try Self.inodeListing(tmp)
        let st = try Self.status(tmp)
        XCTAssertEqual(try Self.inodeListing(tmp), before, "status --json changed TMP")
        let invalid = try XCTUnwrap(st["invalid"] as? [[String: Any]], "\(st)")
        XCTAssertEqual(invalid.compactMap { $0["chunk"] as? Int }, [0, 1])
        XCTAssertEqual(invalid.compactMap { $0["record"] as? String }, ["results/00000.json", "results/00001.json"])
        XCTAssertTrue((invalid.last?["error"] as? String)?.contains("is missing") == true, "\(invalid)")
        let text = try Tool.mustRun(Tool.encoda, ["status", tmp]).stdout
        XCTAssertTrue(text.contains("  invalid     00000: results/00000.json does not check out ("), text)
        XCTAssertTrue(text.contains("  invalid     00001: results/00001.json does not check out ("), text)
        XCTAssertEqual(try Self.inodeListing(tmp), before, "status changed TMP")
        XCTAssertTrue(FileManager.default.fileExists(atPath: results + "/00000.json"))
    }

    // MARK: helpers

    /// Names, inodes, sizes, modes and modification and change times of everything under `dir`, except the times
    /// of TMP/clock itself, where status writes and removes its server-clock probe.
    static func inodeListing(_ dir: String) throws -> [String] {
        try Tool.mustRun("/usr/bin/find", [dir, "-printf", "%P %i %s %m %T@ %C@\n"]).stdout.split(separator: "\n")
            .map { $0.hasPrefix("clock ") ? String($0.split(separator: " ").prefix(4).joined(separator: " ")) : String($0) }.sorted()
    }

    /// 1280x720, 25 fps, 600 frames: a scene pass long enough to be caught, chunks long enough to be caught inside.
    static func longClip() throws -> String {
        let path = Clips.dir + "/status-720p.mp4"
        if FileManager.default.fileExists(atPath: path) { return path }
        let temp = Clips.dir + "/.tmp-status-720p-\(getpid()).mp4"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25", "-frames:v", "600", "-c:v", "libx264", "-preset", "ultrafast",
                         "-pix_fmt", "yuv420p", temp])
        try FileManager.default.moveItem(atPath: temp, toPath: path)
        return path
    }

    static func startCoordinator(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Runs `status --json`, checks it against docs/status.schema.json and returns it.
    static func status(_ tmp: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try Tool.mustRun(Tool.encoda, ["status", tmp, "--json"], file: file, line: line)
        let value = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: Tool.packageRoot.appendingPathComponent("docs/status.schema.json"))) as! [String: Any]
        let problems = SchemaCheck(root: schema).check(value, against: schema, at: "$")
        XCTAssertEqual(problems, [], "status --json does not match docs/status.schema.json: \(r.stdout)", file: file, line: line)
        return value as! [String: Any]
    }

    static func jsonFile(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// A worker record naming a chunk with frames out of the encoder, and that chunk not published yet.
    static func workerInsideAChunk(_ tmp: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp + "/workers")) ?? []
        for n in names where n.hasSuffix(".json") {
            guard let w = try? jsonFile(tmp + "/workers/" + n), let c = w["chunk"] as? Int, (w["framesEncoded"] as? Int ?? 0) > 0 else { continue }
            if !FileManager.default.fileExists(atPath: tmp + String(format: "/results/%05d.json", c)) { return true }
        }
        return false
    }

    /// Polls `condition` every 50 ms; fails (throws) only if it never holds within `limit` seconds, a bound far
    /// above what the condition needs, so that a broken build cannot hang the suite.
    static func waitUntil(_ what: String, _ limit: Double, _ condition: () -> Bool) throws {
        let end = Date().addingTimeInterval(limit)
        while !condition() {
            if Date() > end { throw NSError(domain: "StatusTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "gave up waiting for \(what)"]) }
            usleep(50_000)
        }
    }

    /// Names, sizes, modes and modification times of everything under `dir`.
    static func listing(_ dir: String) throws -> String {
        try Tool.mustRun("/usr/bin/find", [dir, "-printf", "%P %s %m %T@\n"]).stdout
    }

    /// `pid` and its descendants, from /proc (the coordinator's workers run in their own process groups).
    static func tree(_ pid: Int32) -> [Int32] {
        var parent: [Int32: Int32] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let p = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, let pp = Int32(fields[1]) { parent[p] = pp }
        }
        var found = [pid]
        var i = 0
        while i < found.count {
            let p = found[i]
            found += parent.filter { $0.value == p }.map(\.key)
            i += 1
        }
        return found
    }

    static func signalTree(_ p: Process, _ sig: Int32) {
        for pid in tree(p.processIdentifier) { kill(pid, sig) }
    }

    /// Kills the coordinator and every process it started, and reaps the coordinator.
    static func killTree(_ p: Process) {
        let all = tree(p.processIdentifier)
        for pid in all { kill(pid, SIGKILL) }
        if p.isRunning || all.contains(p.processIdentifier) { p.waitUntilExit() }
        // Workers are reaped by init once their parent is gone; wait until they are.
        for pid in all where pid != p.processIdentifier {
            var n = 0
            while kill(pid, 0) == 0 && n < 200 { usleep(10_000); n += 1 }
        }
    }
}

/// The part of JSON Schema (2020-12) that docs/status.schema.json uses: type, const, enum, properties, required,
/// additionalProperties false, items, $ref to #/$defs/NAME, minimum and maximum. A keyword it does not know is a
/// problem too, so the schema cannot grow past what is checked here.
struct SchemaCheck {
    let root: [String: Any]
    static let known: Set<String> = ["$schema", "$id", "title", "description", "type", "const", "enum", "properties", "required",
                                     "additionalProperties", "items", "$ref", "$defs", "minimum", "maximum"]

    func check(_ value: Any, against schema: [String: Any], at path: String) -> [String] {
        var problems: [String] = []
        for k in schema.keys where !Self.known.contains(k) { problems.append("\(path): schema keyword \(k) is not checked") }
        if let ref = schema["$ref"] as? String {
            guard ref.hasPrefix("#/$defs/"), let defs = root["$defs"] as? [String: Any],
                  let target = defs[String(ref.dropFirst(8))] as? [String: Any] else { return problems + ["\(path): bad $ref \(ref)"] }
            return problems + check(value, against: target, at: path)
        }
        if let type = schema["type"] as? String, !Self.has(value, type: type) { problems.append("\(path): not \(type): \(value)") }
        if let c = schema["const"], !Self.equal(c, value) { problems.append("\(path): not \(c)") }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) { problems.append("\(path): \(value) not in \(options)") }
        if let n = Self.number(value) {
            if let lo = schema["minimum"].flatMap(Self.number), n < lo { problems.append("\(path): \(n) < \(lo)") }
            if let hi = schema["maximum"].flatMap(Self.number), n > hi { problems.append("\(path): \(n) > \(hi)") }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(path): missing \(key)") }
            for (key, v) in object {
                if let sub = properties[key] as? [String: Any] { problems += check(v, against: sub, at: path + "." + key) }
                else if (schema["additionalProperties"] as? Bool) == false { problems.append("\(path): undocumented field \(key)") }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, v) in array.enumerated() { problems += check(v, against: items, at: "\(path)[\(i)]") }
        }
        return problems
    }

    /// JSONSerialization gives booleans as NSNumber too; their own class tells them apart from 0 and 1.
    static func isBool(_ v: Any) -> Bool { v is NSNumber && "\(type(of: v))".contains("Boolean") }
    static func number(_ v: Any) -> Double? { isBool(v) ? nil : (v as? NSNumber)?.doubleValue }

    static func has(_ v: Any, type: String) -> Bool {
        switch type {
        case "object": return v is [String: Any]
        case "array": return v is [Any]
        case "string": return v is String
        case "boolean": return isBool(v)
        case "number": return number(v) != nil
        case "integer": return number(v).map { $0 == $0.rounded() } ?? false
        case "null": return v is NSNull
        default: return false
        }
    }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        if let x = a as? String, let y = b as? String { return x == y }
        if let x = number(a), let y = number(b) { return x == y }
        return false
    }
}
