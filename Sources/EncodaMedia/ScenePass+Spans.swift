import EncodaFFmpeg
import EncodaModel
import Foundation

/// The scene pass over parts of INPUT (a trim, a timeline's clips): the frame index from the packets, then a decode
/// of each span alone, from the source keyframe before it to its end. Frames outside the spans are never decoded,
/// except INPUT's first frame, whose side data (HDR metadata, rotation, an MPEG-2 start timecode) the stream's facts
/// take as a whole pass does.
extension ScenePass {
    /// What is known of INPUT before any span is decoded.
    public struct Preview: Sendable {
        public var video: VideoFacts
        /// From the packets (`PacketIndex`), numbered as a whole pass numbers decoded frames.
        public var index: FrameIndex
        /// Frames the decoder returned to read the first frame's side data (1).
        public var framesDecoded: Int
    }

    /// The packet index of INPUT and the stream's facts, or nil with the reason when the packets cannot number the
    /// frames (image sequences, raw streams, packets without timestamps…): the caller then runs a whole pass.
    /// Refuses what a whole pass refuses before decoding: frames the encoder cannot take, a header that promises more
    /// frames than the file holds.
    public static func preview(input: String, encoder: EncoderKind) throws -> (preview: Preview?, reason: String?) {
        let (output, why) = try PacketIndexReader.read(input: input)
        guard let read = output else { return (nil, why) }
        guard let index = read.index else { return (nil, "its packets do not number its frames (\(read.reason ?? "unknown"))") }
        var facts = read.video
        try InputProbe.checkEncodable(facts, encoder: encoder)
        if read.promisedFrames > index.frameCount, let first = index.pts.first, let last = index.pts.last {
            let r = facts.frameRate, tb = facts.timeBase
            let tickIsFrame = Int64(tb.num) * Int64(r.num) == Int64(tb.den) * Int64(r.den)
            let accounted = accountedFrames(decoded: index.frameCount, hidden: read.packets.hiddenCount, firstPTS: first,
                                            endPTS: last + max(1, index.durations.last ?? 1), timestampsCountFrames: tickIsFrame)
            if accounted < read.promisedFrames {
                throw EncodaError(.inputDamaged,
                    "INPUT \(input) is damaged or truncated: its header lists \(read.promisedFrames) video frames but only \(index.frameCount) are in the file; re-copy or repair the file")
            }
        }
        let first = ChunkFrameSource(input: input, video: facts, index: index, range: FrameRange(0, 1), threads: 1, analysisOnly: true)
        try first.run { f, _ in SourceMetadataIO.readFirstFrame(f, into: &facts) }
        return (Preview(video: facts, index: index, framesDecoded: 1 + first.framesSkipped), nil)
    }

    /// Decodes `spans` of INPUT (ascending, apart: `AnalysisSpans.spans`) and measures their frames as a whole pass
    /// does; `changes` is 0 outside them, and the first frame of each span has no change (nothing before it was
    /// measured). Each frame decoded is recognised by its timestamp in the preview's index, so a packet index that
    /// does not match the decoder's frames stops here. `progress` is called with frames measured so far.
    public static func run(input: String, preview: Preview, spans: [FrameRange], threads: Int = 0,
                           progress: ((Int) -> Void)? = nil) throws -> Output {
        LibavLogging.configure()
        let index = preview.index
        var video = preview.video
        let decodeThreads = threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
        let meter = LumaChangeMeter(sourceWidth: video.width, sourceHeight: video.height)
        var changes = [Double](repeating: 0, count: index.frameCount)
        let consistency = FrameConsistency(input: input)
        let borders = BorderSampler(width: video.width, height: video.height, expectedFrames: spans.reduce(0) { $0 + $1.count })
        var decoded = preview.framesDecoded
        var measured = 0
        let firstPTS = index.pts[0], tb = video.timeBase.doubleValue
        for span in spans {
            meter.reset()
            let source = ChunkFrameSource(input: input, video: video, index: index, range: span, threads: decodeThreads, analysisOnly: true)
            try source.run { f, i in
                let n = span.start + i
                try consistency.offer(f, number: n, seconds: Double(index.pts[n] - firstPTS) * tb)
                changes[n] = try meter.measure(f)
                try borders.offer(f, number: n)
                measured += 1
                if measured % 250 == 0 { progress?(measured) }
            }
            decoded += source.framesSkipped + span.count
        }
        let (probe, _) = try InputProbe.open(input)
        video.interlacing = consistency.interlacing(containerFieldOrder: probe.parameters(of: video.streamIndex).fieldOrder)
        return Output(video: video, index: index, changes: changes, crop: borders.analysis, notes: [],
                      analysed: spans, framesDecoded: decoded)
    }
}
