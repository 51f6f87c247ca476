import ArgumentParser
import EncodaMedia
import EncodaModel
import Foundation

/// `encoda score DIST REF`: the quality of a file measured against its source, per frame and pooled.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Measure DIST against its source REF, frame by frame: VMAF or SSIMULACRA 2, per frame and pooled.",
        discussion: """
            Both files are decoded in presentation order and their frames paired one to one: they must have the same \
            number of frames and the same picture size. SSIMULACRA 2 is computed by encoda itself; VMAF (model \
            vmaf_v0.6.1) by an ffmpeg built with libvmaf, fed through pipes: --vmaf-ffmpeg, else an ffmpeg on PATH \
            that has libvmaf, else the one of the imageio-ffmpeg Python package (scripts/install.sh --with-vmaf).
            """)

    @Argument(help: "The distorted file (an encode).") var distorted: String
    @Argument(help: "The reference file (its source).") var reference: String
    @Option(name: .long, help: "The metric.")
    var metric: QualityMetric = .vmaf
    @Option(name: .long, help: "How the per-frame scores become one (p5: the 5th percentile).")
    var pool: ScorePooling = .mean
    @Option(name: .long, help: "Score every K-th frame only (frames 0, K, 2K, …).") var every: Int = 1
    @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false
    @Option(name: .long, help: "An ffmpeg built with libvmaf, for --metric vmaf.") var vmafFfmpeg: String?

    func run() throws {
        guard every >= 1 else { throw EncodaError(.usage, "--every must be 1 or more (score every K-th frame)") }
        // Before any decoding: a VMAF run without an ffmpeg that has libvmaf is a usage error.
        let ffmpeg = metric == .vmaf ? try VmafFFmpeg.locate(explicit: vmafFfmpeg) : nil
        let result = try FileScorer.score(distorted: distorted, reference: reference, metric: metric, every: every, vmafFFmpeg: ffmpeg)
        let pooled = Dictionary(uniqueKeysWithValues: ScorePooling.allCases.map { ($0.rawValue, $0.pool(result.scores) ?? .nan) })
        if json {
            let report = ScoreReport(metric: metric.rawValue, pool: pool.rawValue, score: pooled[pool.rawValue]!, pooled: pooled,
                                     frames: result.frameCount, scoredFrames: result.scores.count, every: every,
                                     width: result.width, height: result.height, distorted: distorted, reference: reference,
                                     perFrame: zip(result.frames, result.scores).map { .init(frame: $0, score: $1) })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for (frame, score) in zip(result.frames, result.scores) { print(String(format: "%d\t%.3f", frame, score)) }
            let others = ScorePooling.allCases.filter { $0 != pool }.map { String(format: "%@ %.3f", $0.rawValue, pooled[$0.rawValue]!) }
            print(String(format: "%@ %@ %.3f (%d of %d frames; %@)", metric.rawValue, pool.rawValue, pooled[pool.rawValue]!,
                         result.scores.count, result.frameCount, others.joined(separator: ", ")))
        }
    }
}

/// What `encoda score --json` prints.
struct ScoreReport: Encodable {
    struct Frame: Encodable { var frame: Int; var score: Double }
    var metric: String
    var pool: String
    var score: Double
    var pooled: [String: Double]
    var frames: Int
    var scoredFrames: Int
    var every: Int
    var width: Int
    var height: Int
    var distorted: String
    var reference: String
    var perFrame: [Frame]
}
