import Foundation
import XCTest

/// A farm worker that cannot score with VMAF refuses a `--metric vmaf` job before claiming anything (exit 78, one
/// line naming the job and the fix), instead of failing every chunk it claims three times and quarantining the job
/// for all workers. A worker given the libvmaf ffmpeg then does the job.
final class VmafWorkerTests: XCTestCase {
    private var imageioFFmpeg: String {
        get throws {
            let r = try Tool.run("/usr/bin/env", ["python3", "-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"])
            guard r.status == 0 else { throw XCTSkip("imageio-ffmpeg is not installed (scripts/setup.sh installs it): \(r.stderr)") }
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func testAWorkerWithoutLibvmafRefusesAVmafJobAndClaimsNothing() throws {
        let vmaf = try imageioFFmpeg
        let s = Scratch()
        let clip = s.file("in.mkv"), out = s.file("out.mkv"), tmp = s.file("tmp")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast",
                         "-crf", "10", "-pix_fmt", "yuv420p", clip])
        let coordinator = try Background(Tool.encoda, [clip, out, tmp, "--workers", "0", "--encoder", "h264", "--preset", "ultrafast",
                                                       "--target-quality", "90", "--metric", "vmaf", "--vmaf-ffmpeg", vmaf,
                                                       "--max-scene-length", "1", "--no-segmented-analysis", "--quiet"],
                                         log: s.file("coordinator.log"))
        defer { coordinator.stop() }
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: tmp + "/job.json"), Date() < deadline { usleep(100_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/job.json"), coordinator.output)

        // Debian's ffmpeg has no libvmaf.
        let refused = try Tool.run(Tool.encoda, ["worker", tmp, "--exit-when-idle", "--vmaf-ffmpeg", "/usr/bin/ffmpeg"])
        XCTAssertEqual(refused.status, 78, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("cannot take job") && refused.stderr.contains("scored with VMAF")
                      && refused.stderr.contains("--vmaf-ffmpeg"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").filter { $0.contains("encoda") }.count, 1, refused.stderr)
        for folder in ["results", "failures", "quarantine", "probes"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp + "/" + folder)) ?? []
            XCTAssertEqual(names.filter { !$0.hasPrefix(".") }, [], "\(folder): the refusing worker claimed and recorded nothing")
        }

        let worker = try Tool.run(Tool.encoda, ["worker", tmp, "--exit-when-idle", "--vmaf-ffmpeg", vmaf])
        XCTAssertEqual(worker.status, 0, worker.stderr)
        XCTAssertEqual(coordinator.wait(), 0, coordinator.output)
        XCTAssertEqual(try Tool.frameHashes(out).count, 50)
        // status says how quality was chosen: the target, not the unused --crf default.
        let text = try Tool.encoda(["status", tmp]).stdout
        XCTAssertTrue(text.contains("settings    h264 preset ultrafast target vmaf 90"), text)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(Tool.encoda(["status", tmp, "--json"]).stdout.utf8)) as? [String: Any])
        let settings = try XCTUnwrap(json["settings"] as? [String: Any])
        XCTAssertEqual(settings["targetQuality"] as? Double, 90)
        XCTAssertEqual(settings["metric"] as? String, "vmaf")
        XCTAssertNil(settings["bitRate"])
    }
}
