import EncodaJobs
import EncodaModel

/// Everything `encoda INPUT OUTPUT TMP` asks of the coordinator, as values: the front end parses and checks its
/// options into this (usage errors are its business), the coordinator resolves it against INPUT's analysis.
public struct EncodeRequest {
    public var input: String
    public var output: String
    public var tmp: String
    /// `--input-fps` as given: the rate of an image sequence INPUT (a video file refuses it).
    public var inputFps: String?
    /// `--scenes-json`: cuts from an Av1an scenes file instead of detected ones.
    public var scenesJSON: String?
    public var scene: SceneSettings
    public var encoding: Encoding
    public var picture: Picture
    /// `--target-quality` and its options.
    public var quality: QualityTarget?
    /// `--start`/`--end`/`--duration`, resolved against the frame index once it is known; nil: all of INPUT.
    public var trim: TrimRequest?
    public var keepTimestamps = false
    /// `--otio`/`--edl`: one output per clip.
    public var timeline: Timeline?
    /// `--mux` and its audio options; nil without --mux.
    public var mux: AudioSettings?
    public var farm: FarmSettings
    /// INPUT's analysis as leased segments (analysis.json) that local and remote workers share, instead of one decode
    /// here (`SegmentedAnalysisStep`); the whole pass where INPUT's packets cannot number its frames. Nil: the default
    /// (segmented, and a whole pass where it cannot be, without a note); true: asked for, so a whole pass is said.
    public var segmentedAnalysis: Bool? = nil
    /// `--profile`, recorded in the job for the workers' overrides.
    public var profile: String?
    public var workers: Int?
    public var threads: Int?
    public var dryRun = false
    public var restart = false
    public var keep = false
    public var quiet = false

    public init(input: String, output: String, tmp: String, scene: SceneSettings, encoding: Encoding, picture: Picture,
                farm: FarmSettings) {
        self.input = input; self.output = output; self.tmp = tmp; self.scene = scene; self.encoding = encoding
        self.picture = picture; self.farm = farm
    }

    /// The encoder, rate and grain options. `settings` holds them as checked against a 4:2:0 source; the pixel
    /// format for the real source is chosen by `settings(source:)`.
    public struct Encoding {
        public var settings: EncodeSettings
        /// `--pix-fmt`, nil when not given.
        public var requestedPixelFormat: PixelFormat?
        public init(settings: EncodeSettings, requestedPixelFormat: PixelFormat?) {
            self.settings = settings; self.requestedPixelFormat = requestedPixelFormat
        }

        /// The pixel format for `source` and the conversions it takes (see `PixelFormatChoice`); `outputHeight`
        /// only words the conversion lines.
        public func pixelFormat(source: PixelLayout, outputHeight: Int? = nil) throws -> PixelFormatChoice {
            try PixelFormatChoice.make(source: source, encoder: settings.encoder, lossless: settings.lossless,
                                       requested: requestedPixelFormat, outputHeight: outputHeight)
        }

        /// The settings for this source: its pixel format chosen, checked again.
        public func settings(source: PixelLayout) throws -> EncodeSettings {
            var s = settings
            s.pixelFormat = try pixelFormat(source: source).format
            try s.validate()
            return s
        }

        /// The settings as asked, before INPUT is read, for TMP/coordinator.json.
        var asked: CoordinatorRecord.Settings {
            CoordinatorRecord.Settings(encoder: settings.encoder.rawValue, preset: settings.preset, crf: settings.crf,
                                       lossless: settings.lossless, pixelFormat: requestedPixelFormat?.rawValue,
                                       encoderParams: settings.encoderParams, targetQuality: settings.quality?.target,
                                       metric: settings.quality?.metric.rawValue, bitRate: settings.bitRate)
        }
    }

    /// Crop, scale and rotation.
    public struct Picture {
        /// `--crop`, parsed; it wins over `autocrop`.
        public var crop: CropRect?
        public var autocrop = false
        /// `--scale`: the output height.
        public var scale: Int?
        /// The profile that gave `scale` (not the command line): then it is a ceiling, never an upscale.
        public var scaleFromProfile: String?
        /// `--no-autorotate`.
        public var noAutorotate = false
        public init() {}

        /// A scene cache without crop measurements is not reused when they are needed.
        var needsCrop: Bool { autocrop && crop == nil }
    }

    /// The editorial timeline INPUT is a render of, and each clip's output file.
    public struct Timeline {
        public var timeline: EditorialTimeline
        public var paths: [String]
        /// `--timeline-start`.
        public var start: SMPTETimecode?
        public init(timeline: EditorialTimeline, paths: [String], start: SMPTETimecode?) {
            self.timeline = timeline; self.paths = paths; self.start = start
        }
    }
}
