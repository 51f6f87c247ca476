import Foundation
import XCTest

/// `encoda serve` on loopback: jobs submitted over the API end frame-exact, the token guards every route, paths
/// stay inside ROOT, a cancel leaves nothing behind, a killed server resumes its jobs, and the implementation
/// conforms to docs/openapi.json (schemathesis).
final class ServerTests: XCTestCase {

    /// ROOT with the cut clip copied in as media/in.mp4.
    private func makeRoot(_ s: Scratch, clip: String) throws -> String {
        let root = s.file("root")
        try FileManager.default.createDirectory(atPath: root + "/media", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: clip, toPath: root + "/media/in.mp4")
        return root
    }

    private func jobCount(_ root: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/jobs")) ?? []).filter { !$0.hasPrefix(".") }.count
    }

    func testLosslessJobOverTheAPIIsFrameExactAndEveryRouteNeedsTheToken() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let root = try makeRoot(s, clip: clip)
        let server = try ServerProcess(root: root, ["--max-jobs", "1"])
        defer { server.stop() }
        XCTAssertTrue(server.stderr.contains("made the API token in \(root)/.encoda-token"), server.stderr)
        var st = stat()
        XCTAssertEqual(stat(root + "/.encoda-token", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "the generated token file must be private")

        // No token, a wrong one, a token in the URL: 401 on every route, and no job made.
        for (method, path) in [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/jobs/x"), ("DELETE", "/api/v1/jobs/x"),
                               ("POST", "/api/v1/jobs/x/retry"), ("GET", "/api/v1/workers"), ("GET", "/api/v1/events"),
                               ("GET", "/api/v1/openapi.json")] {
            let body = method == "POST" ? #"{"input":"media/in.mp4","output":"media/x.mkv"}"# : nil
            XCTAssertEqual(try server.call(method, path, body: body, signedOut: true).status, 401, "\(method) \(path) without a token")
            // One hex digit changed (the last one, to another digit: the token may already end in "0").
            let wrong = String(server.token.dropLast()) + (server.token.hasSuffix("0") ? "1" : "0")
            XCTAssertEqual(try server.call(method, path, body: body, bearer: wrong).status, 401, "\(method) \(path), wrong token")
            XCTAssertEqual(try server.call(method, path + "?token=" + server.token, body: body, signedOut: true).status, 401, "\(method) \(path), token in the URL")
        }
        XCTAssertEqual(jobCount(root), 0)

        // The browser's way in: a session cookie, HttpOnly and SameSite=Strict, accepted instead of the header.
        XCTAssertEqual(try server.call("POST", "/api/v1/session", body: #"{"token":"wrong-token-wrong-token"}"#, signedOut: true).status, 401)
        let signIn = try server.call("POST", "/api/v1/session", body: "{\"token\":\"\(server.token)\"}", signedOut: true)
        XCTAssertEqual(signIn.status, 200, signIn.body)
        let setCookie = signIn.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }.map(String.init) ?? ""
        XCTAssertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), setCookie)
        let cookie = setCookie.dropFirst("set-cookie:".count).split(separator: ";")[0].trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs", signedOut: true, headers: ["Cookie: \(cookie)"]).status, 200)
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs", signedOut: true, headers: ["Cookie: encoda_session=forged"]).status, 401)

