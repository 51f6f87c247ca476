import ArgumentParser
import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

struct EncoderOptions: ParsableArguments {
    @Option(name: .long, help: "Encoder: av1 (SVT-AV1) or h264 (x264).")
    var encoder: EncoderKind = .av1
    @Option(name: .long, help: "SVT-AV1 preset 0–13 (default 8) or x264 preset name (default medium).")
    var preset: String?
    @Option(name: .long, help: "Constant rate factor (default 35 for av1, 23 for h264).")
    var crf: Double?
    @Flag(name: .long, help: "Mathematically lossless (x264 only).")
    var lossless = false
    @Option(name: .long, help: "Output pixel format: yuv420p (8-bit) or yuv420p10le (10-bit). Default: follows the source's bit depth.")
    var pixFmt: String?
    @Option(name: .long, help: "Extra encoder parameters: SVT-AV1 key=value pairs, or an x264 option string (key=value:key=value).")
    var encoderParams: String = ""

    /// Pure: the encode settings these options ask for, given the source bit depth.
    func settings(sourceBitDepth: Int) throws -> EncodeSettings {
        let s = EncodeSettings(
            encoder: encoder,
            preset: preset ?? EncodeSettings.defaultPreset(for: encoder),
            crf: lossless ? 0 : (crf ?? EncodeSettings.defaultCRF(for: encoder)),
            lossless: lossless,
            pixelFormat: pixFmt ?? (sourceBitDepth > 8 ? "yuv420p10le" : "yuv420p"),
            encoderParams: encoderParams)
        if lossless && crf != nil { throw EncodaError(.usage, "--lossless and --crf exclude each other") }
        try s.validate()
        return s
    }
}

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode INPUT into OUTPUT, chunked at shot boundaries, with work files in TMP (the default command).")

    @Argument(help: "The source video.") var input: String
    @Argument(help: "The file to write; its extension picks the container (.mkv .mp4 .webm .ivf .h264).") var output: String
    @Argument(help: "Work folder (may be an NFS share); a killed run resumes from it.") var tmp: String

    @OptionGroup(title: "Encoder") var encoderOptions: EncoderOptions
    @OptionGroup(title: "Shot detection") var sceneOptions: SceneOptions

    @Option(name: .long, help: "Use the cuts in this Av1an scenes.json instead of detecting them.")
    var scenesJson: String?
    @Option(name: .long, help: "Local worker processes (0 = only coordinate; remote workers do the work). Default: from cores and memory.")
    var workers: Int?
    @Option(name: .long, help: "Encoder threads per worker. Default: cores divided among workers.")
    var threads: Int?
    @Flag(name: .long, help: "Print the plan (shots, chunks, settings) and exit.")
    var dryRun = false
    @Flag(name: .long, help: "Discard a previous job in TMP made with other settings and start over.")
    var restart = false
    @Flag(name: .long, help: "Only errors on stderr.")
    var quiet = false

    func run() throws {
        let fmt = try OutputFormat.forPath(output, encoder: encoderOptions.encoder)
        _ = fmt
        if let w = workers, w < 0 || w > 1024 { throw EncodaError(.usage, "--workers must be between 0 and 1024") }
        if let t = threads, t < 1 || t > 256 { throw EncodaError(.usage, "--threads must be between 1 and 256") }
        let scene = try sceneOptions.settings()
        _ = try encoderOptions.settings(sourceBitDepth: 8) // option errors before any work
        try JobSetup.checkOutputLocation(output)
        try Coordinator(command: self, scene: scene).run()
    }
}
