import EncodaFFmpeg
import EncodaModel
import Foundation

/// The single decode of INPUT: frame index (timestamps, durations, keyframes) and per-frame change measurements
/// on a small downscaled luma plane.
public enum ScenePass {
    /// Width of the analysis plane; height follows the aspect ratio. Small enough that the measurement is
    /// nearly free next to decoding, large enough that a cut between similar-looking shots still shows.
    static let analysisWidth = 160

    public struct Output: Sendable {
        public var video: VideoFacts
        public var index: FrameIndex
        public var changes: [Double]
        /// Black-border measurements of sampled frames (for `--autocrop`).
        public var crop: CropAnalysis?
        /// What the user should know about how INPUT was read (one line each, for `Diagnostics.note`).
        public var notes: [String] = []
        /// The frames measured when only spans of INPUT were (`SceneCache.analysed`); nil for a whole pass.
        public var analysed: [FrameRange]? = nil
        /// Frames the decoder returned.
        public var framesDecoded = 0
    }

    /// True when plane 0 of `format` is plain 8-bit luma (one byte per sample, no packing, not RGB or palette):
    /// every 8-bit planar or semi-planar YUV format and grey.
    static func hasPlainLuma(_ format: LibavPixelFormat) -> Bool {
        guard let d = format.descriptor else { return false }
        let excluded = d.isRGB || d.isPalette || d.isBitstream || d.isHardware
        return d.plane == 0 && d.step == 1 && d.offset == 0 && d.shift == 0 && d.depth == 8 && !excluded
    }

    /// libswscale stretches limited-range luma (16…235) to full range when it makes grey, and earlier analysis
    /// versions measured on that grey plane. Measurements on the raw luma plane are multiplied by this so that
    /// thresholds keep their meaning. Full range for the JPEG formats and grey, as libswscale decides it.
    static func lumaGain(_ format: LibavPixelFormat) -> Double {
        isFullRangeLuma(format) ? 1 : 255.0 / 219.0
    }

    static func isFullRangeLuma(_ format: LibavPixelFormat) -> Bool {
        format == .gray8 || ColourConversion.fullRangeYUVFormats.contains(format)
    }

    /// Throws a clear error when frames of this size cannot be encoded by `encoder`.
    public static func checkEncodable(_ video: VideoFacts, encoder: EncoderKind) throws {
        try InputProbe.checkEncodable(video, encoder: encoder)
    }