        // Events, listened to from before the submission until the job has finished.
        let events = Process()
        let eventsFile = s.file("events.txt")
        _ = FileManager.default.createFile(atPath: eventsFile, contents: nil)
        events.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        events.arguments = ["-s", "-N", "--max-time", "300", "-H", "Authorization: Bearer \(server.token)", server.base + "/api/v1/events"]
        events.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: eventsFile))
        try events.run()
        defer { if events.isRunning { events.terminate() } }
        for _ in 0..<100 where ((try? String(contentsOfFile: eventsFile, encoding: .utf8)) ?? "").isEmpty { usleep(50_000) }

        let submit = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv", "priority": 5,
             "settings": {"encoder": "h264", "lossless": true, "preset": "ultrafast", "maxSceneLength": 2, "keep": true}}
            """)
        XCTAssertEqual(submit.status, 201, submit.body)
        let id = try XCTUnwrap(submit.object["id"] as? String)
        XCTAssertEqual(submit.object["output"] as? String, root + "/media/out.mkv")
        XCTAssertEqual(Array((submit.object["command"] as? [String] ?? []).suffix(5)),
                       ["--encoder=h264", "--keep", "--lossless", "--max-scene-length=2", "--preset=ultrafast"])
        let done = try server.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(done["state"] as? String, "finished", "\(done)")
        XCTAssertEqual(done["frames"] as? Int, Clips.cutFrames)
        XCTAssertEqual(done["framesDone"] as? Int, Clips.cutFrames)
        XCTAssertGreaterThan(done["chunks"] as? Int ?? 0, 3, "the job was split")
        XCTAssertEqual(done["outputExists"] as? Bool, true)

        let out = root + "/media/out.mkv"
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip), "every frame decodes to the source frame at its position")
        XCTAssertEqual(try Tool.frameTimes(out), try Tool.frameTimes(clip), "timestamps")
        // The job folder is an ordinary TMP: the CLI's status reads it and agrees.
        let status = try Tool.mustRun(Tool.encoda, ["status", root + "/jobs/" + id, "--json"])
        XCTAssertTrue(status.stdout.contains(#""state":"finished""#), status.stdout)

        let list = try server.call("GET", "/api/v1/jobs")
        XCTAssertEqual((list.json as? [[String: Any]])?.compactMap { $0["id"] as? String }, [id])

        // The event stream told of each state the job went through, ending in finished.
        for _ in 0..<100 where !(((try? String(contentsOfFile: eventsFile, encoding: .utf8)) ?? "").contains(#""state":"finished""#)) { usleep(50_000) }
        events.terminate()
        events.waitUntilExit()
        let streamed = try String(contentsOfFile: eventsFile, encoding: .utf8)
        let states = streamed.split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8))) as? [String: Any]
        }.filter { $0["job"] as? String == id && $0["type"] as? String == "state" }.compactMap { $0["state"] as? String }
        XCTAssertEqual(states.last, "finished", streamed)
        XCTAssertTrue(states.contains("encoding"), streamed)

        // A profile is handed to the job as --profile NAME (the profiles themselves are the encode command's).
        let profiled = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "media/proxy.mp4", "profile": "edit-proxy"}"#)
        XCTAssertEqual(profiled.status, 201, profiled.body)
        XCTAssertEqual(Array((profiled.object["command"] as? [String] ?? []).suffix(2)), ["--profile", "edit-proxy"])
        if let pid = profiled.object["id"] as? String { _ = try server.call("DELETE", "/api/v1/jobs/\(pid)") }
    }

    func testPathsOutsideRootAndBadRequestsAreRefusedWithoutAJob() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.singleShot())
        let outside = s.file("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/media/passwd.mp4", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: root + "/media/out-link", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/media/result.mkv", withDestinationPath: outside + "/result.mkv")
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/media/exists.mkv"))
        let server = try ServerProcess(root: root, ["--workers", "0"])
        defer { server.stop() }

        let cases: [(String, Int, String)] = [
            (#"{"input": "../../etc/passwd", "output": "media/a.mkv"}"#, 403, "input"),
            (#"{"input": "/etc/passwd", "output": "media/a.mkv"}"#, 403, "input"),
            (#"{"input": "media/passwd.mp4", "output": "media/a.mkv"}"#, 403, "input"),
            (#"{"input": "media/in.mp4", "output": "../a.mkv"}"#, 403, "output"),
            (#"{"input": "media/in.mp4", "output": "media/out-link/a.mkv"}"#, 403, "output"),
            (#"{"input": "media/in.mp4", "output": "media/result.mkv"}"#, 403, "output"),
            (#"{"input": "media/in.mp4", "output": "jobs/a.mkv"}"#, 403, "output"),
            (#"{"input": "media/in.mp4", "output": "media/in.mp4"}"#, 409, "output"),
            (#"{"input": "media/in.mp4", "output": "media/exists.mkv"}"#, 409, "output"),
            (#"{"input": "media/missing.mp4", "output": "media/a.mkv"}"#, 422, "input"),
            (#"{"input": "media/in.mp4", "output": "media/a.mkv", "settings": {"crf": 18, "frobnicate": true}}"#, 400, "settings.frobnicate"),
            (#"{"input": "media/in.mp4", "output": "media/a.mkv", "settings": {"lossless": "yes"}}"#, 400, "settings.lossless"),
            (#"{"input": "media/in.mp4", "output": "media/a.mkv", "owner": "me"}"#, 400, "owner"),
            (#"{"input": "media/in.mp4"}"#, 400, "output"),
            (#"{"input": "media/in.mp4", "output": "#, 400, "body"),
        ]
        for (body, status, field) in cases {
            let r = try server.call("POST", "/api/v1/jobs", body: body)
            XCTAssertEqual(r.status, status, "\(body) → \(r.body)")
            XCTAssertEqual(r.object["field"] as? String, field, body)
            XCTAssertFalse((r.object["error"] as? String ?? "").isEmpty, "a refusal says why: \(r.body)")
        }
        let huge = "{\"input\": \"media/in.mp4\", \"output\": \"media/a.mkv\", \"webhook\": \"http://x/\(String(repeating: "a", count: 100_000))\"}"
        XCTAssertEqual(try server.call("POST", "/api/v1/jobs", body: huge).status, 413)
        XCTAssertEqual(jobCount(root), 0, "a refused request makes no job")
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs").body, "[]")
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/result.mkv"))

        // Two jobs may not write the same OUTPUT.
        let first = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "media/a.mkv"}"#)
        XCTAssertEqual(first.status, 201, first.body)
        let second = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "./media/a.mkv"}"#)
        XCTAssertEqual(second.status, 409, second.body)
        XCTAssertEqual(jobCount(root), 1)
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs/nosuchjob").status, 404)
        if let id = first.object["id"] as? String {
            XCTAssertEqual(try server.call("DELETE", "/api/v1/jobs/\(id)").status, 202)
            try server.waitForJob(id) { $0["state"] as? String == "cancelled" }
        }
    }

    /// Encoder and audio parameters that would make the job read or write a file on the server (wherever it points,
    /// with the server's rights) are refused before any job exists; the file they name is left as it was.
    func testEncoderParametersThatNameFilesAreRefused() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.singleShot())
        let outside = s.file("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let victim = outside + "/victim.txt"
        try Data("untouched\n".utf8).write(to: URL(fileURLWithPath: victim))
        let server = try ServerProcess(root: root, ["--workers", "1"])
        defer { server.stop() }

        let refused: [(settings: String, field: String, key: String)] = [
            (#"{"encoder": "h264", "encoderParams": "dump-yuv=\#(victim)"}"#, "settings.encoderParams", "dump-yuv"),
            (#"{"encoder": "h264", "encoderParams": "--dump-yuv \#(victim)"}"#, "settings.encoderParams", "dump-yuv"),
            (#"{"encoder": "h264", "encoderParams": "bframes=3:dump_yuv=\#(victim)"}"#, "settings.encoderParams", "dump_yuv"),
            (#"{"encoder": "h264", "encoderParams": "pass=1:stats=\#(victim)"}"#, "settings.encoderParams", "pass"),
            (#"{"encoder": "h264", "encoderParams": "cqmfile=\#(victim)"}"#, "settings.encoderParams", "cqmfile"),
            (#"{"encoder": "h264", "encoderParams": "opencl=1:opencl-clbin=\#(victim)"}"#, "settings.encoderParams", "opencl"),
            (#"{"encoder": "av1", "encoderParams": "fgs-table=\#(victim)"}"#, "settings.encoderParams", "fgs-table"),
            (#"{"mux": true, "audioCodec": "opus", "audioParams": "passlogfile=\#(victim)"}"#, "settings.audioParams", "passlogfile"),
        ]
        for (settings, field, key) in refused {
            let body = #"{"input": "media/in.mp4", "output": "media/out.mkv", "settings": \#(settings)}"#
            let r = try server.call("POST", "/api/v1/jobs", body: body)
            XCTAssertEqual(r.status, 400, "\(settings) → \(r.body)")
            XCTAssertEqual(r.object["field"] as? String, field, r.body)
            XCTAssertTrue((r.object["error"] as? String ?? "").contains(key), "the refusal names \(key): \(r.body)")
        }
        XCTAssertEqual(jobCount(root), 0, "a refused request makes no job")
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "untouched\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["victim.txt"], "nothing was written beside it")

        // Parameters that name no file still go through, as the command line would take them.
        let fine = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv", "settings": {"encoder": "h264", "preset": "ultrafast", "encoderParams": "bframes=3:no-mbtree"}}
            """)
        XCTAssertEqual(fine.status, 201, fine.body)
        let id = try XCTUnwrap(fine.object["id"] as? String)
        let done = try server.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(done["state"] as? String, "finished", "\(done)")
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "untouched\n")
    }

    /// Options the encode command would refuse are refused before any job exists, with the request field named:
    /// an unknown profile, an encoder that is not one, a value out of range.
    func testOptionsTheEncodeCommandRefusesAreRefusedWithoutAJob() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.singleShot())
        let server = try ServerProcess(root: root, ["--workers", "0"])
        defer { server.stop() }
        let cases: [(String, String, String)] = [
            (#""profile": "no-such-profile""#, "profile", "no-such-profile"),
            (#""settings": {"encoder": "vp9"}"#, "settings.encoder", "vp9"),
            (#""settings": {"encoder": "h264", "preset": "ultrafast", "crf": 99}"#, "settings.crf", "99"),
            (#""settings": {"encoder": "h264", "pixFmt": "yuv999p"}"#, "settings.pixFmt", "yuv999p"),
            (#""settings": {"encoder": "h264", "lossless": true, "crf": 20}"#, "settings.lossless", "exclude"),
            (#""settings": {"audioCodec": "opus"}"#, "settings.audioCodec", "--mux"),
        ]
        for (extra, field, word) in cases {
            let r = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "media/out.mkv", \#(extra)}"#)
            XCTAssertEqual(r.status, 400, "\(extra) → \(r.body)")
            XCTAssertEqual(r.object["field"] as? String, field, r.body)
            let error = r.object["error"] as? String ?? ""
            XCTAssertTrue(error.contains(word) && !error.contains("\n"), "one line naming \(word): \(r.body)")
        }
        XCTAssertEqual(jobCount(root), 0, "a refused request makes no job")
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs").body, "[]")
    }

    /// The rate and quality options reach the job's command as the encode command's options.
    func testRateAndQualitySettingsReachTheCommand() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.singleShot())
        let server = try ServerProcess(root: root, ["--workers", "0"])
        defer { server.stop() }
        let rate = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/rate.mkv",
             "settings": {"encoder": "h264", "bitrate": "500k", "twoPass": true, "maxBitrate": "800k", "bufsize": "1M"}}
            """)
        XCTAssertEqual(rate.status, 201, rate.body)
        XCTAssertEqual(Array((rate.object["command"] as? [String] ?? []).suffix(5)),
                       ["--bitrate=500k", "--bufsize=1M", "--encoder=h264", "--max-bitrate=800k", "--two-pass"])
        let quality = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/quality.mkv",
             "settings": {"targetQuality": 80, "metric": "ssimulacra2", "probes": 3, "crfRange": "20:45", "probeRate": 2, "pool": "p5", "autoGrain": true}}
            """)
        XCTAssertEqual(quality.status, 201, quality.body)
        XCTAssertEqual(Array((quality.object["command"] as? [String] ?? []).suffix(7)),
                       ["--auto-grain", "--crf-range=20:45", "--metric=ssimulacra2", "--pool=p5", "--probe-rate=2", "--probes=3", "--target-quality=80"])
        let grain = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "media/grain.mkv", "settings": {"filmGrain": 8}}"#)
        XCTAssertEqual(grain.status, 201, grain.body)
        XCTAssertEqual((grain.object["command"] as? [String])?.last, "--film-grain=8")
        // Checked as the command line checks them: --two-pass needs --bitrate, --probes needs --target-quality.
        for (settings, field) in [(#"{"twoPass": true}"#, "settings.twoPass"), (#"{"probes": 3}"#, "settings.probes"),
                                  (#"{"bitrate": "fast"}"#, "settings.bitrate")] {
            let r = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "media/x.mkv", "settings": \#(settings)}"#)
            XCTAssertEqual(r.status, 400, "\(settings) → \(r.body)")
            XCTAssertEqual(r.object["field"] as? String, field, r.body)
        }
        for j in (try server.call("GET", "/api/v1/jobs").json as? [[String: Any]]) ?? [] {
            _ = try server.call("DELETE", "/api/v1/jobs/\(j["id"] as? String ?? "")")
        }
    }

    /// An ended job can be purged: its folder under ROOT/jobs and its entry go, INPUT and OUTPUT stay. A job that
    /// may still run cannot be purged.
    func testPurgeRemovesAnEndedJobAndOnlyItsFolder() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.singleShot())
        let server = try ServerProcess(root: root, ["--workers", "1", "--max-jobs", "1"])
        defer { server.stop() }
        let done = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv", "settings": {"encoder": "h264", "lossless": true, "preset": "ultrafast", "keep": true}}
            """)
        XCTAssertEqual(done.status, 201, done.body)
        let id = try XCTUnwrap(done.object["id"] as? String)
        // Queued behind the first (--max-jobs 1) or running: not purged.
        let waiting = try server.call("POST", "/api/v1/jobs", body: #"{"input": "media/in.mp4", "output": "media/second.mkv", "settings": {"encoder": "h264"}}"#)
        let second = try XCTUnwrap(waiting.object["id"] as? String)
        let busy = try server.call("POST", "/api/v1/jobs/\(second)/purge")
        XCTAssertEqual(busy.status, 409, busy.body)
        XCTAssertTrue((busy.object["error"] as? String ?? "").contains("cancel it first"), busy.body)

        let finished = try server.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(finished["state"] as? String, "finished", "\(finished)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/jobs/\(id)/job.json"), "kept with keep")
        let purge = try server.call("POST", "/api/v1/jobs/\(id)/purge")
        XCTAssertEqual(purge.status, 204, purge.body)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/jobs/\(id)"), "the job's folder is gone")
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs/\(id)").status, 404)
        XCTAssertFalse((try server.call("GET", "/api/v1/jobs").json as? [[String: Any]] ?? []).contains { $0["id"] as? String == id })
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/media/out.mkv"), "OUTPUT stays")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/media/in.mp4"), "INPUT stays")
        XCTAssertEqual(try server.call("POST", "/api/v1/jobs/\(id)/purge").status, 404, "purged once")

        // A cancelled job too; and a restarted server does not list a purged one again.
        XCTAssertEqual(try server.call("DELETE", "/api/v1/jobs/\(second)").status, 202)
        try server.waitForJob(second) { $0["state"] as? String == "cancelled" }
        XCTAssertEqual(try server.call("POST", "/api/v1/jobs/\(second)/purge").status, 204)
        XCTAssertEqual(try server.call("GET", "/api/v1/jobs").body, "[]")
        XCTAssertEqual(jobCount(root), 0)
        XCTAssertEqual(try server.call("POST", "/api/v1/jobs/nosuchjob/purge").status, 404)
    }

    func testTokenFileMustBePrivate() throws {
        let s = Scratch()
        let root = s.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let file = s.file("token")
        try Data("0123456789abcdef0123\n".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o644)
        let r = try Tool.run(Tool.encoda, ["serve", root, "--token-file", file, "--listen", "127.0.0.1:0"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("chmod 600"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// A running job is cancelled while its local worker encodes: its state ends cancelled, nothing is at OUTPUT,
    /// and neither the coordinator nor its worker is left.
    func testCancelledJobLeavesNothingAtOutputAndNoProcess() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.long())
        let server = try ServerProcess(root: root, ["--workers", "1"])
        defer { server.stop() }
        let submit = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv", "settings": {"encoder": "av1", "preset": "4", "maxSceneLength": 1, "threads": 1}}
            """)
        XCTAssertEqual(submit.status, 201, submit.body)
        let id = try XCTUnwrap(submit.object["id"] as? String)
        let busy = try server.waitForJob(id) { ($0["workersAlive"] as? Int ?? 0) > 0 && $0["state"] as? String == "encoding" }
        let pids = [(busy["coordinator"] as? [String: Any])?["pid"] as? Int] + (busy["workers"] as? [[String: Any]] ?? []).map { $0["pid"] as? Int }
        XCTAssertEqual(pids.compactMap { $0 }.count, 2, "\(busy)")
        XCTAssertEqual((try server.call("GET", "/api/v1/workers").json as? [[String: Any]])?.first?["job"] as? String, id)

        let cancel = try server.call("DELETE", "/api/v1/jobs/\(id)")
        XCTAssertEqual(cancel.status, 202, cancel.body)
        XCTAssertEqual(cancel.object["cancelRequested"] as? Bool, true)
        let ended = try server.waitForJob(id) { $0["state"] as? String != "encoding" && $0["state"] as? String != "analysing" }
        XCTAssertEqual(ended["state"] as? String, "cancelled", "\(ended)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/media/out.mkv"), "nothing at OUTPUT")
        let partials = (try FileManager.default.contentsOfDirectory(atPath: root + "/media")).filter { $0.contains("partial") }
        XCTAssertEqual(partials, [], "no partial OUTPUT either")
        for pid in pids.compactMap({ $0 }) { XCTAssertFalse(processExists(pid), "process \(pid) of the cancelled job is still there") }
        let left = try Tool.run("pgrep", ["-f", root + "/jobs/" + id])
        XCTAssertEqual(left.stdout, "", "no process of the job is left")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/jobs/\(id)/job.json"), "the job's plan is cleaned away, so remote workers leave it")
        XCTAssertEqual(try server.call("DELETE", "/api/v1/jobs/\(id)").status, 409, "a cancelled job cannot be cancelled again")
    }

    /// A cancel that comes when every chunk is done but the join has not begun: the job ends cancelled, with nothing
    /// at OUTPUT, where a command-line Ctrl-C would still join. The coordinator (only coordinating: `--workers 0`) is
    /// held with SIGSTOP from the moment its plan is whole until this test's own worker has encoded every chunk; the
    /// cancel's SIGTERM waits for it, and it resumes with all chunks done.
    func testCancelWithEveryChunkDoneWritesNoOutput() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.cuts())
        let server = try ServerProcess(root: root, ["--workers", "0"])
        defer { server.stop() }
        let submit = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv", "settings": {"encoder": "h264", "preset": "veryslow", "maxSceneLength": 1, "threads": 1}}
            """)
        XCTAssertEqual(submit.status, 201, submit.body)
        let id = try XCTUnwrap(submit.object["id"] as? String)
        let tmp = root + "/jobs/" + id
        func json(_ path: String) -> [String: Any]? {
            FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        var coordinator = 0
        for _ in 0..<600 where coordinator == 0 { coordinator = json(tmp + "/coordinator.json")?["pid"] as? Int ?? 0; usleep(50_000) }
        XCTAssertGreaterThan(coordinator, 0, "the coordinator started")

        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: Tool.encoda)
        worker.arguments = ["worker", tmp, "--workers", "1", "--threads", "1"]
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }
        // The plan is whole when job.json lists the chunks without planStreaming; then only the encode is left.
        var planned = 0
        for _ in 0..<6000 where planned == 0 {
            if let job = json(tmp + "/job.json"), job["planStreaming"] as? Bool != true { planned = (job["chunks"] as? [Any])?.count ?? 0 }
            if planned == 0 { usleep(20_000) }
        }
        kill(pid_t(coordinator), SIGSTOP)
        defer { kill(pid_t(coordinator), SIGCONT) }
        func results() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/results")) ?? []).filter { $0.hasSuffix(".json") }.count }
        XCTAssertLessThan(results(), planned, "the coordinator must be held before the last chunk is done for this test to mean anything")
        for _ in 0..<6000 where results() < planned { usleep(50_000) }
        XCTAssertEqual(results(), planned, "every chunk is done before the cancel")
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/media/out.mkv"))

        let cancel = try server.call("DELETE", "/api/v1/jobs/\(id)")
        XCTAssertEqual(cancel.status, 202, cancel.body)
        kill(pid_t(coordinator), SIGCONT)
        let ended = try server.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(ended["state"] as? String, "cancelled", "\(ended)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/media/out.mkv"), "nothing at OUTPUT")
        let partials = (try FileManager.default.contentsOfDirectory(atPath: root + "/media")).filter { $0 != "in.mp4" }
        XCTAssertEqual(partials, [], "no partial OUTPUT either")
        XCTAssertFalse(processExists(coordinator), "the coordinator is gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/job.json"), "the job's plan is cleaned away")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/cancel.json"), "and so is the cancel's mark")
    }

    /// A job whose coordinator outlived the server is adopted by the next one; cancelling it then cleans its folder
    /// as a cancel of the server's own child does, so no `worker ROOT/jobs --watch` takes its chunks up again.
    func testCancelOfAnAdoptedJobCleansItsFolder() throws {
        let s = Scratch()
        let root = try makeRoot(s, clip: try Clips.long())
        var server = try ServerProcess(root: root, ["--workers", "1"])
        let submit = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv", "settings": {"encoder": "av1", "preset": "4", "maxSceneLength": 1, "threads": 1}}
            """)
        XCTAssertEqual(submit.status, 201, submit.body)
        let id = try XCTUnwrap(submit.object["id"] as? String)
        let tmp = root + "/jobs/" + id
        let busy = try server.waitForJob(id) { ($0["workersAlive"] as? Int ?? 0) > 0 && $0["state"] as? String == "encoding" }
        let coordinator = try XCTUnwrap((busy["coordinator"] as? [String: Any])?["pid"] as? Int)
        server.killHard()   // the server only: its coordinator goes on
        XCTAssertTrue(processExists(coordinator))

        server = try ServerProcess(root: root, ["--workers", "1"])
        defer { server.stop() }
        XCTAssertTrue(server.stderr.contains("job \(id): its coordinator (pid \(coordinator)) is still running"), server.stderr)
        let cancel = try server.call("DELETE", "/api/v1/jobs/\(id)")
        XCTAssertEqual(cancel.status, 202, cancel.body)
        let ended = try server.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(ended["state"] as? String, "cancelled", "\(ended)")
        XCTAssertFalse(processExists(coordinator), "the adopted coordinator is gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/media/out.mkv"), "nothing at OUTPUT")
        for name in ["job.json", "plan", "leases", "results", "cancel.json"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/" + name), "\(name) is cleaned away")
        }
        let left = try Tool.run("pgrep", ["-f", tmp])
        XCTAssertEqual(left.stdout, "", "no process of the job is left")
    }

    /// A power cut of the server and its job mid-encode: the restarted server queues the job again and it
    /// resumes to a frame-exact OUTPUT.
    func testServerKilledMidJobResumesAfterRestart() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let root = try makeRoot(s, clip: clip)
        var server = try ServerProcess(root: root, ["--workers", "1"])
        let submit = try server.call("POST", "/api/v1/jobs", body: """
            {"input": "media/in.mp4", "output": "media/out.mkv",
             "settings": {"encoder": "h264", "lossless": true, "preset": "medium", "maxSceneLength": 1, "threads": 1, "keep": true}}
            """)
        XCTAssertEqual(submit.status, 201, submit.body)
        let id = try XCTUnwrap(submit.object["id"] as? String)
        let tmp = root + "/jobs/" + id
        func results() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/results")) ?? []).filter { $0.hasSuffix(".json") }.count }
        for _ in 0..<6000 where results() == 0 { usleep(50_000) }

        // Power cut: the server, its coordinator and the coordinator's worker, all at once.
        server.killHard()
        var pids: [Int] = []
        if let d = FileManager.default.contents(atPath: tmp + "/coordinator.json"),
           let o = try JSONSerialization.jsonObject(with: d) as? [String: Any], let pid = o["pid"] as? Int { pids.append(pid) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp + "/workers")) ?? [] where name.hasSuffix(".json") {
            if let d = FileManager.default.contents(atPath: tmp + "/workers/" + name),
               let o = try JSONSerialization.jsonObject(with: d) as? [String: Any], let pid = o["pid"] as? Int { pids.append(pid) }
        }
        for pid in pids { kill(pid_t(pid), SIGKILL) }
        for pid in pids { for _ in 0..<100 where processExists(pid) { usleep(20_000) } }
        let doneBefore = results()
        let (planned, streaming) = try Tool.plannedChunks(tmp)
        XCTAssertGreaterThan(doneBefore, 0)
        XCTAssertTrue(streaming || doneBefore < planned.count, "the job must be cut off mid-encode for this test to mean anything (\(doneBefore) of \(planned.count) chunks)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/media/out.mkv"))

        server = try ServerProcess(root: root, ["--workers", "1"])
        defer { server.stop() }
        XCTAssertTrue(server.stderr.contains("1 unfinished job(s) queued again"), server.stderr)
        let done = try server.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
        XCTAssertEqual(done["state"] as? String, "finished", "\(done)")
        XCTAssertEqual(try Tool.frameHashes(root + "/media/out.mkv"), try Tool.frameHashes(clip), "frame-exact after the restart")
        XCTAssertEqual(try Tool.frameTimes(root + "/media/out.mkv"), try Tool.frameTimes(clip), "timestamps")
        let log = try String(contentsOfFile: tmp + "/server-log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("resuming job"), "the second run resumed the first one's work: \(log.suffix(2000))")
    }

    /// A job whose coordinator fails ends `failed` with the coordinator's own error line; retry runs it again
    /// (here it fails again: INPUT is no video), and a job that is not failed cannot be retried.
    func testFailedJobSaysWhyAndRetryRunsItAgain() throws {
        let s = Scratch()
        let root = s.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("not a video\n".utf8).write(to: URL(fileURLWithPath: root + "/in.mov"))
        let server = try ServerProcess(root: root, ["--workers", "0"])
        defer { server.stop() }
        let submit = try server.call("POST", "/api/v1/jobs", body: #"{"input": "in.mov", "output": "out.mkv", "webhook": "http://127.0.0.1:9/done"}"#)
        XCTAssertEqual(submit.status, 201, submit.body)
        let id = try XCTUnwrap(submit.object["id"] as? String)
        XCTAssertEqual((submit.object["request"] as? [String: Any])?["webhook"] as? String, "http://127.0.0.1:9/done", "the webhook is kept with the job")
        let failed = try server.waitForJob(id) { $0["state"] as? String == "failed" }
        let why = failed["error"] as? String ?? ""
        XCTAssertTrue(why.contains("exited 65") && why.contains("is not a media file"), why)
        // One piece of advice: the coordinator's own error, as its log line says it, and nothing the server adds after it.
        let line = ((try? String(contentsOfFile: root + "/jobs/\(id)/server-log.txt", encoding: .utf8)) ?? "")
            .split(separator: "\n").last { $0.hasPrefix("encoda: error: ") }.map { String($0.dropFirst("encoda: error: ".count)) }
        XCTAssertEqual(why, "the coordinator exited 65: " + (line ?? "(no error line in the log)"))
        func runs() -> Int {
            ((try? String(contentsOfFile: root + "/jobs/\(id)/server-log.txt", encoding: .utf8)) ?? "").components(separatedBy: "encoda: error:").count - 1
        }
        XCTAssertEqual(runs(), 1)
        let retry = try server.call("POST", "/api/v1/jobs/\(id)/retry")
        XCTAssertEqual(retry.status, 200, retry.body)
        XCTAssertNotEqual(retry.object["state"] as? String, "failed")
        try server.waitForJob(id) { $0["state"] as? String == "failed" }
        XCTAssertEqual(runs(), 2, "retry ran the job again")
        XCTAssertEqual(try server.call("POST", "/api/v1/jobs/nosuchjob/retry").status, 404)
        let queued = try server.call("POST", "/api/v1/jobs", body: #"{"input": "in.mov", "output": "out2.mkv"}"#)
        if let q = queued.object["id"] as? String {
            try server.waitForJob(q) { $0["state"] as? String == "failed" }
            XCTAssertEqual(try server.call("DELETE", "/api/v1/jobs/\(q)").status, 409, "a failed job is not cancelled")
        }
    }

    /// The served OpenAPI document is the committed one, its settings are the server's, and schemathesis finds
    /// no difference between the document and the implementation.
    func testOpenAPIConformance() throws {
        let s = Scratch()
        let root = s.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // The document's example names in.mov: a file that is no video, so the jobs schemathesis makes fail at once.
        try Data("not a video\n".utf8).write(to: URL(fileURLWithPath: root + "/in.mov"))
        let server = try ServerProcess(root: root, ["--workers", "0", "--max-jobs", "1"])
        defer { server.stop() }

        let committed = try String(contentsOfFile: Tool.packageRoot.appendingPathComponent("docs/openapi.json").path, encoding: .utf8)
        let served = try server.call("GET", "/api/v1/openapi.json")
        XCTAssertEqual(served.status, 200)
        XCTAssertTrue(served.body == committed, "the binary serves docs/openapi.json as committed (rebuild after editing it)")

        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(committed.utf8)) as? [String: Any])
        let schemas = (doc["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let request = (schemas?["JobRequest"] as? [String: Any])?["properties"] as? [String: Any]
        let documented = ((request?["settings"] as? [String: Any])?["properties"] as? [String: Any])?.keys.sorted() ?? []
        let unknown = try server.call("POST", "/api/v1/jobs", body: #"{"input": "in.mov", "output": "o.mkv", "settings": {"zzz": 1}}"#)
        let listed = (unknown.object["error"] as? String ?? "").components(separatedBy: "use one of ").last?.components(separatedBy: ", ") ?? []
        XCTAssertEqual(documented, listed, "the document's settings are the server's table")

        let r = try Tool.run("/usr/bin/env", ["schemathesis", "run", Tool.packageRoot.appendingPathComponent("docs/openapi.json").path,
                                              "--url", server.base, "-H", "Authorization: Bearer \(server.token)",
                                              "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,ignored_auth",
                                              "--exclude-path", "/api/v1/events", "--max-examples", "25", "--seed", "7", "--workers", "1",
                                              "--request-timeout", "30", "--no-color"],
                             cwd: s.path, environment: ["SCHEMATHESIS_HOOKS": ""])
        XCTAssertEqual(r.status, 0, "schemathesis found differences:\n\(r.stdout.suffix(6000))\n\(r.stderr.suffix(2000))")
        XCTAssertTrue(r.stdout.contains("passed"), r.stdout.suffix(2000).description)
        // Every job it made has ended; none is left running.
        for j in (try server.call("GET", "/api/v1/jobs").json as? [[String: Any]]) ?? [] where ["queued", "analysing", "encoding", "joining"].contains(j["state"] as? String ?? "") {
            _ = try server.call("DELETE", "/api/v1/jobs/\(j["id"] as? String ?? "")")
        }
    }
}
