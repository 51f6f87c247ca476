import ArgumentParser
import Foundation
import EncodaMedia
import EncodaModel
import EncodaPipeline

/// `encoda` — shot-aware split-and-stitch AV1/H.264 encoding over a shared work folder.
public struct EncodaCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "encoda",
        abstract: "Shot-aware, frame-exact split-and-stitch AV1 (SVT-AV1) and H.264 (x264) encoding, farmed out through a shared folder.",
        version: VersionText.full,
        subcommands: [EncodeCommand.self, WorkerCommand.self, DetectCommand.self, StatusCommand.self, CleanCommand.self,
                      ScoreCommand.self, ProfilesCommand.self,
                      SubmitSpecCommand.self, ServeCommand.self],
        defaultSubcommand: EncodeCommand.self)
    public init() {}

    /// Runs the command line, sending every error through `Diagnostics`.
    public static func runMain() -> Never {
        do {
            // The pipeline's notes and the scene pass's count are shown here (see `Report`).
            Report.install(Report.Sinks(note: { Diagnostics.note($0) }, scenePass: { frames in
                guard isatty(2) != 0 else { return }
                StandardError.write(frames.map { "\rencoda: scene pass: \($0) frames" } ?? "\r\u{1B}[K")
            }, warn: { Diagnostics.warn($0) }))
            var command = try parseAsRoot(try ProfileExpansion.expand(Array(CommandLine.arguments.dropFirst())))
            Diagnostics.configure(level: EncodaLog.level(quiet: (command as? QuietOption)?.quiet ?? false,
                                                         verbosity: (command as? VerboseOption)?.verbose ?? 0))
            try command.run()
            Foundation.exit(0)
        } catch let e as EncodaError {
            Diagnostics.fail(e)
        } catch {
            exit(withError: error)
        }
    }
}

struct SceneOptions: ParsableArguments {
    @Option(name: .long, help: "Cut score (0–100) from which a frame starts a new shot.")
    var sceneThreshold: Double = SceneSettings().threshold
    @Option(name: .long, help: "Shortest shot in frames; closer cuts are ignored.")
    var minSceneLength: Int = SceneSettings().minSceneLength
    @Option(name: .long, help: "Longest shot in seconds; longer shots are split at their calmest frame (0 = never).")
    var maxSceneLength: Double = SceneSettings().maxSceneSeconds

    func settings() throws -> SceneSettings {
        guard sceneThreshold > 0, sceneThreshold <= 100 else { throw EncodaError(.usage, "--scene-threshold must be in (0, 100]") }
        guard minSceneLength >= 1 else { throw EncodaError(.usage, "--min-scene-length must be at least 1 frame") }
        guard maxSceneLength >= 0 else { throw EncodaError(.usage, "--max-scene-length must be 0 (off) or a number of seconds") }
        return SceneSettings(threshold: sceneThreshold, minSceneLength: minSceneLength, maxSceneSeconds: maxSceneLength)
    }
}

extension EncoderKind: ExpressibleByArgument {}
extension QualityMetric: ExpressibleByArgument {}
extension ScorePooling: ExpressibleByArgument {}

/// Commands with a --quiet flag: their diagnostics, and their encoder libraries, log only warnings and errors (see
/// `EncodaLog`, `EncoderLogging`).
protocol QuietOption {
    var quiet: Bool { get }
}
extension EncodeCommand: QuietOption {}
extension WorkerCommand: QuietOption {}

/// Commands with -v/--verbose: how often it was given raises their level (`EncodaLog.level(quiet:verbosity:)`).
protocol VerboseOption {
    var verbose: Int { get }
}
extension EncodeCommand: VerboseOption {}
extension WorkerCommand: VerboseOption {}
