/// The long options of `encoda INPUT OUTPUT TMP`, by their command-line names, as profiles and argument
/// expansion need them: whether each takes a value, and whether a profile may set it. A profile holds what a
/// job is *for* (codec, quality, picture, audio, shot detection, farm); what belongs to one run or one INPUT
/// (a range, a timeline, --restart, -y) stays on the command line. The end-to-end tests compare this table with
/// the options the command declares (`encoda encode --experimental-dump-help`), so an option added there and
/// forgotten here fails a test.
public enum EncodeOptionTable {
    public struct Entry: Sendable, Hashable {
        /// The long name without dashes, e.g. `pix-fmt`.
        public var name: String
        /// False for a flag (`--mux`), true for an option with a value (`--crf 20`).
        public var takesValue: Bool
        /// Whether a profile may set it.
        public var inProfiles: Bool
    }

    public static let entries: [Entry] = {
        let profileValues = ["encoder", "preset", "crf", "pix-fmt", "encoder-params", "crop", "scale", "audio-codec",
                             "audio-bitrate", "audio-params", "scene-threshold", "min-scene-length", "max-scene-length",
                             "workers", "threads", "lease-seconds", "max-attempts",
                             "bitrate", "max-bitrate", "bufsize", "film-grain",
                             "target-quality", "metric", "probes", "crf-range", "probe-rate", "pool", "probe-preset"]
        let profileFlags = ["lossless", "autocrop", "no-autorotate", "mux", "no-audio", "cut-audio-to-video", "two-pass", "auto-grain"]
        let runValues = ["start", "end", "duration", "otio", "edl", "track", "timeline-start", "input-fps", "scenes-json",
                         "profile", "profiles", "vmaf-ffmpeg"]
        let runFlags = ["keep-timestamps", "dry-run", "restart", "keep", "quiet", "verbose", "overwrite", "segmented-analysis", "no-segmented-analysis"]
        return profileValues.map { Entry(name: $0, takesValue: true, inProfiles: true) }
            + profileFlags.map { Entry(name: $0, takesValue: false, inProfiles: true) }
            + runValues.map { Entry(name: $0, takesValue: true, inProfiles: false) }
            + runFlags.map { Entry(name: $0, takesValue: false, inProfiles: false) }
    }()

    public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Options whose meaning belongs to one encoder: a profile's values for them are left out when the command
    /// line chooses another encoder than the profile's (x264's `slow` is no SVT-AV1 preset, CRF scales differ).
    public static let encoderSpecific: Set<String> = ["preset", "crf", "lossless", "encoder-params", "crf-range", "probe-preset",
                                                      "max-bitrate", "bufsize", "film-grain", "auto-grain"]

    /// Profile options left out when the command line gives the option on the left: the two exclude each other.
    /// A rate (`--bitrate`) and a quality target each replace the profile's way of choosing quality.
    public static let excludedBy: [String: Set<String>] = [
        "crf": ["lossless", "bitrate", "two-pass", "target-quality"], "lossless": ["crf", "bitrate", "two-pass", "target-quality"],
        "bitrate": ["crf", "lossless", "target-quality"], "target-quality": ["crf", "lossless", "bitrate", "two-pass"],
        "crop": ["autocrop"]]
}
