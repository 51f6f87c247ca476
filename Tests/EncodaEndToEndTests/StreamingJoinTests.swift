import Foundation
import XCTest

/// The streaming join: OUTPUT's temporary file is appended to while the workers go on, and holds what a join of
/// every chunk at once holds.
final class StreamingJoinTests: XCTestCase {
    /// One worker, one-second chunks of the 500-frame clip: about 20 chunks published one after another.
    private func args(_ clip: String, _ out: String, _ tmp: String) -> [String] {
        [clip, out, tmp, "--encoder", "h264", "--lossless", "--preset", "veryfast", "--max-scene-length", "1",
         "--workers", "1", "--threads", "1", "--keep", "--quiet"]
    }

    /// Ten 2-second shots, each less noisy than the one before: the workers' most-expensive-first claims then follow
    /// the plan's order, so the join can follow the encode chunk by chunk.
    private func fading(_ s: Scratch) throws -> String {
        let out = s.file("fading.mkv")
        var args: [String] = []
        var graph = ""
        for i in 0..<10 {
            args += ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25,noise=alls=\(90 - 9 * i):allf=t"]
            graph += "[\(i):v]trim=end_frame=50,setpts=PTS-STARTPTS,format=yuv420p[v\(i)];"
        }
        graph += (0..<10).map { "[v\($0)]" }.joined() + "concat=n=10:v=1:a=0[out]"
        try Tool.ffmpeg(args + ["-filter_complex", graph, "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", out])
        return out
    }

    /// The chunks planned so far (all of them once the plan is whole).
    private func chunkCount(_ tmp: String) throws -> Int { try Tool.plannedChunks(tmp).chunks.count }

    private func results(_ tmp: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/results")) ?? []).filter { $0.hasSuffix(".json") }.count
    }

