import ArgumentParser
import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaPipeline
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
    @Option(name: .long, help: "Output pixel format: yuv420p or yuv420p10le (both encoders); yuv422p, yuv444p, yuv422p10le, yuv444p10le, or RGB gbrp (rgb24), gbrp10le (x264 only). Default: 4:2:0 at the source's bit depth (8 or 10); with --lossless, the source's own format.")
    var pixFmt: String?
    @Option(name: .long, parsing: .unconditional,
            help: "Extra encoder parameters: SVT-AV1 key=value pairs, or an x264 option string (key=value:key=value). Av1an's spelling (\"--film-grain 8 --tune 0\") is read as film-grain=8:tune=0.")
    var encoderParams: String = ""

    /// Pure: the encode settings these options ask for, given the source's pixel format.
    func settings(source: PixelLayout) throws -> EncodeSettings {
        let requested = try requestedPixelFormat()
        let s = EncodeSettings(
            encoder: encoder,
            preset: preset ?? EncodeSettings.defaultPreset(for: encoder),
            crf: lossless ? 0 : (crf ?? EncodeSettings.defaultCRF(for: encoder)),
            lossless: lossless,
            pixelFormat: requested ?? .yuv420p,
            encoderParams: encoderParams)
        if lossless && crf != nil { throw EncodaError(.usage, "--lossless and --crf exclude each other") }
        try s.validate()
        var chosen = s
        chosen.pixelFormat = try pixelFormat(source: source).format
        return chosen
    }

    /// The pixel format for `source` and the conversions it takes (see `PixelFormatChoice`); `outputHeight`
    /// only words the conversion lines.
    func pixelFormat(source: PixelLayout, outputHeight: Int? = nil) throws -> PixelFormatChoice {
        try PixelFormatChoice.make(source: source, encoder: encoder, lossless: lossless, requested: try requestedPixelFormat(),
                                   outputHeight: outputHeight)
    }

    func requestedPixelFormat() throws -> PixelFormat? {
        guard let pixFmt else { return nil }
        guard let f = PixelFormat(argument: pixFmt) else {
            throw EncodaError(.usage, "--pix-fmt \(pixFmt) is not supported; use one of \(PixelFormat.argumentList)")
        }
        return f
    }
}

struct PictureOptions: ParsableArguments {
    @Flag(name: .long, help: "Detect black bars during the scene pass and crop them when one picture area dominates the whole video.")
    var autocrop = false
    @Option(name: .long, help: "Crop to this source area, W:H:X:Y (even numbers; overrides --autocrop).")
    var crop: String?
    @Option(name: .long, help: "Scale to this output height (even), width following the aspect ratio, e.g. 720 for edit proxies.")
    var scale: Int?
    @Flag(name: .long, help: "Keep a rotated source's pixels as stored where OUTPUT's container cannot carry the rotation (.mkv, .webm, .ivf, .obu, .h264); by default they are rotated.")
    var noAutorotate = false

    /// The explicit crop, parsed; a usage error for text that is not W:H:X:Y.
    func parsedCrop() throws -> CropRect? {
        guard let crop else { return nil }
        guard let r = CropRect(parsing: crop) else {
            throw EncodaError(.usage, "--crop \(crop) is not W:H:X:Y (four non-negative whole numbers, e.g. --crop 1920:800:0:140)")
        }
        return r
    }

    func check() throws {
        _ = try parsedCrop()
        if let s = scale, s < 16 || s % 2 != 0 {
            throw EncodaError(.usage, "--scale \(s) is not a usable height; give an even number of lines, e.g. --scale 720")
        }
    }
}

struct MuxOptions: ParsableArguments {
    @Flag(name: .long, help: "Also carry INPUT's audio, subtitles, chapters and attachments into OUTPUT (as far as its container can hold them).")
    var mux = false
    @Option(name: .long, help: "Audio with --mux: copy (keep the stream; the default where the container allows), opus, aac or flac (transcode once).")
    var audioCodec: AudioCodecChoice?
    @Option(name: .long, help: "Bit rate for transcoded audio, e.g. 128k or 192000 (default: 64k per channel for opus, 96k per channel for aac).")
    var audioBitrate: String?
    @Option(name: .long, help: "Extra options for the audio encoder, key=value pairs separated by ':' (libavcodec option names).")
    var audioParams: String = ""
    @Flag(name: .long, help: "With --mux: leave INPUT's audio out (subtitles, chapters and attachments are still carried).")
    var noAudio = false
    @Flag(name: .long, help: "With --mux: cut each audio track to the video's first and last frame, for players that dislike audio before or after the picture (by default the whole track is carried, aligned, as ffmpeg -c copy does).")
    var cutAudioToVideo = false

