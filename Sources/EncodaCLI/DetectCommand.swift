import ArgumentParser
import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaPipeline
import EncodaSystem
import Foundation

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Run the scene pass alone: print the cuts (frame and time, one per line) and keep the scene cache in TMP.",
        discussion: """
            Shots longer than --max-scene-length are split as an encode would split them; those lines end in a third \
            column, "split" (--max-scene-length 0 prints the cuts alone). --export-av1an writes the cuts as "scenes" \
            and the shots after splitting as "split_scenes", as newer Av1an versions do.
            """)

    @Argument(help: "The source video.") var input: String
    @Argument(help: "Work folder for the scene cache.") var tmp: String
    @OptionGroup(title: "Shot detection") var sceneOptions: SceneOptions
    @Option(name: .long, help: "Write the shots as an Av1an scenes.json file.") var exportAv1an: String?
    @Flag(name: .long, help: "Only errors on stderr.") var quiet = false

    func run() throws {
        let scene = try sceneOptions.settings()
        let (inputPath, sequence) = try JobSetup.input(input)
        let rate = try JobSetup.sequenceRate(sequence, inputFps: nil, quiet: quiet)
        let (_, fingerprint) = try InputFingerprint.compute(path: inputPath)
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        try dir.prepare()
        let cache = try JobSetup.sceneCache(input: inputPath, fingerprint: fingerprint, dir: dir, scene: scene, encoder: .h264, quiet: quiet,
                                            frameRate: rate)
        let cuts = CutDetector.cuts(changes: cache.changes, settings: scene)
        // The same boundaries an encode with these options plans: cuts, and splits of shots longer than
        // --max-scene-length, so that what detect shows is where encode puts keyframes.
        let (shots, _) = JobSetup.shots(cache: cache, cuts: cuts, scene: scene)
        let isCut = Set(cuts)
        let tb = cache.video.timeBase.doubleValue
        for b in shots.dropFirst().map(\.start) {
            let line = String(format: "%d\t%.3f", b, Double(cache.index.pts[b] - cache.index.pts[0]) * tb)
            print(isCut.contains(b) ? line : line + "\tsplit")
        }
        if let file = exportAv1an {
            let cutShots = CutDetector.shots(boundaries: cuts, frameCount: cache.index.frameCount)
            let data = try JSONCoding.encode(Av1anScenes(shots: cutShots, splitShots: shots, frames: cache.index.frameCount))
            guard FileManager.default.createFile(atPath: file, contents: data) else {
                throw EncodaError(.outputInvalid, "cannot write --export-av1an \(file); check the folder")
            }
        }
        if !quiet {
            let splits = shots.count - 1 - cuts.count
            let split = splits == 0 ? "" : String(format: " and %d split%@ of shots longer than %g s", splits, splits == 1 ? "" : "s", scene.maxSceneSeconds)
            Diagnostics.note("\(cuts.count) cuts\(split) in \(cache.index.frameCount) frames")
        }
    }
}