    private func partial(in dir: String) -> String? {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).first { $0.contains(".partial.") }.map { dir + "/" + $0 }
    }

    /// Every packet of every stream in file order: stream, timestamps, duration, size, flags.
    private func packets(_ file: String) throws -> [String] {
        let r = try Tool.run("ffprobe", ["-v", "error", "-show_entries", "packet=stream_index,pts,dts,duration,size,flags",
                                         "-of", "csv=p=0", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// The long clip with a sine track, a subtitle track and two chapters, in Matroska.
    private func avClip(_ s: Scratch) throws -> String {
        let srt = s.file("subs.srt")
        try "1\n00:00:01,000 --> 00:00:03,000\nfirst\n\n2\n00:00:12,000 --> 00:00:14,500\nsecond\n".write(toFile: srt, atomically: true, encoding: .utf8)
        let meta = s.file("meta.txt")
        try ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=9000\ntitle=one\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=9000\nEND=20000\ntitle=two\n"
            .write(toFile: meta, atomically: true, encoding: .utf8)
        let out = s.file("av.mkv")
        try Tool.ffmpeg(["-i", try Clips.long(), "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
                         "-i", srt, "-f", "ffmetadata", "-i", meta, "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_chapters", "3",
                         "-c:v", "copy", "-c:a", "aac", "-c:s", "srt", out])
        return out
    }

    /// A job joined while its chunks are encoded, and the same chunks joined all at once by a re-run into another
    /// OUTPUT (every chunk done: nothing is left to stream), give the same packets and frames; lossless, they are
    /// the source's frames.
    func testStreamedOutputEqualsTheWholeJoinWithAndWithoutMux() throws {
        let s = Scratch()
        let clip = try avClip(s)
        for mux in [[], ["--mux"], ["--mux", "--audio-codec", "opus"]] {
            let tmp = s.file("tmp\(mux.count)")
            let streamed = s.file("streamed\(mux.count).mkv"), whole = s.file("whole\(mux.count).mkv")
            try Tool.mustRun(Tool.encoda, args(clip, streamed, tmp) + mux)
            XCTAssertGreaterThan(try chunkCount(tmp), 10)
            try Tool.mustRun(Tool.encoda, args(clip, whole, tmp) + mux)
            let p = try packets(streamed)
            XCTAssertEqual(p, try packets(whole), "same packets in the same order, \(mux)")
            XCTAssertEqual(p.count, mux.isEmpty ? 2 * Clips.cutFrames : p.count)
            XCTAssertEqual(try Tool.frameHashes(streamed), try Tool.frameHashes(clip), "lossless: the source's frames, \(mux)")
            if !mux.isEmpty {
                let streams = try Tool.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", streamed]).stdout
                XCTAssertEqual(streams.split(separator: "\n"), ["video", "audio", "subtitle"])
                let chapters = try Tool.run("ffprobe", ["-v", "error", "-show_entries", "chapter=start_time", "-of", "csv=p=0", streamed]).stdout
                XCTAssertEqual(chapters.split(separator: "\n").count, 2)
            }
        }
    }

    /// The fading clip's job started in the background, OUTPUT in a folder of its own (so the temporary file beside
    /// it can be found): the clip, that folder, OUTPUT, TMP and the running coordinator.
    private func startJob(_ s: Scratch) throws -> (clip: String, outDir: String, out: String, tmp: String, process: Process) {
        let clip = try fading(s)
        let outDir = s.file("out")
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: false)
        let out = outDir + "/out.mkv", tmp = s.file("tmp")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args(clip, out, tmp)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (clip, outDir, out, tmp, p)
    }

    /// With one worker, chunks claimed in plan order, the temporary file beside OUTPUT exists and grows while chunks are still to be encoded;
    /// OUTPUT appears only at the end.
    func testTheJoinStartsBeforeTheLastChunkIsEncoded() throws {
        let s = Scratch()
        let (clip, outDir, out, tmp, p) = try startJob(s)
        var sizesWhileEncoding = Set<Int64>()
        var outputEarly = false
        while p.isRunning {
            if let part = partial(in: outDir), FileManager.default.fileExists(atPath: tmp + "/job.json"),
               let total = try? chunkCount(tmp), results(tmp) < total,
               let size = (try? FileManager.default.attributesOfItem(atPath: part)[.size] as? Int64) {
                sizesWhileEncoding.insert(size)
                if FileManager.default.fileExists(atPath: out) { outputEarly = true }
            }
            usleep(5_000)
        }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertGreaterThanOrEqual(sizesWhileEncoding.filter { $0 > 0 }.count, 2,
                                    "the partial file grew while chunks were still being encoded: \(sizesWhileEncoding.sorted())")
        XCTAssertFalse(outputEarly, "OUTPUT appeared before the last chunk")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outDir), ["out.mkv"])
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip))
    }

    /// A chunk file truncated after its record (before a re-run of a --keep job) is rejected once, re-encoded, and
    /// the join goes on with it; OUTPUT is frame-exact.
    func testATruncatedChunkIsReencodedOnceAndTheJoinGoesOn() throws {
        let s = Scratch()
        let clip = try Clips.long()
        let tmp = s.file("tmp"), out = s.file("out.mkv")
        try Tool.mustRun(Tool.encoda, args(clip, out, tmp))
        unlink(out)
        let chunks = try FileManager.default.contentsOfDirectory(atPath: tmp + "/chunks").filter { $0.hasSuffix(".chunk") }.sorted()
        let victim = chunks[chunks.count / 2]
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: tmp + "/chunks/" + victim))
        try h.truncate(atOffset: 100)
        try h.close()
        let r = try Tool.mustRun(Tool.encoda, Array(args(clip, out, tmp).dropLast()))
        let warning = "chunk \(victim.prefix(5)) does not match its result record; re-encoding it"
        XCTAssertEqual(r.stderr.components(separatedBy: warning).count - 1, 1, r.stderr)
        let aside = try FileManager.default.contentsOfDirectory(atPath: tmp + "/results").filter { $0.hasPrefix(victim.prefix(5) + ".json.invalid-") }
        XCTAssertEqual(aside.count, 1, "its record was set aside once")
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip), "OUTPUT frame-exact after the re-encode")
        XCTAssertEqual(try Tool.frameTimes(out).count, 2 * Clips.cutFrames)
    }

    /// kill -9 of the coordinator (and its workers) while the temporary file is being appended to: no OUTPUT; the
    /// re-run joins again from the chunks in TMP, frame-exact, and leaves nothing else beside OUTPUT.
    func testAKillDuringTheStreamingJoinLeavesOutputUntouchedAndTheRerunJoinsAgain() throws {
        let s = Scratch()
        let (clip, outDir, out, tmp, p) = try startJob(s)
        var caught = false
        while p.isRunning && !caught {
            if let part = partial(in: outDir), let total = try? chunkCount(tmp), results(tmp) < total,
               ((try? FileManager.default.attributesOfItem(atPath: part)[.size] as? Int64) ?? 0) > 0 {
                caught = true
            } else {
                usleep(5_000)
            }
        }
        Tool.killJob(p, tmp: tmp)
        XCTAssertTrue(caught, "the job was caught while its partial file was being appended to")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no OUTPUT from the killed run")
        XCTAssertNotNil(partial(in: outDir), "the killed run left its partial file")

        try Tool.mustRun(Tool.encoda, args(clip, out, tmp))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outDir), ["out.mkv"], "no partial file left")
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip), "frame-exact after the re-run")
        XCTAssertEqual(try Tool.frameTimes(out).count, 500)
    }
}