    func settings() throws -> AudioSettings {
        var bitrate: Int? = nil
        if let text = audioBitrate {
            guard let b = AudioSettings.parseBitrate(text) else {
                throw EncodaError(.usage, "--audio-bitrate \(text) is not a bit rate; write e.g. 128k or 192000")
            }
            bitrate = b
        }
        if !mux && (audioCodec != nil || audioBitrate != nil || !audioParams.isEmpty || noAudio || cutAudioToVideo) {
            // Name only the options given.
            let given = [(audioCodec != nil, "--audio-codec"), (audioBitrate != nil, "--audio-bitrate"),
                         (!audioParams.isEmpty, "--audio-params"), (noAudio, "--no-audio"),
                         (cutAudioToVideo, "--cut-audio-to-video")].filter(\.0).map(\.1)
            let list = given.count == 1 ? given[0] : given.dropLast().joined(separator: ", ") + " and " + given.last!
            throw EncodaError(.usage, "\(list) \(given.count == 1 ? "applies" : "apply") to --mux; add --mux")
        }
        if audioCodec == .copy && (audioBitrate != nil || !audioParams.isEmpty) {
            let given = audioBitrate != nil && !audioParams.isEmpty ? "--audio-bitrate and --audio-params need"
                : audioBitrate != nil ? "--audio-bitrate needs" : "--audio-params needs"
            throw EncodaError(.usage, "--audio-codec copy keeps the audio as it is; \(given) opus, aac or flac")
        }
        return AudioSettings(codec: audioCodec ?? .auto, bitrate: bitrate, params: audioParams, include: !noAudio,
                             cutToVideo: cutAudioToVideo)
    }
}

