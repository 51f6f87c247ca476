import EncodaModel
import Foundation
import XCTest

/// encoda's in-process SSIMULACRA 2 against the reference implementation in PyPI's `ssimulacra2` package, on real
/// pictures distorted by real encoders at several qualities, by blur and by noise.
final class Ssimulacra2ValidationTests: XCTestCase {

    func testScoresAgreeWithThePyPIReferenceAcrossQualityLevels() throws {
        let s = Scratch()
        // Two pictures: synthetic with text and gradients, and real footage (of an odd height at the smaller scales).
        let sources: [(String, [String])] = [
            ("testsrc2", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "1"]),
            ("bikes", ["-ss", "2", "-i", Tool.media("bikes.mp4"), "-vf", "scale=320:136", "-frames:v", "1"]),
        ]
        // Distortions: the picture through an encoder and back, or a filter.
        let distortions: [(String, [String])] = [
            ("x264-crf18", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"]),
            ("x264-crf34", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "34", "-pix_fmt", "yuv420p"]),
            ("x264-crf48", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "48", "-pix_fmt", "yuv420p"]),
            ("svt-crf30", ["-c:v", "libsvtav1", "-preset", "12", "-crf", "30", "-pix_fmt", "yuv420p"]),
            ("svt-crf60", ["-c:v", "libsvtav1", "-preset", "12", "-crf", "60", "-pix_fmt", "yuv420p"]),
            ("blur", ["-vf", "gblur=sigma=1.2"]),
            ("noise", ["-vf", "noise=alls=25:allf=u"]),
        ]
        var pairs: [(name: String, ref: String, dist: String)] = []
        for (name, input) in sources {
            let ref = s.file("\(name).png")
            try Tool.ffmpeg(input + ["-pix_fmt", "rgb24", ref])
            for (kind, args) in distortions {
                let dist = s.file("\(name)-\(kind).png")
                if kind.hasPrefix("x264") || kind.hasPrefix("svt") {
                    let coded = s.file("\(name)-\(kind).mkv")
                    try Tool.ffmpeg(["-i", ref] + args + [coded])
                    try Tool.ffmpeg(["-i", coded, "-pix_fmt", "rgb24", dist])
                } else {
                    try Tool.ffmpeg(["-i", ref] + args + ["-pix_fmt", "rgb24", dist])
                }
                pairs.append(("\(name) \(kind)", ref, dist))
            }
            pairs.append(("\(name) identical", ref, ref))
        }
        let reference = try PyPISsimulacra2.scores(pairs.map { ($0.ref, $0.dist) })
        var worst = 0.0
        var seen: [Double] = []
        for (pair, expected) in zip(pairs, reference) {
            let ours = Ssimulacra2.score(reference: try PNG.read(pair.ref), distorted: try PNG.read(pair.dist))
            print(String(format: "ssimulacra2 %-26@ encoda %8.3f  PyPI %8.3f  diff %+.3f", pair.name as NSString, ours, expected, ours - expected))
            XCTAssertEqual(ours, expected, accuracy: 0.5, pair.name)
            worst = max(worst, abs(ours - expected))
            seen.append(expected)
        }
        print(String(format: "ssimulacra2: %d pairs, largest difference %.3f", pairs.count, worst))
        // The set spans the scale: from visually lossless to badly damaged.
        XCTAssertGreaterThan(seen.max() ?? 0, 85)
        XCTAssertLessThan(seen.min() ?? 100, 30)
    }

    /// Not a timed assertion: prints how long one 1080p frame takes, and checks the score against the reference.
    func testA1080pFrameScoresAndReportsItsTime() throws {
        let s = Scratch()
        let ref = s.file("ref.png"), dist = s.file("dist.png"), coded = s.file("dist.mkv")
        try Tool.ffmpeg(["-ss", "1", "-i", Tool.media("bigbuckbunny.mp4"), "-vf", "scale=1920:1080", "-frames:v", "1", "-pix_fmt", "rgb24", ref])
        try Tool.ffmpeg(["-i", ref, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p", coded])
        try Tool.ffmpeg(["-i", coded, "-pix_fmt", "rgb24", dist])
        let a = try PNG.read(ref), b = try PNG.read(dist)
        let clock = ContinuousClock()
        var score = 0.0
        let runs = 2
        let elapsed = clock.measure { for _ in 0..<runs { score = Ssimulacra2.score(reference: a, distorted: b) } }
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        print(String(format: "ssimulacra2 1920x1080: %.0f ms per frame (mean of %d), score %.3f", ms / Double(runs), runs, score))
        XCTAssertEqual(score, try PyPISsimulacra2.scores([(ref, dist)])[0], accuracy: 0.5)
    }
}

/// The `ssimulacra2` package from PyPI (installed by scripts/setup.sh), run once for many pairs.
enum PyPISsimulacra2 {
    static func scores(_ pairs: [(reference: String, distorted: String)]) throws -> [Double] {
        let script = """
            import sys
            from ssimulacra2 import compute_ssimulacra2
            args = sys.argv[1:]
            for i in range(0, len(args), 2):
                print(compute_ssimulacra2(args[i], args[i + 1]))
            """
        let r = try Tool.run("/usr/bin/env", ["python3", "-c", script] + pairs.flatMap { [$0.reference, $0.distorted] })
        guard r.status == 0 else {
            throw NSError(domain: "ssimulacra2", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey:
                "python3 ssimulacra2 failed (scripts/setup.sh installs it): \(r.stderr)"])
        }
        let scores = r.stdout.split(separator: "\n").compactMap { Double($0) }
        XCTAssertEqual(scores.count, pairs.count, r.stdout)
        return scores
    }
}

/// Reads a picture file as an `SRGBImage`, through ffmpeg's PNG decoder (an independent reader).
enum PNG {
    static func read(_ path: String) throws -> SRGBImage {
        let size = try Tool.run("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path])
        let wh = size.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
        guard wh.count == 2 else { throw NSError(domain: "png", code: 1, userInfo: [NSLocalizedDescriptionKey: "no size for \(path)"]) }
        let raw = path + ".rgb"
        defer { unlink(raw) }
        try Tool.ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
        return SRGBImage(width: wh[0], height: wh[1], pixels: bytes.map { Float($0) / 255 })
    }
}
