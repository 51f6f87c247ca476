import Foundation
import XCTest

/// Image sequences as INPUT (PNG, 10-bit DPX), made by ffmpeg in each test and encoded in several chunks.
/// The oracle is ffmpeg's own image2 decode of the same files: under --lossless x264 keeps RGB (as GBR 4:4:4), so
/// both sides are compared as planar RGB (rgb24 → gbrp is a rearrangement of the same samples).
final class ImageSequenceInputTests: XCTestCase {
    private let lossless = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]
    private let flags = "bicubic+accurate_rnd+full_chroma_int"

    /// Writes `frames` images of a moving test picture as `folder/pattern`, numbered from `start`.
    private func render(_ folder: String, _ pattern: String, frames: Int, start: Int, pixFmt: String, size: String = "160x120") throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=\(size):r=24", "-frames:v", "\(frames)", "-pix_fmt", pixFmt,
                         "-start_number", "\(start)", folder + "/" + pattern])
    }

    private func manifest(_ tmp: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as! [String: Any]
    }

    /// Per-chunk records in TMP/results: how many frames each worker decoded and threw away to reach its start.
    private func framesSkipped(_ tmp: String) throws -> [Int] {
        let dir = tmp + "/results"
        return try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { name in
            let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) as! [String: Any]
            return o["framesSkipped"] as! Int
        }
    }

    /// 150 RGB PNGs given as a printf pattern: the default 24 fps is said, the plan records the pattern, every
    /// chunk starts on its frame by number (nothing decoded to skip), and the output is frame-exact with
    /// timestamps n/24.
    func testPNGSequenceIsFrameExactThroughLossless() throws {
        let s = Scratch()
        try render(s.file("seq"), "frame_%04d.png", frames: 150, start: 1, pixFmt: "rgb24")
        let pattern = s.file("seq/frame_%04d.png")
        let r = try Tool.mustRun(Tool.encoda, [pattern, s.file("out.mkv"), s.file("tmp"), "--keep"] + lossless)
        XCTAssertTrue(r.stderr.contains("encoda: image sequence: 150 frames from frame_0001.png to frame_0150.png at 24 fps (--input-fps to change)\n"), r.stderr)

        let m = try manifest(s.file("tmp"))
        XCTAssertEqual((m["input"] as! [String: Any])["absolutePath"] as? String, pattern)
        XCTAssertEqual((m["input"] as! [String: Any])["pathRelativeToWorkDirectory"] as? String, "../seq/frame_%04d.png")
        XCTAssertGreaterThanOrEqual((m["chunks"] as! [Any]).count, 3)
        XCTAssertEqual(try framesSkipped(s.file("tmp")), Array(repeating: 0, count: (m["chunks"] as! [Any]).count))

        XCTAssertEqual(try Tool.videoField(s.file("out.mkv"), "pix_fmt"), "gbrp", "RGB kept under --lossless")
        let expected = try Tool.frameHashes(pattern, filter: "format=gbrp")
        XCTAssertEqual(expected.count, 150)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv"), filter: "format=gbrp"), expected)
        let times = try Tool.frameTimes(s.file("out.mkv"))
        XCTAssertEqual(times.count, 150)
        for (n, t) in times.enumerated() { XCTAssertEqual(t, Double(n) / 24, accuracy: 0.0011, "frame \(n)") }
    }

    /// 10-bit DPX (gbrp10le) numbered from 86400, given as the folder that holds them: a 10-bit AV1 output with
    /// every frame, and through --lossless exactly ffmpeg's 10-bit conversion. The rate in the DPX film header is
    /// used; --input-fps overrides it.
    func testTenBitDPXSequenceFromAFolder() throws {
        let s = Scratch()
        let folder = s.file("A001C003")
        try render(folder, "shot_%06d.dpx", frames: 120, start: 86400, pixFmt: "gbrp10le")
        let av1 = try Tool.mustRun(Tool.encoda, [folder, s.file("av1.mkv"), s.file("tmp-av1"), "--encoder", "av1", "--preset", "12",
                                                 "--max-scene-length", "1", "--keep"])
        XCTAssertTrue(av1.stderr.contains("image sequence: 120 frames from shot_086400.dpx to shot_086519.dpx at 24 fps (--input-fps to change)"), av1.stderr)
        XCTAssertGreaterThanOrEqual((try manifest(s.file("tmp-av1"))["chunks"] as! [Any]).count, 3)
        XCTAssertEqual((try manifest(s.file("tmp-av1"))["input"] as! [String: Any])["absolutePath"] as? String, folder + "/shot_%06d.dpx")
        XCTAssertEqual(try Tool.videoField(s.file("av1.mkv"), "pix_fmt"), "yuv420p10le")
        XCTAssertEqual(try Tool.frameTimes(s.file("av1.mkv")).count, 120)

        // A DPX film header carrying 25 fps (ffmpeg writes none: move the image to offset 2048 and fill it in).
        try withFilmHeaderRate(25, in: folder)
        let h264 = try Tool.mustRun(Tool.encoda, [folder, s.file("h264.mkv"), s.file("tmp-h264")] + lossless)
        XCTAssertTrue(h264.stderr.contains("at 25 fps (from the DPX header; --input-fps to change)"), h264.stderr)
        XCTAssertEqual(try Tool.videoField(s.file("h264.mkv"), "r_frame_rate"), "25/1")
        XCTAssertEqual(try Tool.videoField(s.file("h264.mkv"), "pix_fmt"), "gbrp10le", "10-bit RGB kept under --lossless")
        let expected = try sequenceHashes(folder + "/shot_%06d.dpx", start: 86400, filter: "format=gbrp10le")
        XCTAssertEqual(expected.count, 120)
        XCTAssertEqual(try Tool.frameHashes(s.file("h264.mkv"), filter: "format=gbrp10le"), expected)

        try Tool.mustRun(Tool.encoda, [folder, s.file("fps.mkv"), s.file("tmp-fps"), "--input-fps", "30000/1001", "--quiet"] + lossless)
        XCTAssertEqual(try Tool.videoField(s.file("fps.mkv"), "r_frame_rate"), "30000/1001")
        let times = try Tool.frameTimes(s.file("fps.mkv"))
        XCTAssertEqual(times.count, 120)
        XCTAssertEqual(times.last ?? 0, 119 * 1001 / 30000, accuracy: 0.0011)
    }

    /// ffmpeg's own framemd5 of an image sequence numbered from `start`, converted as encoda converts RGB.
    private func sequenceHashes(_ pattern: String, start: Int, filter: String) throws -> [String] {
        let r = try Tool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-start_number", "\(start)", "-i", pattern,
                                        "-sws_flags", flags, "-vf", filter, "-f", "framemd5", "-"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    /// Rewrites each little-endian DPX file written by ffmpeg (image data at 1664, no industry headers) with its
    /// image at 2048 and `fps` in the film header's frame-rate field (offset 1724), as scanners and grading suites write it.
    private func withFilmHeaderRate(_ fps: Float, in folder: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".dpx") {
            let url = URL(fileURLWithPath: folder + "/" + name)
            var d = [UInt8](try Data(contentsOf: url))
            XCTAssertEqual(Array(d[0..<4]), Array("XPDS".utf8), "ffmpeg writes little-endian DPX")
            func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
            XCTAssertEqual(Array(d[4..<8]), le32(1664))
            let image = Array(d[1664...])
            d = Array(d[0..<1664]) + [UInt8](repeating: 0, count: 2048 - 1664)
            d.replaceSubrange(4..<8, with: le32(2048))
            d.replaceSubrange(16..<20, with: le32(UInt32(2048 + image.count)))
            d.replaceSubrange(1724..<1728, with: le32(fps.bitPattern))
            try Data(d + image).write(to: url)
        }
    }

    /// A missing image in the middle is refused before any work, naming it and the frames around it; nothing is
    /// written at OUTPUT or into TMP. A truncated image is named after the scene pass. A folder holding two
    /// sequences is refused naming both.
    func testMissingImageAndAmbiguousFolderAreRefused() throws {
        let s = Scratch()
        try render(s.file("seq"), "frame_%04d.png", frames: 30, start: 1, pixFmt: "rgb24")
        XCTAssertEqual(unlink(s.file("seq/frame_0011.png")), 0)
        let r = try Tool.encoda([s.file("seq/frame_%04d.png"), s.file("out.mkv"), s.file("tmp")] + lossless)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("frame_0011.png is missing: the sequence jumps from 0010 to 0012"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("tmp/job.json")))
        let folder = try Tool.encoda([s.file("seq"), s.file("out.mkv"), s.file("tmp")] + lossless)
        XCTAssertEqual(folder.status, 65, folder.stderr)
        XCTAssertTrue(folder.stderr.contains("frame_0011.png is missing"), folder.stderr)

        // An image cut short by a failed copy is found by the scene pass, and named.
        try render(s.file("seq"), "frame_%04d.png", frames: 30, start: 1, pixFmt: "rgb24")
        XCTAssertEqual(truncate(s.file("seq/frame_0020.png"), 100), 0)
        let cut = try Tool.encoda([s.file("seq"), s.file("out.mkv"), s.file("tmp"), "--quiet"] + lossless)
        XCTAssertEqual(cut.status, 65, cut.stderr)
        XCTAssertTrue(cut.stderr.contains("has 30 images but only 29 decode: \(s.file("seq/frame_0020.png")) is damaged"), cut.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))

        try render(s.file("seq"), "frame_%04d.png", frames: 30, start: 1, pixFmt: "rgb24")
        try render(s.file("seq"), "matte_%02d.tif", frames: 3, start: 1, pixFmt: "rgb24")
        let two = try Tool.encoda([s.file("seq"), s.file("out.mkv"), s.file("tmp")] + lossless)
        XCTAssertEqual(two.status, 65, two.stderr)
        XCTAssertTrue(two.stderr.contains("holds 2 image sequences: frame_%04d.png (30 images), matte_%02d.tif (3 images)"), two.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.file("out.mkv")))
    }

    /// The job's fingerprint covers every image: after one image in the middle (not one of the sampled first,
    /// middle and last) is rendered again, a re-run refuses the job kept in TMP, and --restart plans it anew.
    func testChangedImageChangesTheFingerprint() throws {
        let s = Scratch()
        try render(s.file("seq"), "f_%03d.png", frames: 40, start: 0, pixFmt: "rgb24")
        let args = [s.file("seq/f_%03d.png"), s.file("out.mkv"), s.file("tmp"), "--quiet", "--keep"] + lossless
        try Tool.mustRun(Tool.encoda, args)
        let before = (try manifest(s.file("tmp"))["input"] as! [String: Any])["fingerprint"] as! String
        try Tool.ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=160x120", "-frames:v", "1", "-pix_fmt", "rgb24", "-update", "1", s.file("seq/f_007.png")])
        let again = try Tool.encoda(args + ["-y"])
        XCTAssertEqual(again.status, 74, again.stderr)
        XCTAssertTrue(again.stderr.contains("holds a job for another input"), again.stderr)
        try Tool.mustRun(Tool.encoda, args + ["-y", "--restart"])
        let after = (try manifest(s.file("tmp"))["input"] as! [String: Any])["fingerprint"] as! String
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(try Tool.frameHashes(s.file("out.mkv"), filter: "format=gbrp")[7],
                       try Tool.frameHashes(s.file("seq/f_%03d.png"), filter: "format=gbrp")[7],
                       "the new image is encoded")
    }
}