extension AudioCodecChoice: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["copy", "opus", "aac", "flac"] }
}

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode INPUT into OUTPUT, chunked at shot boundaries, with work files in TMP (the default command).")

    @Argument(help: "The source video.") var input: String
    @Argument(help: "The file to write; its extension picks the container: \(OutputFormat.summary).") var output: String
    @Argument(help: "Work folder (may be an NFS share); a killed run resumes from it.") var tmp: String

    @OptionGroup(title: "Encoder") var encoderOptions: EncoderOptions
    @OptionGroup(title: "Bit rate and film grain") var rateOptions: RateOptions
    @OptionGroup(title: "Target quality") var qualityOptions: QualityOptions
    @OptionGroup(title: "Part of INPUT") var rangeOptions: RangeOptions
    @OptionGroup(title: "One output per clip of a timeline") var timelineOptions: TimelineOptions
    @OptionGroup(title: "Shot detection") var sceneOptions: SceneOptions
    @OptionGroup(title: "Picture") var pictureOptions: PictureOptions
    @OptionGroup(title: "Audio, subtitles, chapters, attachments") var muxOptions: MuxOptions
    @OptionGroup(title: "Farm") var farmOptions: FarmOptions
    @OptionGroup(title: "Profile") var profileOptions: ProfileOptions

    @Option(name: .long, help: "Frame rate of an image sequence INPUT, e.g. 24, 25, 23.976 or 30000/1001. Default: the rate its images carry (DPX headers can), else 24.")
    var inputFps: String?
    @Option(name: .long, help: "Use the cuts in this Av1an scenes.json instead of detecting them.")
    var scenesJson: String?
    @Option(name: .long, help: "Local worker processes (0 = only coordinate; remote workers do the work). Default: from cores and memory.")
    var workers: Int?
    @Option(name: .long, help: "Encoder threads per worker. Default: the CPUs granted to encoda (cgroup CPU quota, affinity mask) divided among workers.")
    var threads: Int?
    @Flag(name: .long, help: "Print the plan (shots, chunks, settings) and exit.")
    var dryRun = false
    @Flag(name: .long, help: "Discard a previous job in TMP made with other settings and start over.")
    var restart = false
    @Flag(name: .long, help: "Keep the chunks and the job's records in TMP after OUTPUT is written. By default they are removed (the analysis cache and the logs stay).")
    var keep = false
    @Flag(name: .long, help: "Only errors on stderr.")
    var quiet = false
    @Flag(name: [.customShort("v"), .long], help: "More detail on stderr: the encoder libraries' information, libav's warnings (-vv: debug).")
    var verbose: Int
    @Flag(name: [.customShort("y"), .long], help: "Replace OUTPUT if it exists (never when OUTPUT is INPUT). Without it, an existing OUTPUT is refused before any work.")
    var overwrite = false

    func run() throws {
        try profileOptions.announce(quiet: quiet)
        try checkOptions()
        qualityOptions.exportVmafFFmpeg()
        let scene = try sceneOptions.settings()
        let range = try rangeOptions.request()
        if let loaded = try timelineOptions.load(pattern: output) {
            if range != nil { throw EncodaError(.usage, "\(timelineOptions.option) cuts INPUT by the timeline's clips; --start, --end and --duration apply to one OUTPUT") }
            try TimelineOptions.checkOutputs(loaded.paths, input: input, tmp: tmp, overwrite: overwrite || dryRun)
        } else {
            try JobSetup.checkOutputLocation(output)
            try OutputGuard.check(input: input, output: output, tmp: tmp, overwrite: overwrite || dryRun)
        }
        let request = try request(scene: scene)
        try request.checkEncoderSettings()
        let observer = CoordinatorObserver(
            progress: { [quiet] dir, manifest in ProgressLine(directory: dir, manifest: manifest, quiet: quiet) },
            written: { Diagnostics.note(ProgressLine.summary($0)) })
        if let plan = try Coordinator(request: request, observer: observer).run() { PlanPrinter.print(plan) }
    }

    /// Every check of the options that needs neither INPUT nor TMP (only, for --metric vmaf, an ffmpeg with libvmaf):
    /// `run` makes them before any work, and `encoda serve` before it accepts a job (`JobOptionCheck`).
    func checkOptions() throws {
        _ = try OutputFormat.forPath(output, encoder: encoderOptions.encoder)
        if let w = workers, w < 0 || w > 1024 { throw EncodaError(.usage, "--workers must be between 0 and 1024") }
        if let t = threads, t < 1 || t > 256 { throw EncodaError(.usage, "--threads must be between 1 and 256") }
        _ = try sceneOptions.settings()
        if let f = inputFps, FrameRateText.parse(f) == nil {
            throw EncodaError(.usage, "--input-fps \(f) is not a frame rate; write e.g. 24, 25, 23.976 or 30000/1001")
        }
        _ = try encodeSettings(source: PixelFormat.yuv420p.layout)
        _ = try qualityTarget()
        try pictureOptions.check()
        _ = try muxOptions.settings()
        _ = try rangeOptions.request()
    }

    /// The options as the coordinator's request (each was checked by `run` before).
    func request(scene: SceneSettings) throws -> EncodeRequest {
        var picture = EncodeRequest.Picture()
        picture.crop = try pictureOptions.parsedCrop()
        picture.autocrop = pictureOptions.autocrop
        picture.scale = pictureOptions.scale
        picture.scaleFromProfile = profileOptions.scaleSource(scale: pictureOptions.scale)
        picture.noAutorotate = pictureOptions.noAutorotate
        let encoding = EncodeRequest.Encoding(settings: try encodeSettings(source: PixelFormat.yuv420p.layout),
                                              requestedPixelFormat: try encoderOptions.requestedPixelFormat())
        var r = EncodeRequest(input: input, output: output, tmp: tmp, scene: scene, encoding: encoding, picture: picture,
                              farm: try farmOptions.settings())
        r.inputFps = inputFps
        r.scenesJSON = scenesJson
        r.quality = try qualityTarget()
        r.trim = try rangeOptions.request()
        r.keepTimestamps = rangeOptions.keepTimestamps
        r.timeline = try timelineOptions.load(pattern: output).map {
            EncodeRequest.Timeline(timeline: $0.timeline, paths: $0.paths, start: try timelineOptions.start())
        }
        r.mux = muxOptions.mux ? try muxOptions.settings() : nil
        r.profile = profileOptions.profile
        r.workers = workers
        r.threads = threads
        r.segmentedAnalysis = farmOptions.segmentedAnalysis
        r.dryRun = dryRun
        r.restart = restart
        r.keep = keep
        r.quiet = quiet
        return r
    }

    /// --target-quality and its options, checked (nil without it).
    func qualityTarget() throws -> QualityTarget? {
        let target = try qualityOptions.target(encoder: encoderOptions.encoder,
                                                  preset: encoderOptions.preset ?? EncodeSettings.defaultPreset(for: encoderOptions.encoder),
                                                  crf: encoderOptions.crf, lossless: encoderOptions.lossless)
        if target != nil && rateOptions.bitrate != nil {
            throw EncodaError(.usage, "--target-quality and --bitrate exclude each other; give a quality to reach or a bit rate to hold")
        }
        return target
    }
}
