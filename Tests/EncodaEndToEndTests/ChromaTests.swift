import Foundation
import XCTest

/// Chroma, bit depth and RGB: --lossless keeps what x264 can code (4:2:0, 4:2:2, 4:4:4 and planar RGB at 8 and 10
/// bits), refuses what it cannot unless --pix-fmt says what to convert to, and every conversion is announced.
/// Checked with ffprobe and `ffmpeg -f framemd5` against the source (or ffmpeg's own conversion of it).
final class ChromaTests: XCTestCase {
    /// libswscale's flags for encoda's conversions (PictureConverter), for ffmpeg to make the same pictures.
    private let swsFlags = "bicubic+accurate_rnd+full_chroma_int"

    /// 100 frames (4 s at 25 fps) of a moving test pattern, made with the given codec and pixel format.
    private func clip(_ path: String, _ codec: [String], _ pixFmt: String, size: String = "320x240") throws -> String {
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=\(size):r=25", "-frames:v", "100"] + codec + ["-pix_fmt", pixFmt, path])
        return path
    }

    private func stream(_ file: String, _ field: String) throws -> String { try Tool.videoField(file, field) }

    private func chunkCount(_ tmp: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: tmp + "/results").filter { $0.hasSuffix(".json") }.count
    }

    /// ProRes 422 HQ, 10-bit 4:2:2, through --lossless in several chunks: the output is 4:2:2 10-bit H.264 whose
    /// every frame decodes to the source's, with the source's timestamps. x264 codes lossless in High 4:4:4
    /// Predictive (the only profile with transform bypass) whatever the chroma; a lossy 4:2:2 encode is High 4:2:2.
    func testLosslessProRes422TenBitStaysFrameExactIn422TenBit() throws {
        let s = Scratch()
        let src = try clip(s.file("prores.mov"), ["-c:v", "prores_ks", "-profile:v", "3"], "yuv422p10le")
        let out = s.file("out.mkv")
        let args = [src, out, s.file("tmp"), "--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1", "--keep"]
        let plan = try Tool.mustRun(Tool.encoda, args + ["--dry-run"])
        XCTAssertTrue(plan.stdout.contains("lossless yuv422p10le"), plan.stdout)
        XCTAssertFalse(plan.stdout.contains("convert:"), plan.stdout)
        let r = try Tool.mustRun(Tool.encoda, args)
        XCTAssertFalse(r.stderr.contains("INPUT is"), "nothing is converted: \(r.stderr)")
        XCTAssertGreaterThanOrEqual(try chunkCount(s.file("tmp")), 2)
        XCTAssertEqual(try stream(out, "pix_fmt"), "yuv422p10le")
        XCTAssertEqual(try stream(out, "profile"), "High 4:4:4 Predictive")
        let hashes = try Tool.frameHashes(src)
        XCTAssertEqual(hashes.count, 100)
        XCTAssertEqual(try Tool.frameHashes(out), hashes, "every frame must decode to the source frame at the same position")
        XCTAssertEqual(try Tool.frameTimes(out), try Tool.frameTimes(src), "timestamps")

        let lossy = s.file("lossy.mp4")
        try Tool.mustRun(Tool.encoda, [src, lossy, s.file("tmp-lossy"), "--encoder", "h264", "--preset", "ultrafast", "--pix-fmt", "yuv422p10le", "--quiet"])
        XCTAssertEqual(try stream(lossy, "pix_fmt"), "yuv422p10le")
        XCTAssertEqual(try stream(lossy, "profile"), "High 4:2:2")
        XCTAssertEqual(try Tool.frameTimes(lossy).count, 100)
    }

    /// 4:4:4 8-bit YUV, packed RGB (PNG in Matroska) and 10-bit planar RGB stay exactly what they are; RGB is
    /// compared as RGB.
    func testLosslessKeeps444AndRGB() throws {
        let s = Scratch()
        let cases: [(name: String, codec: [String], pixFmt: String, out: String, compareAs: String?)] = [
            ("y444.mkv", ["-c:v", "ffv1"], "yuv444p", "yuv444p", nil),
            ("rgb.mkv", ["-c:v", "png"], "rgb24", "gbrp", "rgb24"),
            ("rgb10.mkv", ["-c:v", "ffv1"], "gbrp10le", "gbrp10le", nil),
        ]
        for c in cases {
            let src = try clip(s.file(c.name), c.codec, c.pixFmt, size: "160x120")
            XCTAssertEqual(try stream(src, "pix_fmt"), c.pixFmt, c.name)
            let out = s.file("out-" + c.name)
            let tmp = s.file("tmp-" + c.name)
            try Tool.mustRun(Tool.encoda, [src, out, tmp, "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                                           "--max-scene-length", "1", "--keep", "--quiet"])
            XCTAssertGreaterThanOrEqual(try chunkCount(tmp), 2, c.name)
            XCTAssertEqual(try stream(out, "pix_fmt"), c.out, c.name)
            let filter = c.compareAs.map { "format=\($0)" }
            let expected = try Tool.frameHashes(src, filter: filter)
            XCTAssertEqual(expected.count, 100, c.name)
            XCTAssertEqual(try Tool.frameHashes(out, filter: filter), expected, c.name)
            XCTAssertEqual(try Tool.frameTimes(out), try Tool.frameTimes(src), c.name)
        }
    }

    /// 12-bit and alpha cannot be kept: --lossless alone refuses them (exit 65, nothing at OUTPUT, the --pix-fmt
    /// to give named); with --pix-fmt they are converted as ffmpeg converts them, and the conversion is said.
    func testTwelveBitAndAlphaAreRefusedUnlessPixFmtSaysWhatToConvertTo() throws {
        let s = Scratch()
        let cases: [(name: String, pixFmt: String, to: String, note: String)] = [
            ("y12.mkv", "yuv422p12le", "yuv422p10le",
             "encoda: INPUT is 4:2:2 12-bit (yuv422p12le); --pix-fmt yuv422p10le asks for 10 bits, so the samples are rounded to 10 bits (yuv422p10le)\n"),
            ("alpha.mkv", "yuva420p", "yuv420p",
             "encoda: INPUT is 4:2:0 8-bit with alpha (yuva420p); x264 encodes no alpha, so the alpha channel is dropped\n"),
        ]
        for c in cases {
            let src = try clip(s.file(c.name), ["-c:v", "ffv1"], c.pixFmt, size: "160x120")
            XCTAssertEqual(try stream(src, "pix_fmt"), c.pixFmt, c.name)
            let out = s.file("out-" + c.name)
            let args = [src, out, s.file("tmp-" + c.name), "--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]
            let refused = try Tool.encoda(args)
            XCTAssertEqual(refused.status, 65, c.name + ": " + refused.stderr)
            XCTAssertTrue(refused.stderr.contains("--lossless cannot keep it; add --pix-fmt \(c.to)"), refused.stderr)
            XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), c.name)

            let plan = try Tool.mustRun(Tool.encoda, args + ["--pix-fmt", c.to, "--dry-run"])
            XCTAssertTrue(plan.stdout.contains("convert:   " + c.note.dropFirst("encoda: ".count).dropLast()), plan.stdout)
            let r = try Tool.mustRun(Tool.encoda, args + ["--pix-fmt", c.to])
            XCTAssertTrue(r.stderr.contains(c.note), r.stderr)
            XCTAssertEqual(try stream(out, "pix_fmt"), c.to, c.name)
            let expected = try Tool.frameHashes(src, filter: "format=\(c.to)", swsFlags: swsFlags)
            XCTAssertEqual(expected.count, 100, c.name)
            XCTAssertEqual(try Tool.frameHashes(out), expected, c.name)
        }
    }

    /// SVT-AV1 takes 4:2:0 only: a 4:2:2 10-bit source becomes 4:2:0 10-bit, said in the plan and in the run;
    /// --pix-fmt yuv422p10le with AV1 is refused as a usage error.
    func testAV1Of422SourceIsSubsampledTo420AndSaysSo() throws {
        let s = Scratch()
        let src = try clip(s.file("prores.mov"), ["-c:v", "prores_ks", "-profile:v", "3"], "yuv422p10le")
        let out = s.file("out.mkv")
        let args = [src, out, s.file("tmp"), "--preset", "12", "--max-scene-length", "1"]
        let note = "INPUT is 4:2:2 10-bit (yuv422p10le); SVT-AV1 encodes 4:2:0, so the chroma is subsampled to yuv420p10le"
        let plan = try Tool.mustRun(Tool.encoda, args + ["--dry-run"])
        XCTAssertTrue(plan.stdout.contains("convert:   " + note), plan.stdout)
        let r = try Tool.mustRun(Tool.encoda, args)
        XCTAssertTrue(r.stderr.contains("encoda: " + note + "\n"), r.stderr)
        XCTAssertEqual(try stream(out, "codec_name"), "av1")
        XCTAssertEqual(try stream(out, "pix_fmt"), "yuv420p10le")
        let st = try Tool.frameTimes(src), ot = try Tool.frameTimes(out)
        XCTAssertEqual(ot.count, 100)
        for (a, b) in zip(ot, st) { XCTAssertEqual(a, b, accuracy: 0.0011) } // Matroska stores milliseconds
        let quiet = try Tool.encoda(args + ["--quiet", "-y"])
        XCTAssertEqual(quiet.stderr, "", "--quiet says nothing")

        let refused = try Tool.encoda([src, s.file("x.mkv"), s.file("tmp-x"), "--pix-fmt", "yuv422p10le"])
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("SVT-AV1 1.4.1 encodes only 4:2:0"), refused.stderr)
    }
}
