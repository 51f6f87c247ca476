import EncodaModel

/// The API's `settings` object: the encode command's long options in camelCase, mapped to its flags by one table.
///
/// Only options that change how a job encodes are here. Options that name other files (`--scenes-json`, `--otio`,
/// `--edl`, `--profiles`, `--vmaf-ffmpeg`: a program on the server) would need the same ROOT confinement as INPUT
/// and OUTPUT and are not offered; options the server decides itself (`--workers`, `--quiet`, `--restart`,
/// `--dry-run`) are not offered either. Nor are encoder or audio parameters that name a file on the server
/// (`EncoderParams.fileNames`: x264's `dump-yuv`, `stats`, …).
public enum JobSettings {
    /// What JSON value an option takes.
    enum Kind: Sendable { case flag, integer, number, text }

    /// camelCase name → (CLI flag, kind). The one table.
    static let table: [String: (flag: String, kind: Kind)] = [
        "encoder": ("--encoder", .text),
        "preset": ("--preset", .text),
        "crf": ("--crf", .number),
        "lossless": ("--lossless", .flag),
        "pixFmt": ("--pix-fmt", .text),
        "encoderParams": ("--encoder-params", .text),
        "bitrate": ("--bitrate", .text),
        "twoPass": ("--two-pass", .flag),
        "maxBitrate": ("--max-bitrate", .text),
        "bufsize": ("--bufsize", .text),
        "filmGrain": ("--film-grain", .integer),
        "autoGrain": ("--auto-grain", .flag),
        "targetQuality": ("--target-quality", .number),
        "metric": ("--metric", .text),
        "probes": ("--probes", .integer),
        "crfRange": ("--crf-range", .text),
        "probeRate": ("--probe-rate", .integer),
        "probePreset": ("--probe-preset", .text),
        "pool": ("--pool", .text),
        "autocrop": ("--autocrop", .flag),
        "crop": ("--crop", .text),
        "scale": ("--scale", .integer),
        "noAutorotate": ("--no-autorotate", .flag),
        "mux": ("--mux", .flag),
        "audioCodec": ("--audio-codec", .text),
        "audioBitrate": ("--audio-bitrate", .text),
        "audioParams": ("--audio-params", .text),
        "noAudio": ("--no-audio", .flag),
        "cutAudioToVideo": ("--cut-audio-to-video", .flag),
        "sceneThreshold": ("--scene-threshold", .number),
        "minSceneLength": ("--min-scene-length", .integer),
        "maxSceneLength": ("--max-scene-length", .number),
        "start": ("--start", .text),
        "end": ("--end", .text),
        "duration": ("--duration", .text),
        "keepTimestamps": ("--keep-timestamps", .flag),
        "inputFps": ("--input-fps", .text),
        "threads": ("--threads", .integer),
        "leaseSeconds": ("--lease-seconds", .number),
        "maxAttempts": ("--max-attempts", .integer),
        "keep": ("--keep", .flag),
        "overwrite": ("--overwrite", .flag),
    ]

    /// Every name the table knows, sorted (for messages and the OpenAPI document's check).
    public static var names: [String] { table.keys.sorted() }

    /// The command-line arguments for `settings`, in the table's name order so the same request always gives
    /// the same command (a resumed job must be re-run with exactly the same options). Values are joined to
    /// their flag (`--crf=18`) so that no value is ever read as another option.
    /// Throws `APIError` naming the first field that is unknown or of the wrong type.
    static func arguments(_ settings: [String: JSONValue]) throws -> [String] {
        var args: [String] = []
        for name in settings.keys.sorted() {
            guard let entry = table[name] else {
                throw APIError(.badRequest, "settings.\(name) is not a setting; use one of \(names.joined(separator: ", "))", field: "settings.\(name)")
            }
            let value = settings[name]!
            switch (entry.kind, value) {
            case (.flag, .bool(let on)):
                if on { args.append(entry.flag) }
            case (.integer, .number(let n)) where n == n.rounded() && abs(n) < 1e15:
                args.append("\(entry.flag)=\(Int(n))")
            case (.number, .number(let n)) where abs(n) < 1e15:
                args.append("\(entry.flag)=\(n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n))")
            case (.text, .string(let s)) where !s.contains("\0"):
                if Self.parameterLists.contains(name) { try Self.refuseFileParameters(s, name: name, flag: entry.flag) }
                args.append("\(entry.flag)=\(s)")
            default:
                let want = ["flag": "true or false", "integer": "a whole number", "number": "a number", "text": "a string"]["\(entry.kind)"]!
                throw APIError(.badRequest, "settings.\(name) must be \(want) (it becomes \(entry.flag))", field: "settings.\(name)")
            }
        }
        return args
    }

    /// The settings passed on to a library as key=value items.
    static let parameterLists: Set<String> = ["encoderParams", "audioParams"]

    /// Refuses a parameter list the encode command could not read, and any item that names a file: the coordinator
    /// and its workers would read or write it with the server's rights, wherever it points.
    private static func refuseFileParameters(_ text: String, name: String, flag: String) throws {
        let params: [EncoderParam]
        do { params = try EncoderParams.parse(text, option: flag) } catch let e as EncodaError {
            throw APIError(.badRequest, "settings.\(name): \(e.message)", field: "settings.\(name)")
        }
        if let p = EncoderParams.namingFile(params) {
            throw APIError(.badRequest, "settings.\(name): \(p.key) makes the encoder read or write a file on the server, which the job service does not allow; leave it out", field: "settings.\(name)")
        }
    }

    /// A 400 for options the encode command refuses, naming the request field the option came from: `profile`,
    /// `output`, `settings.NAME`, or `settings` when the message names no option of the request.
    static func refusal(_ p: OptionProblem) -> APIError {
        let field: String
        switch p.option {
        case "--profile"?: field = "profile"
        case "OUTPUT"?: field = "output"
        case let flag?: field = table.first { $0.value.flag == flag }.map { "settings." + $0.key } ?? "settings"
        case nil: field = "settings"
        }
        return APIError(.badRequest, "\(field): \(p.message)", field: field)
    }
}
