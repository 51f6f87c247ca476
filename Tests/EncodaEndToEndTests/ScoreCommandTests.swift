import Foundation
import XCTest

/// `encoda score DIST REF`: per-frame and pooled VMAF and SSIMULACRA 2, checked against libvmaf run directly by the
/// imageio-ffmpeg binary and against PyPI's ssimulacra2 on the same frames.
final class ScoreCommandTests: XCTestCase {

    /// The source of the tests: 2 s of moving test pattern and a cut to a fractal, 320x240, nearly lossless.
    private func source(_ s: Scratch, format: String = "yuv420p") throws -> String {
        let out = s.file("ref-\(format).mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1.2", "-f", "lavfi", "-i", "mandelbrot=s=320x240:r=25",
                         "-filter_complex", "[1:v]trim=end_frame=20,setpts=PTS-STARTPTS[m];[0:v][m]concat=n=2:v=1",
                         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", format, out])
        return out
    }

    private func report(_ r: Tool.Result, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout, file: file, line: line)
    }

    private func perFrame(_ report: [String: Any]) -> [(Int, Double)] {
        ((report["perFrame"] as? [[String: Any]]) ?? []).map { (($0["frame"] as? Int) ?? -1, ($0["score"] as? Double) ?? .nan) }
    }

    private static var imageioFFmpeg: String {
        get throws {
            let r = try Tool.run("/usr/bin/env", ["python3", "-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"])
            guard r.status == 0 else { throw XCTSkip("imageio-ffmpeg is not installed (scripts/setup.sh installs it): \(r.stderr)") }
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func testAFileAgainstItselfScores100() throws {
        let s = Scratch()
        let ref = try source(s)
        let ssim = try report(try Tool.encoda(["score", ref, ref, "--metric", "ssimulacra2", "--json"]))
        XCTAssertEqual(ssim["frames"] as? Int, 50)
        XCTAssertEqual(perFrame(ssim).map(\.0), Array(0..<50))
        XCTAssertEqual(perFrame(ssim).map(\.1), Array(repeating: 100, count: 50))
        let vmaf = try report(try Tool.encoda(["score", ref, ref, "--metric", "vmaf", "--json", "--vmaf-ffmpeg", try Self.imageioFFmpeg]))
        // VMAF of identical pictures is about 100, a little less where its motion feature sees a cut.
        XCTAssertEqual(perFrame(vmaf).count, 50)
        XCTAssertGreaterThan(try XCTUnwrap(vmaf["score"] as? Double), 99)
        XCTAssertGreaterThan(perFrame(vmaf).map(\.1).min() ?? 0, 95)
        // As text: one line per frame, then the pooled score with the other poolings.
        let text = try Tool.encoda(["score", ref, ref, "--metric", "ssimulacra2", "--pool", "p5"])
        XCTAssertEqual(text.status, 0, text.stderr)
        let lines = text.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 51)
        XCTAssertEqual(lines.first, "0\t100.000")
        XCTAssertEqual(lines.last, "ssimulacra2 p5 100.000 (50 of 50 frames; mean 100.000, harmonic 100.000)")
    }

    /// Per-frame VMAF equals what libvmaf gives when ffmpeg reads both files itself, for 8- and 10-bit encodes.
    func testVmafAgreesWithLibvmafRunDirectly() throws {
        let s = Scratch()
        let ffmpeg = try Self.imageioFFmpeg
        for (format, encoder) in [("yuv420p", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "32"]),
                                  ("yuv420p10le", ["-c:v", "libsvtav1", "-preset", "12", "-crf", "50"])] {
            let ref = try source(s, format: format)
            let dist = s.file("dist-\(format).mkv")
            try Tool.ffmpeg(["-i", ref] + encoder + [dist])
            let log = s.file("vmaf-\(format).json")
            try Tool.mustRun(ffmpeg, ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", dist, "-i", ref,
                                      "-lavfi", "[0:v][1:v]libvmaf=log_fmt=json:log_path=\(log)", "-f", "null", "-"])
            let direct = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: log))) as? [String: Any])
            let expected = ((direct["frames"] as? [[String: Any]]) ?? []).compactMap { ($0["metrics"] as? [String: Any])?["vmaf"] as? Double }
            // Found on PATH this time, not given: a folder whose `ffmpeg` is the wheel's (which names its binary
            // by version), ahead of Debian's, which has no libvmaf.
            let bin = s.file("bin-\(format)")
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: bin + "/ffmpeg", withDestinationPath: ffmpeg)
            let r = try Tool.run(Tool.encoda, ["score", dist, ref, "--json"], environment: ["PATH": bin + ":/usr/bin:/bin"])
            let ours = perFrame(try report(r))
            XCTAssertEqual(ours.count, 50, format)
            XCTAssertEqual(expected.count, 50, format)
            for (o, e) in zip(ours, expected) { XCTAssertEqual(o.1, e, accuracy: 0.05, "\(format) frame \(o.0)") }
            let mean = expected.reduce(0, +) / Double(expected.count)
            print(String(format: "vmaf %@: encoda %.4f, libvmaf directly %.4f", format, try report(r)["score"] as? Double ?? .nan, mean))
            XCTAssertLessThan(mean, 99, "a real loss, not a trivial comparison")
        }
    }

    /// VMAF of every 5th frame is the full run's per-frame VMAF at those frames: libvmaf's motion feature compares
    /// each frame with the one before it in the stream, so the frames in between must reach it too (sent only every
    /// 5th, it compared frames 5 apart and read 3 or more points too high).
    func testVmafOfEveryKthFrameIsTheFullRunsScoreAtThoseFrames() throws {
        let s = Scratch()
        let ffmpeg = try Self.imageioFFmpeg
        let ref = try source(s)
        let dist = s.file("dist.mkv")
        try Tool.ffmpeg(["-i", ref, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "32", dist])
        let full = perFrame(try report(try Tool.encoda(["score", dist, ref, "--metric", "vmaf", "--json", "--vmaf-ffmpeg", ffmpeg])))
        XCTAssertEqual(full.map(\.0), Array(0..<50))
        for every in [5, 7] {
            let sub = try report(try Tool.encoda(["score", dist, ref, "--metric", "vmaf", "--every", "\(every)", "--json", "--vmaf-ffmpeg", ffmpeg]))
            let ours = perFrame(sub)
            XCTAssertEqual(ours.map(\.0), Array(stride(from: 0, to: 50, by: every)))
            for (frame, score) in ours where frame < full.count {
                XCTAssertEqual(score, full[frame].1, accuracy: 0.01, "--every \(every) frame \(frame)")
            }
            let expected = ours.map { full[$0.0].1 }.reduce(0, +) / Double(max(1, ours.count))
            print(String(format: "vmaf --every %d: %.4f; the full run's scores at the same frames: %.4f", every, sub["score"] as? Double ?? .nan, expected))
            XCTAssertEqual(sub["score"] as? Double ?? .nan, expected, accuracy: 0.01)
        }
    }

    /// SSIMULACRA 2 of every 5th frame of an SVT-AV1 encode, against PyPI's ssimulacra2 on the same frames turned to
    /// PNG by ffmpeg; once tagged BT.709 limited range and once BT.601 full range, which ffmpeg's conversion to RGB
    /// honours and encoda's must too.
    func testSsimulacra2AgreesWithThePyPIReferenceOnAnEncodedClip() throws {
        let s = Scratch()
        for (matrix, range) in [("bt709", "tv"), ("bt470bg", "pc")] {
            let tags = ["-colorspace", matrix, "-color_range", range]
            let ref = s.file("ref-\(matrix).mkv"), dist = s.file("dist-\(matrix).mkv")
            try Tool.ffmpeg(["-i", try source(s)] + tags + ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", ref])
            try Tool.ffmpeg(["-i", ref] + tags + ["-c:v", "libsvtav1", "-preset", "12", "-crf", "45", dist])
            for file in [ref, dist] {
                XCTAssertEqual(try Tool.run("ffprobe", ["-v", "error", "-show_entries", "stream=color_space,color_range", "-of", "csv=p=0", file])
                    .stdout.trimmingCharacters(in: .whitespacesAndNewlines), "\(range),\(matrix)")
            }
            let r = try Tool.encoda(["score", dist, ref, "--metric", "ssimulacra2", "--every", "5", "--json"])
            let ours = perFrame(try report(r))
            XCTAssertEqual(ours.map(\.0), Array(stride(from: 0, to: 50, by: 5)))
            let flags = ["-sws_flags", "bicubic+full_chroma_int+accurate_rnd"]
            for (name, file) in [("d", dist), ("r", ref)] {
                try Tool.ffmpeg(["-i", file] + flags + ["-vf", "select=not(mod(n\\,5))", "-fps_mode", "passthrough", "-pix_fmt", "rgb24",
                                 s.file("\(matrix)-\(name)%02d.png")])
            }
            let pairs = (1...ours.count).map { (s.file(String(format: "\(matrix)-r%02d.png", $0)), s.file(String(format: "\(matrix)-d%02d.png", $0))) }
            let expected = try PyPISsimulacra2.scores(pairs)
            for (o, e) in zip(ours, expected) {
                print(String(format: "ssimulacra2 %@ frame %2d: encoda %.3f PyPI %.3f", matrix, o.0, o.1, e))
                XCTAssertEqual(o.1, e, accuracy: 0.5, "\(matrix) frame \(o.0)")
            }
            XCTAssertLessThan(expected.min() ?? 100, 90, "a real loss, not a trivial comparison")
        }
    }

    func testBadInputIsOneLineWithTheRightStatus() throws {
        let s = Scratch()
        let ref = try source(s)
        let short = s.file("short.mkv"), small = s.file("small.mkv")
        try Tool.ffmpeg(["-i", ref, "-frames:v", "40", "-c:v", "libx264", "-preset", "ultrafast", short])
        try Tool.ffmpeg(["-i", ref, "-vf", "scale=160:120", "-c:v", "libx264", "-preset", "ultrafast", small])
        let cases: [([String], Int32, String)] = [
            (["score", s.file("missing.mkv"), ref, "--metric", "ssimulacra2"], 65, "DIST \(s.file("missing.mkv")) does not exist"),
            (["score", ref, s.file("missing.mkv"), "--metric", "ssimulacra2"], 65, "REF \(s.file("missing.mkv")) does not exist"),
            (["score", short, ref, "--metric", "ssimulacra2"], 65, "DIST has 40 frames and REF has 50"),
            (["score", ref, short, "--metric", "ssimulacra2"], 65, "DIST has 50 frames and REF has 40"),
            (["score", small, ref, "--metric", "ssimulacra2"], 65, "DIST is 160x120 and REF is 320x240"),
            (["score", ref, ref, "--every", "0"], 64, "--every must be 1 or more"),
            (["score", ref, ref, "--metric", "vmaf", "--vmaf-ffmpeg", "/usr/bin/ffmpeg"], 64, "has no libvmaf filter"),
        ]
        for (args, status, message) in cases {
            let r = try Tool.encoda(args)
            XCTAssertEqual(r.status, status, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertEqual(r.stdout, "", "nothing scored for \(args)")
        }
        // An ffmpeg that claims libvmaf but fails: its own message in one line, no hang on the pipes.
        let fake = s.file("fake-ffmpeg")
        try "#!/bin/sh\ncase \"$*\" in *-filters*) echo ' .. libvmaf VV->V fake'; exit 0;; esac\necho 'fake: no such model' >&2; exit 1\n"
            .write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let failing = try Tool.encoda(["score", ref, ref, "--vmaf-ffmpeg", fake])
        XCTAssertEqual(failing.status, 70, failing.stderr)
        XCTAssertTrue(failing.stderr.contains("the VMAF ffmpeg \(fake) ") && failing.stderr.contains(": fake: no such model"), failing.stderr)
        XCTAssertEqual(failing.stderr.split(separator: "\n").count, 1, failing.stderr)
        // No ffmpeg with libvmaf anywhere: refused before decoding, saying how to get one.
        let none = try Tool.run(Tool.encoda, ["score", ref, ref], environment: ["PATH": "/nonexistent"])
        XCTAssertEqual(none.status, 64, none.stderr)
        XCTAssertTrue(none.stderr.contains("scripts/install.sh --with-vmaf"), none.stderr)
        XCTAssertEqual(none.stderr.split(separator: "\n").count, 1, none.stderr)
    }
}
