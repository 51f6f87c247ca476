import EncodaMedia
import EncodaModel
import EncodaPipeline
import Foundation
import XCTest

/// The streaming planner on real measurements: each clip's changes from a whole-file `ScenePass.run`, fed in
/// segment-sized pieces, give exactly the coordinator's whole-file plan (`JobSetup.cuts`, `JobSetup.shots`,
/// `JobPlanner.chunks`), never revised on the way. Fed one frame at a time, the frames past each chunk's end the
/// planner needed before returning it are printed: the latency streaming adds.
final class StreamingPlanMediaTests: XCTestCase {
    private var clips: Clips!

    override func setUpWithError() throws { clips = try Clips() }
    override func tearDownWithError() throws { clips.remove() }

    static let settingsTried = [SceneSettings(), SceneSettings(maxSceneSeconds: 2), SceneSettings(maxSceneSeconds: 0),
                                SceneSettings(threshold: 8, minSceneLength: 12, maxSceneSeconds: 1)]

    /// The shots of make_synthetic.sh (/work/shared/media), at 320x180: cuts 75, 105, 230, 330, 555, 605, 645, 1445,
    /// 1505, one shot 32 s long. 1615 frames.
    static let syntheticShots: [(String, Int)] = [
        ("testsrc2=s=320x180:r=25", 75), ("mandelbrot=s=320x180:r=25", 30),
        ("life=s=320x180:r=25:seed=42:mold=10:ratio=0.3:life_color=#00ff80:death_color=#c83232,trim=start_frame=40,setpts=PTS-STARTPTS", 125),
        ("smptehdbars=s=320x180:r=25,noise=alls=4:allf=t", 100),
        ("gradients=s=320x180:r=25:seed=5:n=4:c0=#0040ff:c1=#ff8000:c2=#20c020:c3=#f0f0f0:speed=0.02", 225),
        ("cellauto=s=320x180:r=25:rule=110:random_fill_ratio=0.5:random_seed=3,trim=start_frame=25,setpts=PTS-STARTPTS", 50),
        ("rgbtestsrc=s=320x180:r=25,hue=H=2*PI*t", 40),
        ("life=s=256x144:r=25:seed=1234:mold=4:ratio=0.4:life_color=#ffd040:death_color=#2040a0:mold_color=#102030,trim=start_frame=60,setpts=PTS-STARTPTS,scale=320:180:flags=neighbor", 800),
        ("colorspectrum=s=320x180:r=25:type=all,hue=H=PI*t", 60), ("testsrc=s=320x180:r=25", 110),
    ]

    func synthetic() throws -> String {
        var args: [String] = []
        var graph = ""
        for (i, (source, frames)) in Self.syntheticShots.enumerated() {
            args += ["-f", "lavfi", "-i", source]
            graph += "[\(i):v]trim=end_frame=\(frames),setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v\(i)];"
        }
        graph += Self.syntheticShots.indices.map { "[v\($0)]" }.joined() + "concat=n=\(Self.syntheticShots.count):v=1:a=0[out]"
        return try clips.make("synthetic.mp4", args + ["-filter_complex", graph, "-map", "[out]", "-c:v", "libx264",
                                                      "-preset", "veryfast", "-crf", "20", "-g", "250"])
    }

    static func media(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Media/" + name).path
    }

    func testRealClipsStreamTheirWholeFilePlan() throws {
        let made = try clips.make("made.mkv", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=24000/1001", "-f", "lavfi",
                                               "-i", "mandelbrot=s=320x240:r=24000/1001",
                                               "-filter_complex", "[0:v]trim=end_frame=130[a];[1:v]trim=end_frame=170[b];[a][b]concat=n=2:v=1:a=0,format=yuv420p[out]",
                                               "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", "-g", "48"])
        let clips = [("synthetic cuts", try synthetic()), ("bikes.mp4", Self.media("bikes.mp4")), ("ffmpeg-made", made)]
        for (name, path) in clips {
            let pass = try ScenePass.run(input: path, encoder: .av1, threads: 1)
            let cache = SceneCache(fingerprint: name, video: pass.video, index: pass.index, changes: pass.changes,
                                   settings: SceneSettings(), cuts: [])
            if name == "synthetic cuts" {
                XCTAssertEqual(pass.index.frameCount, 1615)
                XCTAssertEqual(CutDetector.cuts(changes: pass.changes, settings: SceneSettings()),
                               [75, 105, 230, 330, 555, 605, 645, 1445, 1505], "the clip's known cuts")
            }
            for scene in Self.settingsTried {
                var latencies: [Int] = []
                var bound = 0
                let cuts = try JobSetup.cuts(cache: cache, scene: scene, scenesJSON: nil, quiet: true).cuts
                let (shots, maxFrames) = JobSetup.shots(cache: cache, cuts: cuts, scene: scene)
                let whole = JobPlanner.chunks(shots: shots, maxFrames: maxFrames, frameRate: pass.video.frameRate)
                for size in [1, 48, 97, 500] {
                    var planner = StreamingPlanner(frameCount: pass.index.frameCount, frameRate: pass.video.frameRate,
                                                   keyframes: pass.index.keyframes, settings: scene)
                    var got: [Chunk] = []
                    // Segments in reverse order too: nothing is planned until frame 0's segment comes.
                    var segments = stride(from: 0, to: pass.changes.count, by: size).map {
                        FrameRange($0, min($0 + size, pass.changes.count))
                    }
                    if size == 97 { segments.reverse() }
                    for seg in segments {
                        let new = try planner.feed(changes: pass.changes[seg.start..<seg.end], from: seg.start)
                        bound = planner.lookAhead
                        if size == 1 {
                            latencies += new.filter { $0.range.end < pass.index.frameCount }.map { planner.measuredPrefix - $0.range.end }
                        }
                        got += new
                        XCTAssertEqual(got, Array(whole.prefix(got.count)), "\(name) \(scene) feeds of \(size): revised")
                    }
                    XCTAssertEqual(got, whole, "\(name) \(scene) feeds of \(size)")
                    XCTAssertTrue(planner.isComplete)
                }
                XCTAssertGreaterThan(whole.count, 1, "\(name) \(scene): a plan of several chunks")
                let sorted = latencies.sorted()
                XCTAssertTrue(sorted.allSatisfy { $0 <= bound }, "\(name) \(scene): \(sorted) within \(bound)")
                print("streamed plan latency, \(name), threshold \(scene.threshold) min \(scene.minSceneLength) max \(scene.maxSceneSeconds) s: \(whole.count) chunks; frames past a chunk's end before it was returned (all but the last): median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]), worst \(sorted.last ?? 0), bound \(bound); \(sorted)")
            }
        }
    }
}
