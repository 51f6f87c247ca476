import Foundation
import XCTest

/// End-to-end tests of what a source carries beside its pixels (issue 15): rotation, HDR10 static metadata,
/// start timecode and the range flag. Each source is made with ffmpeg; OUTPUT is read back with ffprobe and
/// `ffmpeg -f framemd5`.
final class SourceMetadataTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "encoda-meta-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// A 320x240 H.264 clip whose MP4 display matrix rotates it (ffprobe shows rotation=90).
    private func rotatedClip() throws -> String {
        let plain = work + "/plain.mp4", rotated = work + "/rotated.mp4"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3", "-c:v", "libx264", "-preset", "ultrafast",
                         "-g", "25", "-pix_fmt", "yuv420p", plain])
        try Tool.ffmpeg(["-i", plain, "-c", "copy", "-metadata:s:v", "rotate=90", rotated])
        XCTAssertEqual(try rotation(rotated), "90")
        return rotated
    }

    private func rotation(_ file: String) throws -> String {
        let r = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream_side_data=rotation",
                                         "-of", "default=nw=1:nk=1", file])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func size(_ file: String) throws -> String {
        "\(try Tool.videoField(file, "width"))x\(try Tool.videoField(file, "height"))"
    }

    func testRotationIsKeptInMP4AndTurnedIntoThePixelsOfMatroska() throws {
        let src = try rotatedClip()
        let lossless = ["--encoder", "h264", "--lossless", "--preset", "ultrafast", "--max-scene-length", "1"]

        // MP4 holds the display matrix: pixels as stored, rotation kept.
        let mp4 = work + "/o.mp4"
        let a = try Tool.encoda([src, mp4, work + "/t1"] + lossless)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertFalse(a.stderr.contains("rotated"), a.stderr)
        XCTAssertEqual(try rotation(mp4), "90")
        XCTAssertEqual(try size(mp4), "320x240")
        XCTAssertEqual(try Tool.frameHashes(mp4), try Tool.frameHashes(src)) // both shown rotated by ffmpeg

        // Matroska cannot: the frames are ffmpeg's autorotated decode, 240x320, and the run says so.
        let mkv = work + "/o.mkv"
        let b = try Tool.encoda([src, mkv, work + "/t2"] + lossless)
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stderr.contains("INPUT is rotated 90°") && b.stderr.contains(".mkv cannot carry the rotation, so the pixels are rotated"), b.stderr)
        XCTAssertEqual(try size(mkv), "240x320")
        let expected = try Tool.frameHashes(src) // ffmpeg autorotates by default
        XCTAssertEqual(expected.count, 75)
        XCTAssertEqual(try Tool.frameHashes(mkv), expected)
        XCTAssertEqual(try Tool.frameTimes(mkv), try Tool.frameTimes(src))

        // --no-autorotate keeps the pixels as stored, and warns.
        let kept = work + "/kept.mkv"
        let c = try Tool.encoda([src, kept, work + "/t3", "--no-autorotate"] + lossless)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stderr.contains("--no-autorotate keeps the pixels as stored"), c.stderr)
        XCTAssertEqual(try size(kept), "320x240")
        XCTAssertEqual(try Tool.frameHashes(kept), try Tool.frameHashes(work + "/plain.mp4")) // the stored pixels
    }

    func testHDR10MetadataReachesTheAV1OutputAndItsContainer() throws {
        let src = work + "/hdr.mkv"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-pix_fmt", "yuv420p10le",
                         "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                         "log-level=error:keyint=25:hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
                         src])
        let out = work + "/o.mkv"
        let r = try Tool.encoda([src, out, work + "/t", "--encoder", "av1", "--preset", "12", "--max-scene-length", "1", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // In the AV1 bitstream (metadata OBUs, read back by the decoder as frame side data)…
        let frames = try Tool.run("ffprobe", ["-v", "error", "-show_frames", "-read_intervals", "%+#1", "-show_entries", "frame=side_data_list", out]).stdout
        for line in ["red_x=44564/65536", "green_y=45220/65536", "white_point_x=20493/65536", "max_luminance=256000/256",
                     "max_content=1000", "max_average=400"] {
            XCTAssertTrue(frames.contains(line), "\(line) missing from the AV1 frames:\n\(frames)")
        }
        // …and in Matroska's MasteringMetadata and MaxCLL/MaxFALL (floats there, read back as reduced fractions).
        let stream = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_streams", out]).stdout
        for line in ["red_x=17/25", "red_y=8/25", "green_x=53/200", "green_y=69/100", "blue_x=3/20", "blue_y=3/50",
                     "white_point_x=3127/10000", "white_point_y=329/1000",
                     "max_luminance=1000/1", "min_luminance=1/10000", "max_content=1000", "max_average=400",
                     "color_transfer=smpte2084"] {
            XCTAssertTrue(stream.contains(line), "\(line) missing from the Matroska stream:\n\(stream)")
        }
        XCTAssertEqual(try Tool.frameHashes(out).count, 50)

        // x264 writes the SEI and MP4 the mdcv/clli boxes.
        let mp4 = work + "/o.mp4"
        let h = try Tool.encoda([src, mp4, work + "/t2", "--encoder", "h264", "--preset", "ultrafast", "--quiet"])
        XCTAssertEqual(h.status, 0, h.stderr)
        let boxes = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_streams", mp4]).stdout
        XCTAssertTrue(boxes.contains("red_x=34000/50000") && boxes.contains("max_content=1000"), boxes)
        let sei = try Tool.run("ffmpeg", ["-hide_banner", "-i", mp4, "-c", "copy", "-bsf:v", "trace_headers", "-frames:v", "1", "-f", "null", "-"]).stderr
        XCTAssertTrue(sei.contains("Mastering Display Colour Volume") && sei.contains("= 10000000"), "no mastering display SEI")
    }

    func testStartTimecodeFromMPEG2GOPGoesIntoMOVAndMatroska() throws {
        let src = work + "/tc.ts"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-c:v", "mpeg2video", "-g", "12",
                         "-gop_timecode", "01:00:00:00", src])
        let mov = work + "/o.mov", mkv = work + "/o.mkv"
        for (out, tmp) in [(mov, "/t1"), (mkv, "/t2")] {
            let r = try Tool.encoda([src, out, work + tmp, "--encoder", "h264", "--preset", "ultrafast", "--max-scene-length", "1", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let movTags = try Tool.run("ffprobe", ["-v", "error", "-show_streams", mov]).stdout
        XCTAssertTrue(movTags.contains("TAG:handler_name=TimeCodeHandler") && movTags.contains("TAG:timecode=01:00:00:00"), movTags)
        let mkvTags = try Tool.run("ffprobe", ["-v", "error", "-show_streams", mkv]).stdout
        XCTAssertTrue(mkvTags.contains("TAG:TIMECODE=01:00:00:00"), mkvTags)
    }

    func testLimitedRangeOnlySourceKeepsItsRangeInMP4() throws {
        let src = work + "/tv.mkv"
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
                         "-color_range", "tv", src])
        XCTAssertEqual(try Tool.videoField(src, "color_range"), "tv")
        XCTAssertEqual(try Tool.videoField(src, "color_primaries"), "unknown")
        let out = work + "/o.mp4"
        let r = try Tool.encoda([src, out, work + "/t", "--encoder", "h264", "--preset", "ultrafast", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tool.videoField(out, "color_range"), "tv")
    }
}