    /// Decodes INPUT once. `progress` is called now and then with frames decoded so far.
    /// `frameRate`: the rate of an image sequence INPUT (--input-fps; see `InputProbe.open`).
    public static func run(input: String, encoder: EncoderKind, threads: Int = 0, frameRate: Rational? = nil,
                           progress: ((Int) -> Void)? = nil) throws -> Output {
        LibavLogging.configure()
        var (demuxer, facts) = try InputProbe.open(input, frameRate: frameRate)
        try InputProbe.checkEncodable(facts, encoder: encoder)
        let si = facts.streamIndex
        // One frame thread per core, like the `ffmpeg -threads N` floor it is measured against; libav's automatic
        // choice (cores + 1) holds one more 1080p frame context (~10 MB) for no speed on a busy machine.
        let decodeThreads = threads > 0 ? threads : CPUGrant.current.cpus
        let frameStep = FrameClock.frameStep(facts)
        let reader = try FrameReader(demuxer: demuxer, streamIndex: si, threads: decodeThreads, frameStep: frameStep, analysisOnly: true)
        let meter = LumaChangeMeter(sourceWidth: facts.width, sourceHeight: facts.height)

        var pts: [Int64] = []
        var keyframes: [Int] = []
        var keyframePositions: [Int64] = []
        var packetSizes: [Int32] = []
        var changes: [Double] = []
        var lastDuration: Int64 = 0
        var brokenTimestamps = false
        let consistency = FrameConsistency(input: input)
        let borders = BorderSampler(width: facts.width, height: facts.height,
                                    expectedFrames: InputProbe.estimatedFrameCount(demuxer, facts: facts))

        func nextFrame() throws -> Bool {
            do { return try reader.next() } catch let e as EncodaError where e.code == .inputDamaged {
                let promised = InputProbe.promisedFrameCount(demuxer, stream: si)
                let of = promised > 0 ? " of the \(promised) its header lists" : ""
                throw EncodaError(.inputDamaged, "INPUT \(input) is damaged or truncated: decoding stopped after \(pts.count) frames\(of); re-copy or repair the file", cause: e.cause)
            }
        }
        while try nextFrame() {
            let f = reader.frame
            let n = pts.count
            // Never nil here: the clock has seen every frame since the start.
            let t = reader.timestamp ?? (n == 0 ? 0 : pts[n - 1] + frameStep)
            if n > 0 && t <= pts[n - 1] { brokenTimestamps = true }
            // Size, pixel format and field order stay as the first frame has them, or the job is refused here.
            let seconds = brokenTimestamps ? Double(n) / facts.frameRate.doubleValue : Double(t - (pts.first ?? t)) * facts.timeBase.doubleValue
            try consistency.offer(f, number: n, seconds: seconds)
            pts.append(t)
            if f.isKeyframe || n == 0 { keyframes.append(n); keyframePositions.append(f.packetPosition) }
            if n == 0 { SourceMetadataIO.readFirstFrame(f, into: &facts) }
            packetSizes.append(Int32(clamping: f.packetSize))
            lastDuration = f.duration > 0 ? f.duration : frameStep

            changes.append(try meter.measure(f))
            try borders.offer(f, number: n)
            if n % 250 == 0 { progress?(n) }
        }
        if pts.isEmpty {
            throw EncodaError(.inputDamaged, "INPUT \(input) has a video stream but no frame of it decodes; the file is damaged or empty")
        }
        let promised = InputProbe.promisedFrameCount(demuxer, stream: si)
        if promised > 0 && pts.count < promised && InputProbe.isImageSequence(demuxer) {
            // image2 numbers frame n with timestamp n: the first one missing is the image that did not decode.
            let n = zip(pts, 0...).first { $0.0 != Int64($0.1) }?.1 ?? pts.count
            let seq = (try? ImageSequence.resolve(input)) ?? nil
            let image = seq.flatMap { $0.numbers.indices.contains(n) ? $0.path(ofFrame: n) : nil } ?? "frame \(n)"
            throw EncodaError(.inputDamaged,
                "INPUT \(input) has \(promised) images but only \(pts.count) decode: \(image) is damaged or not a picture; render it again")
        }
        try checkComplete(input: input, demuxer: demuxer, facts: facts, pts: pts, lastDuration: lastDuration,
                          hidden: reader.hiddenFrames, timestampsUsable: !brokenTimestamps)
        if brokenTimestamps {
            // Frames cannot be recognised by timestamp; renumber so that every later stage stays consistent.
            // Workers then decode from the start instead of seeking (slower, still exact).
            pts = (0..<pts.count).map { Int64($0) * frameStep + (pts.first ?? 0) }
            keyframes = [0]
            keyframePositions = [keyframePositions[0]]
        }
        let durations = FrameIndex.durations(for: pts, lastDuration: lastDuration)
        var video = facts
        video.interlacing = consistency.interlacing(containerFieldOrder: demuxer.parameters(of: si).fieldOrder)
        let index = FrameIndex(pts: pts, durations: durations, keyframes: keyframes, seekable: !brokenTimestamps,
                               packetSizes: packetSizes, keyframePositions: keyframePositions,
                               positionedByByte: demuxer.isRawElementaryStream)
        if index.seeksByByte { try checkBytePositioning(input: input, demuxer: demuxer, facts: video, index: index) }
        return Output(video: video, index: index, changes: changes, crop: borders.analysis,
                      notes: [InputProbe.rawStreamNote(demuxer, facts: video)].compactMap { $0 }, framesDecoded: pts.count)
    }
}
