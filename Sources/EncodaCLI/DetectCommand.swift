import ArgumentParser
import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Run the scene pass alone: print the cuts (frame and time, one per line) and keep the scene cache in TMP.")

    @Argument(help: "The source video.") var input: String
    @Argument(help: "Work folder for the scene cache.") var tmp: String
    @OptionGroup(title: "Shot detection") var sceneOptions: SceneOptions
    @Option(name: .long, help: "Write the shots as an Av1an scenes.json file.") var exportAv1an: String?
    @Flag(name: .long, help: "Only errors on stderr.") var quiet = false

    func run() throws {
        let scene = try sceneOptions.settings()
        let inputPath = JobSetup.absolute(input)
        let (_, fingerprint) = try InputFingerprint.compute(path: inputPath)
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        try dir.prepare()
        let cache = try JobSetup.sceneCache(input: inputPath, fingerprint: fingerprint, dir: dir, scene: scene, encoder: .h264, quiet: quiet)
        let cuts = CutDetector.cuts(changes: cache.changes, settings: scene)
        let tb = cache.video.timeBase.doubleValue
        for c in cuts {
            print(String(format: "%d\t%.3f", c, Double(cache.index.pts[c] - cache.index.pts[0]) * tb))
        }
        if let file = exportAv1an {
            let shots = CutDetector.shots(boundaries: cuts, frameCount: cache.index.frameCount)
            let data = try JSONCoding.encode(Av1anScenes(shots: shots, frames: cache.index.frameCount))
            guard FileManager.default.createFile(atPath: file, contents: data) else {
                throw EncodaError(.outputInvalid, "cannot write --export-av1an \(file); check the folder")
            }
        }
        if !quiet { Diagnostics.note("\(cuts.count) cuts in \(cache.index.frameCount) frames") }
    }
}
