import Foundation
import XCTest

/// x264 VBV (`--max-bitrate`, `--bufsize`) in the joined file, not only inside each chunk: the file keeps to the
/// maximum rate, and a decoder's buffer, filled at that rate and emptied by each frame in decode order, runs dry at
/// most for a few frames after a chunk boundary (each chunk assumes a buffer 10 % full; the note says so).
final class VBVTests: XCTestCase {
    /// Frames (decode order) at which a buffer of `size` bits, filled at `rate` bits/s and `fullness` × size full at
    /// the start, holds less than the frame it must hand over.
    private func underflows(_ file: String, rate: Double, size: Double, fullness: Double, fps: Double) throws -> [Int] {
        let r = try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0", file])
        let sizes = r.stdout.split(separator: "\n").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        XCTAssertGreaterThan(sizes.count, 0)
        var level = fullness * size, dry: [Int] = []
        for (i, bytes) in sizes.enumerated() {
            level -= bytes * 8
            if level < 0 { dry.append(i); level = 0 }
            level = min(size, level + rate / fps)
        }
        return dry
    }

    func testTheJoinedFileKeepsTheBufferFromRunningDry() throws {
        let s = Scratch()
        let clip = s.file("hard.mkv"), out = s.file("out.mkv")
        // Six seconds of a noisy fractal blended with a test pattern, lossless: hard enough that x264 spends the
        // whole buffer, in three chunks.
        try Tool.ffmpeg(["-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                         "-filter_complex", "[0:v]trim=end_frame=150,noise=alls=30:allf=t[a];[1:v]trim=end_frame=150,noise=alls=20:allf=t[b];[a][b]blend=all_mode=average[v]",
                         "-map", "[v]", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", clip])
        let r = try Tool.mustRun(Tool.encoda, [clip, out, s.file("tmp"), "--encoder", "h264", "--preset", "ultrafast", "--crf", "18",
                                               "--max-bitrate", "300k", "--bufsize", "300k", "--max-scene-length", "1", "--keep"])
        let chunks = try FileManager.default.contentsOfDirectory(atPath: s.file("tmp") + "/results").count
        XCTAssertGreaterThanOrEqual(chunks, 3, r.stderr)
        XCTAssertEqual(try Tool.frameHashes(out).count, 150)
        XCTAssertTrue(r.stderr.contains("a strict VBV check can still fail"), "the limit is said: \(r.stderr)")
        // Over the file, the rate stays at the maximum (x264 itself allows the buffer's first tenth on top).
        let seconds = 150.0 / 25, bytes = Double(try Tool.mustRun("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
            "packet=size", "-of", "csv=p=0", out]).stdout.split(separator: "\n").compactMap { Int($0) }.reduce(0, +))
        XCTAssertLessThanOrEqual(bytes * 8 / seconds, 300_000 * 1.05 + 0.1 * 300_000 / seconds, "the average bit rate")
        // A chunk cannot know where the one before left the buffer: x264 may leave less than the tenth the next one
        // assumes, so a few frames after a boundary can run dry (8 of 150 here; 51 at x264's own 0.9, which
        // also spent 464 kb/s of the 300k maximum).
        let dry = try underflows(out, rate: 300_000, size: 300_000, fullness: 0.1, fps: 25)
        XCTAssertLessThanOrEqual(dry.count, 150 / 10, "the buffer ran dry at these frames (chunk boundaries every 50): \(dry)")
    }
}
