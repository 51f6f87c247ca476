import Foundation
import XCTest

/// encoda removes what it made, and only that: `clean`, `--restart`, the chunks after a finished job, and the
/// partial output a coordinator killed during the join left beside OUTPUT.
final class CleanupTests: XCTestCase {
    /// Every path under `root`, relative to it, sorted.
    private func listing(_ root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
    }

    private func write(_ path: String, _ text: String = "mine\n") {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)), path)
    }

    /// Sizes of the files under `root` (relative paths), without scenes.json and the logs (which a finished job keeps).
    private func chunkDataBytes(_ root: String) throws -> Int64 {
        var total: Int64 = 0
        for p in listing(root) where p != "scenes.json" && !p.hasPrefix("logs") {
            let a = try FileManager.default.attributesOfItem(atPath: root + "/" + p)
            if a[.type] as? FileAttributeType == .typeRegular { total += (a[.size] as? Int64) ?? 0 }
        }
        return total
    }

    private static var hostComponent: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return String(String(cString: buf).prefix(64).map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
    }

    // MARK: clean and --restart

    func testCleanRemovesEveryEncodaFileAndKeepsTheUsersFiles() throws {
        let s = Scratch()
        let clip = s.file("av.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                         "-t", "3", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                         "-c:a", "aac", "-ac", "2", clip])
        let tmp = s.file("tmp")
        // Audio transcoded (so TMP/audio holds packets and a record), several chunks, TMP kept.
        try Tool.mustRun(Tool.encoda, [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--preset", "ultrafast", "--max-scene-length", "1",
                                       "--workers", "2", "--mux", "--audio-codec", "opus", "--keep", "--quiet"])
        let made = listing(tmp)
        XCTAssertTrue(made.contains("audio/audio.json") && made.contains { $0.hasPrefix("audio/audio-") && $0.hasSuffix(".packets") }, "\(made)")
        XCTAssertGreaterThanOrEqual(made.filter { $0.hasPrefix("chunks/") }.count, 2, "\(made)")
        // The user's files, among encoda's; and a temp a killed worker left in staging.
        write(tmp + "/logs/my.log")
        write(tmp + "/notes.txt")
        write(tmp + "/chunks/mine.mkv")
        write(tmp + "/staging/1234.tmp")

        let r = try Tool.mustRun(Tool.encoda, ["clean", tmp])
        XCTAssertEqual(listing(tmp), ["chunks", "chunks/mine.mkv", "logs", "logs/my.log", "notes.txt"],
                       "every file encoda made is gone, the user's files stay, and so do the folders that hold them")
        XCTAssertTrue(r.stdout.contains("kept 3 item(s) encoda did not make: chunks/mine.mkv, logs/my.log, notes.txt"), r.stdout)
        for f in ["logs/my.log", "notes.txt", "chunks/mine.mkv"] {
            XCTAssertEqual(try String(contentsOfFile: tmp + "/" + f, encoding: .utf8), "mine\n", f)
        }

        // Cleaning a clean folder, an empty folder and a missing one succeeds.
        let again = try Tool.mustRun(Tool.encoda, ["clean", tmp])
        XCTAssertTrue(again.stdout.contains("nothing to clean"), again.stdout)
        try FileManager.default.createDirectory(atPath: s.file("empty"), withIntermediateDirectories: false)
        XCTAssertTrue(try Tool.mustRun(Tool.encoda, ["clean", s.file("empty")]).stdout.contains("nothing to clean"))
        XCTAssertEqual(listing(s.file("empty")), [])
        XCTAssertEqual(try Tool.encoda(["clean", s.file("missing")]).status, 0)
        // A folder that is no TMP is left alone, although some names in it look like encoda's.
        let home = s.file("home")
        for d in ["", "/logs", "/results"] { try FileManager.default.createDirectory(atPath: home + d, withIntermediateDirectories: false) }
        write(home + "/logs/worker-a-1-2-3.log"); write(home + "/results/00001.json")
        XCTAssertTrue(try Tool.mustRun(Tool.encoda, ["clean", home]).stdout.contains("holds no encoda job"))
        XCTAssertEqual(listing(home), ["logs", "logs/worker-a-1-2-3.log", "results", "results/00001.json"])
    }

    func testRestartKeepsTheUsersFiles() throws {
        let s = Scratch()
        let clip = try Clips.singleShot()
        let tmp = s.file("tmp")
        let base = [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--preset", "ultrafast", "--keep"]
        try Tool.mustRun(Tool.encoda, base + ["--quiet"])
        write(tmp + "/logs/my.log")
        write(tmp + "/notes.txt")
        write(tmp + "/results/my-notes.json")
        let oldChunks = listing(tmp).filter { $0.hasPrefix("chunks/") }
        XCTAssertFalse(oldChunks.isEmpty)
        let r = try Tool.mustRun(Tool.encoda, base + ["-y", "--crf", "30", "--restart"])
        XCTAssertTrue(r.stderr.contains("--restart kept what encoda did not make in TMP: logs/my.log, results/my-notes.json"), r.stderr)
        for f in ["logs/my.log", "notes.txt", "results/my-notes.json"] {
            XCTAssertEqual(try String(contentsOfFile: tmp + "/" + f, encoding: .utf8), "mine\n", f)
        }
        XCTAssertTrue(Set(listing(tmp).filter { $0.hasPrefix("chunks/") }).isDisjoint(with: oldChunks), "the old job's chunks are gone")
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")).count, 100)
    }

    // MARK: after a finished job

    func testAFinishedJobRemovesItsChunksAndSaysHowMuchItFreed() throws {
        let s = Scratch()
        let clip = try Clips.cuts()
        let tmp = s.file("tmp")
        let args = [clip, s.file("out.mkv"), tmp, "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                    "--max-scene-length", "2", "--workers", "2"]
        // With --keep the chunks and their records stay.
        try Tool.mustRun(Tool.encoda, args + ["--keep", "--quiet"])
        let kept = listing(tmp)
        let chunks = kept.filter { $0.hasPrefix("chunks/") && $0.hasSuffix(".chunk") }
        XCTAssertGreaterThanOrEqual(chunks.count, 4, "\(kept)")
        XCTAssertEqual(kept.filter { $0.hasPrefix("results/") }.count, chunks.count, "\(kept)")
        XCTAssertTrue(kept.contains("job.json"))
        let expected = try chunkDataBytes(tmp)
        XCTAssertGreaterThan(expected, 1_000_000, "lossless chunks")

        // The same command without --keep: the job is done, so it joins again, then removes what the job made.
        unlink(s.file("out.mkv"))
        let r = try Tool.mustRun(Tool.encoda, args)
        let said = String(format: "removed the chunks from TMP: %.1f MB freed; --keep keeps them", Double(expected) / 1e6)
        XCTAssertTrue(r.stderr.contains(said), "expected '\(said)' in: \(r.stderr)")
        let left = listing(tmp)
        // The coordinator's record stays: `status` reports the finished job (and OUTPUT's size) from it.
        XCTAssertEqual(left.filter { !$0.hasPrefix("logs/") }, ["coordinator.json", "logs", "scenes.json"], "TMP holds no chunk data: \(left)")
        XCTAssertTrue(left.filter { $0.hasPrefix("logs/") }.allSatisfy { $0.hasPrefix("logs/worker-") && $0.hasSuffix(".log") }, "\(left)")
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv")), try Tool.frameHashes(clip), "OUTPUT frame-exact")

        // A re-run plans a new job from the kept analysis (no scene pass) and encodes it again.
        let again = try Tool.mustRun(Tool.encoda, [clip, s.file("again.mkv")] + args.dropFirst(2))
        XCTAssertFalse(again.stderr.contains("scene pass"), again.stderr)
        XCTAssertFalse(again.stderr.contains("resuming"), again.stderr)
        XCTAssertEqual(try Tool.frameHashes(s.file("again.mkv")), try Tool.frameHashes(clip))
    }

    // MARK: the join killed

    func testAPartialOutputOfACoordinatorKilledDuringTheJoinIsRemovedByTheRerun() throws {
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp")
        let outDir = s.file("out")
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: false)
        let out = outDir + "/out.mkv"
        let args = [clip, out, tmp, "--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "2", "--workers", "2"]
        // Encode every chunk first; each later run of the same command goes straight to the join.
        try Tool.mustRun(Tool.encoda, args + ["--keep", "--quiet"])
        var caught: String? = nil
        var attempts = 0
        for _ in 0..<30 where caught == nil {
            unlink(out)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Tool.encoda)
            p.arguments = args + ["--keep", "--quiet"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            var seen = false
            while p.isRunning && !seen {
                seen = ((try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? []).contains { $0.contains(".partial.") }
            }
            if seen {
                // The whole process group at once, as a terminal's kill would (never the test runner's own group).
                let group = getpgid(p.processIdentifier)
                if group > 0 && group != getpgrp() { kill(-group, SIGKILL) }
                kill(p.processIdentifier, SIGKILL)
            }
            p.waitUntilExit()
            // Caught only if the join had not finished (renamed its partial into place) before the kill.
            caught = try FileManager.default.contentsOfDirectory(atPath: outDir).first { $0.contains(".partial.") }
            attempts += 1
        }
        let name = try XCTUnwrap(caught, "the join was never caught with its partial output in \(attempts) runs")
        XCTAssertTrue(name.hasPrefix(".out.mkv.encoda-\(Self.hostComponent)-") && name.hasSuffix(".partial.mkv"), name)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no OUTPUT from the killed join")

        // Names the re-run must not touch: another machine's, a live process's, another OUTPUT's, a user's.
        let host = Self.hostComponent
        let foreign = [".out.mkv.encoda-elsewhere-4242.partial.mkv", ".out.mkv.encoda-\(host)-\(getpid()).partial.mkv",
                       ".other.mkv.encoda-\(host)-999999.partial.mkv", "notes.txt"]
        for f in foreign { write(outDir + "/" + f) }

        let r = try Tool.mustRun(Tool.encoda, args)
        XCTAssertTrue(r.stderr.contains("removed \(name), a partial OUTPUT left by an earlier run that was killed"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outDir).sorted(), (foreign + ["out.mkv"]).sorted(),
                       "OUTPUT's folder holds OUTPUT and what was there before, nothing of the killed run")
        let src = try Tool.frameHashes(clip)
        XCTAssertEqual(src.count, 2 * Clips.cutFrames)
        XCTAssertEqual(try Tool.frameHashes(out), src, "OUTPUT is frame-exact")
    }
}
