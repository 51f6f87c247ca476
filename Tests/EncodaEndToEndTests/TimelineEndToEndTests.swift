import Foundation
import XCTest

/// `--otio` and `--edl`: one output per clip of an editorial timeline, INPUT being a render of it. Each output must
/// hold exactly the frames where its clip sits on the timeline (ffmpeg's trim of INPUT, framemd5 of lossless x264),
/// timestamps from 0; gaps are skipped, a transition goes with the clip it leads into, colliding names get `_2`.
final class TimelineEndToEndTests: XCTestCase {
    private var scratch: Scratch!
    private var work: String { scratch.path }

    override func setUpWithError() throws { scratch = Scratch() }
    override func tearDownWithError() throws { scratch = nil }

    private let common = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]

    /// The render: 96 frames of 160x120 at 24 fps in three shots (36, 24, 36 frames), a keyframe every 40 frames, so
    /// clips start inside GOPs.
    private func render(frames: Int = 96, size: String = "160x120") throws -> String {
        let out = work + "/render-\(frames).mkv"
        let third = Double(frames) / 24 / 8
        try Tool.ffmpeg(["-filter_complex",
                         "testsrc2=s=\(size):r=24:d=\(third * 3),format=yuv420p[a];rgbtestsrc=s=\(size):r=24:d=\(third * 2),format=yuv420p[b];testsrc=s=\(size):r=24:d=\(third * 3),format=yuv420p[c];[a][b][c]concat=n=3",
                         "-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=40:min-keyint=40:scenecut=0", "-pix_fmt", "yuv420p", out])
        return out
    }

    /// Checks that `file` holds exactly frames [s, e) of `src`, the first at time 0.
    private func checkSlice(_ file: String, of src: String, _ s: Int, _ e: Int, file f: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try Tool.frameHashes(src, filter: "trim=start_frame=\(s):end_frame=\(e),setpts=PTS-STARTPTS")
        XCTAssertEqual(expected.count, e - s, file: f, line: line)
        XCTAssertEqual(try Tool.frameHashes(file), expected, "\(file) holds exactly frames \(s)..<\(e)", file: f, line: line)
        XCTAssertEqual(try Tool.frameTimes(file).first ?? -1, 0, accuracy: 1e-9, "\(file) starts at 0", file: f, line: line)
    }

    /// Writes an OTIO timeline with OpenTimelineIO's own Python package: `Shot/1` (30 frames), a gap (10), `Shot:1`
    /// (26), a dissolve of 4+4 frames, `Close up` (30); all at 24 fps.
    private func otioFile(rate: Int = 24) throws -> String {
        let path = work + "/cut.otio"
        let script = """
            import opentimelineio as otio
            RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
            tl = otio.schema.Timeline(name="cut")
            tl.tracks.append(otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio))
            v = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
            tl.tracks.append(v)
            clip = lambda n, d: otio.schema.Clip(name=n, source_range=TR(RT(1000, \(rate)), RT(d, \(rate))))
            v.append(clip("Shot/1", 30))
            v.append(otio.schema.Gap(source_range=TR(RT(0, \(rate)), RT(10, \(rate)))))
            v.append(clip("Shot:1", 26))
            v.append(otio.schema.Transition(name="dissolve", in_offset=RT(4, \(rate)), out_offset=RT(4, \(rate))))
            v.append(clip("Close up", 30))
            otio.adapters.write_to_file(tl, "\(path)")
            """
        let r = try Tool.run("/usr/bin/env", ["python3", "-c", script])
        XCTAssertEqual(r.status, 0, "the tests need OpenTimelineIO: pip install opentimelineio (scripts/setup.sh does). \(r.stderr)")
        return path
    }

    /// A run killed while it joined a clip leaves that clip's record at -1 ("being joined") and no file; the next run
    /// joins it again (it used to read the missing file's size as -1 too, count the clip as written, and lose it).
    func testAClipWhoseJoinWasCutShortIsJoinedAgain() throws {
        let src = try render(), tl = try otioFile()
        let pattern = work + "/{index}_{clip}.mkv", tmp = work + "/tmp"
        try Tool.mustRun(Tool.encoda, [src, pattern, tmp, "--otio", tl, "--keep", "--quiet"] + common)
        let first = work + "/1_Shot_1.mkv", second = work + "/2_Shot_1_2.mkv"
        let stamp = try FileManager.default.attributesOfItem(atPath: first)[.modificationDate] as? Date
        // As a kill during the second clip's join leaves TMP: its record -1, its file not renamed into place.
        let recordPath = tmp + "/joined.json"
        var record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recordPath))) as? [String: Any])
        var outputs = try XCTUnwrap(record["outputs"] as? [String: Any])
        XCTAssertNotNil(outputs[second], "\(outputs)")
        outputs[second] = -1
        record["outputs"] = outputs
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: recordPath))
        try FileManager.default.removeItem(atPath: second)
        let r = try Tool.mustRun(Tool.encoda, [src, pattern, tmp, "--otio", tl, "--keep"] + common)
        XCTAssertTrue(r.stderr.contains("2 of 3 clips already written; they are kept"), r.stderr)
        XCTAssertTrue(r.stderr.contains("-> " + second), r.stderr)
        try checkSlice(second, of: src, 40, 62)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: first)[.modificationDate] as? Date, stamp, "the first clip was written again")
    }

    func testOTIOTimelineGivesOneFrameExactOutputPerClip() throws {
        let src = try render(), tl = try otioFile()
        try FileManager.default.createDirectory(atPath: work + "/reviews", withIntermediateDirectories: true)
        let pattern = work + "/reviews/{index}_{clip}.mp4", tmp = work + "/tmp"
        let plan = try Tool.mustRun(Tool.encoda, [src, pattern, tmp, "--otio", tl, "--dry-run"] + common)
        XCTAssertTrue(plan.stdout.contains("clip 2/3: \"Shot:1\" frames 40–61 (22)"), plan.stdout)
        let r = try Tool.mustRun(Tool.encoda, [src, pattern, tmp, "--otio", tl] + common)
        // Shot:1 ends where the dissolve begins (4 frames before the cut at 66); Close up holds the dissolve.
        try checkSlice(work + "/reviews/1_Shot_1.mp4", of: src, 0, 30)
        try checkSlice(work + "/reviews/2_Shot_1_2.mp4", of: src, 40, 62)
        try checkSlice(work + "/reviews/3_Close_up.mp4", of: src, 62, 96)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work + "/reviews").sorted(),
                       ["1_Shot_1.mp4", "2_Shot_1_2.mp4", "3_Close_up.mp4"])
        XCTAssertTrue(r.stderr.contains("wrote 3 clips, 86 frames"), r.stderr)
        // Existing outputs follow the -y rule.
        let again = try Tool.run(Tool.encoda, [src, pattern, tmp, "--otio", tl, "--quiet"] + common)
        XCTAssertEqual(again.status, 73, again.stderr)
        XCTAssertTrue(again.stderr.contains("1_Shot_1.mp4 exists; add -y"), again.stderr)
        // Another track by name; one the timeline does not hold is a usage error listing those it does.
        let other = try Tool.run(Tool.encoda, [src, pattern, work + "/tmp2", "--otio", tl, "--track", "V9", "-y"] + common)
        XCTAssertEqual(other.status, 64)
        XCTAssertTrue(other.stderr.contains("no track named \"V9\"; its tracks are \"A1\" (Audio), \"V1\" (Video)"), other.stderr)
        // A timeline at 25 fps is no render of this 24 fps INPUT: an input error before any encode.
        let pal = try otioFile(rate: 25)
        let mismatch = try Tool.run(Tool.encoda, [src, work + "/pal-{clip}.mp4", work + "/tmp3", "--otio", pal] + common)
        XCTAssertEqual(mismatch.status, 65, mismatch.stderr)
        XCTAssertTrue(mismatch.stderr.contains("runs at 25 fps and INPUT at 24 fps"), mismatch.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/pal-Shot_1.mp4"))
    }

    /// A hand-written CMX 3600 EDL on a 01:00:00:00 clock whose first event starts 10 frames in (the render starts at
    /// 01:00:00:00: --timeline-start), black between two events, a dissolve into the last.
    func testEDLWithRecordTimecodeGivesOneFrameExactOutputPerEvent() throws {
        let src = try render()
        let edl = work + "/cut.edl"
        func write(lastOut: String) throws {
            try """
            TITLE: CUT
            FCM: NON-DROP FRAME

            001  AX       V     C        00:10:00:00 00:10:00:20 01:00:00:10 01:00:01:06
            * FROM CLIP NAME: Shot/1
            002  BL       V     C        00:00:00:00 00:00:00:10 01:00:01:06 01:00:01:16
            003  AX       V     C        00:20:00:00 00:20:00:22 01:00:01:16 01:00:02:14
            * FROM CLIP NAME: Shot:1
            004  AX       V     C        00:20:00:22 00:20:00:22 01:00:02:14 01:00:02:14
            004  AX       V     D    008 00:30:00:00 00:30:01:10 01:00:02:14 \(lastOut)
            * FROM CLIP NAME: Shot:1
            * TO CLIP NAME: Close up
            """.write(toFile: edl, atomically: true, encoding: .utf8)
        }
        try write(lastOut: "01:00:04:00")
        let pattern = work + "/{clip}.mkv", tmp = work + "/tmp"
        try Tool.mustRun(Tool.encoda, [src, pattern, tmp, "--edl", edl, "--timeline-start", "01:00:00:00", "--quiet"] + common)
        try checkSlice(work + "/Shot_1.mkv", of: src, 10, 30)
        try checkSlice(work + "/Shot_1_2.mkv", of: src, 40, 62)
        try checkSlice(work + "/Close_up.mkv", of: src, 62, 96)
        // A timeline one frame longer than INPUT is an input error naming the clip, before any encode.
        try write(lastOut: "01:00:04:01")
        let long = try Tool.run(Tool.encoda, [src, work + "/long-{clip}.mkv", work + "/tmp-long", "--edl", edl, "--timeline-start", "01:00:00:00"] + common)
        XCTAssertEqual(long.status, 65, long.stderr)
        XCTAssertTrue(long.stderr.contains("clip \"Close up\" ends at frame 97 but INPUT holds 96 frames"), long.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/long-Shot_1.mkv"))
        // Without --timeline-start, frame 0 is the first event's record in, and every clip lands 10 frames early.
        try write(lastOut: "01:00:04:00")
        let plan = try Tool.mustRun(Tool.encoda, [src, work + "/x-{clip}.mkv", work + "/tmp-x", "--edl", edl, "--dry-run"] + common)
        XCTAssertTrue(plan.stdout.contains("clip 1/3: \"Shot/1\" frames 0–19 (20)"), plan.stdout)
        XCTAssertFalse(plan.stderr.contains("--timeline-start"), "INPUT has no timecode to compare: \(plan.stderr)")
        // A render that carries its record timecode: the same run says how INPUT's start and the timeline's differ.
        let stamped = work + "/stamped.mov"
        try Tool.ffmpeg(["-i", src, "-c", "copy", "-timecode", "01:00:00:00", stamped])
        let noted = try Tool.mustRun(Tool.encoda, [stamped, work + "/y-{clip}.mkv", work + "/tmp-y", "--edl", edl, "--dry-run"] + common)
        XCTAssertTrue(noted.stderr.contains("INPUT's timecode starts at 01:00:00:00, the timeline at 01:00:00:10"), noted.stderr)
        XCTAssertTrue(noted.stderr.contains("give --timeline-start 01:00:00:00"), noted.stderr)
        let given = try Tool.mustRun(Tool.encoda, [stamped, work + "/z-{clip}.mkv", work + "/tmp-z", "--edl", edl, "--dry-run",
                                                   "--timeline-start", "01:00:00:00"] + common)
        XCTAssertFalse(given.stderr.contains("INPUT's timecode starts at"), given.stderr)
        XCTAssertTrue(given.stdout.contains("clip 1/3: \"Shot/1\" frames 10–29 (20)"), given.stdout)
    }

    /// A timeline job killed after some clips were written: the re-run writes the others, frame-exact, and leaves the
    /// written ones as they were (same file, same modification time), with no -y.
    func testKilledTimelineJobResumesEveryClipAndRedoesNoFinishedOne() throws {
        let src = try render(frames: 480, size: "320x240")
        let edl = work + "/cut.edl"
        // Six clips of 80 frames: 2 chunks each at --max-scene-length 1 (24 fps: chunks of 48 frames or fewer).
        let events = (0..<6).map { i in
            let tc = { (f: Int) in String(format: "01:00:%02d:%02d", f / 24, f % 24) }
            return String(format: "%03d  AX  V  C  00:00:00:00 00:00:03:08 ", i + 1) + tc(i * 80) + " " + tc(i * 80 + 80) + "\n* FROM CLIP NAME: part \(i + 1)"
        }
        try (["TITLE: LONG", "FCM: NON-DROP FRAME"] + events).joined(separator: "\n").write(toFile: edl, atomically: true, encoding: .utf8)
        let pattern = work + "/{index}_{clip}.mkv", tmp = work + "/tmp"
        let args = [src, pattern, tmp, "--edl", edl, "--encoder", "h264", "--lossless", "--preset", "veryfast", "--max-scene-length", "1",
                    "--workers", "1", "--threads", "1", "--keep", "--quiet"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tool.encoda)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let names = (1...6).map { "\($0)_part_\($0).mkv" }
        /// The clips TMP/joined.json records as written (-1: being joined).
        func written() -> [String] {
            guard let d = FileManager.default.contents(atPath: tmp + "/joined.json"),
                  let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any], let outs = o["outputs"] as? [String: Int] else { return [] }
            return names.filter { (outs[work + "/" + $0] ?? -1) > 0 }
        }
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && p.isRunning && written().isEmpty { usleep(2_000) }
        // Kill everything at once: the coordinator, then every worker it registered.
        Tool.killJob(p, tmp: tmp)
        let before = written()
        XCTAssertTrue(before.allSatisfy { FileManager.default.fileExists(atPath: work + "/" + $0) })
        XCTAssertGreaterThanOrEqual(before.count, 1, "a clip was written before the kill")
        XCTAssertLessThan(before.count, 6, "the kill came before the job finished")
        // status shows each clip's progress: the written ones, and frames and chunks done of the others.
        let status = try Tool.mustRun(Tool.encoda, ["status", tmp]).stdout
        for (i, n) in names.enumerated() {
            let line = status.split(separator: "\n").first { $0.contains("clip \(i + 1)/6    \"part \(i + 1)\": ") && $0.hasSuffix("-> " + work + "/" + n) }
            XCTAssertNotNil(line, status)
            XCTAssertEqual(line?.contains(": written ->"), before.contains(n), status)
            if !before.contains(n) { XCTAssertTrue(line?.contains("/80 frames, ") == true, status) }
        }
        var stamps: [String: Date] = [:]
        for n in before { stamps[n] = try FileManager.default.attributesOfItem(atPath: work + "/" + n)[.modificationDate] as? Date }
        // The same command again: no -y needed for what this job wrote.
        let r = try Tool.mustRun(Tool.encoda, Array(args.dropLast()))
        XCTAssertTrue(r.stderr.contains("\(before.count) of 6 clips already written; they are kept"), r.stderr)
        for n in before {
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: work + "/" + n)[.modificationDate] as? Date, stamps[n], "\(n) was written again")
            XCTAssertFalse(r.stderr.contains("/" + n), "\(n) was joined again: \(r.stderr)")
        }
        for (i, n) in names.enumerated() { try checkSlice(work + "/" + n, of: src, i * 80, i * 80 + 80) }
    }
}
