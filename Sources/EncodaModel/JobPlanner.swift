/// Pure planning of a job's resolved decisions (`JobPlan`) from the request and the analysis. No I/O: every
/// input is a value, so the decisions are table-tested (Tests/EncodaModelTests/JobPlannerTests).
public enum JobPlanner {
    /// A chunk is at least two seconds of frames: shorter shots are grouped, so that lock traffic and per-chunk
    /// overhead do not grow with the number of tiny shots.
    public static let minimumChunkSeconds = 2.0

    public static func minimumChunkFrames(frameRate: Rational) -> Int {
        max(1, Int((frameRate.doubleValue * minimumChunkSeconds).rounded()))
    }

    /// Shots → chunks under the two-second rule; `maxFrames` (0: none) is the longest shot allowed, which a chunk
    /// never exceeds through grouping (nor goes below the minimum for).
    public static func chunks(shots: [FrameRange], maxFrames: Int, frameRate: Rational) -> [Chunk] {
        let minChunk = minimumChunkFrames(frameRate: frameRate)
        return ChunkPlanner.plan(shots: shots, minChunkFrames: minChunk,
                                 maxChunkFrames: maxFrames > 0 ? max(maxFrames, minChunk) : Int.max)
    }

    /// The request's part of the decisions.
    public struct Request: Sendable {
        /// OUTPUT (or the first clip's output of a timeline): its extension names the container.
        public var output: String
        /// The settings, crop, scale and quarter turn already decided.
        public var settings: EncodeSettings
        /// `--pix-fmt`, if given.
        public var requestedPixelFormat: PixelFormat?
        public init(output: String, settings: EncodeSettings, requestedPixelFormat: PixelFormat?) {
            self.output = output; self.settings = settings; self.requestedPixelFormat = requestedPixelFormat
        }
    }

    /// The analysis's part: the source's facts and pixel layout, its frame index, and the chunks planned on it.
    public struct Analysis: Sendable {
        public var video: VideoFacts
        public var layout: PixelLayout
        public var index: FrameIndex
        public var chunks: [Chunk]
        public init(video: VideoFacts, layout: PixelLayout, index: FrameIndex, chunks: [Chunk]) {
            self.video = video; self.layout = layout; self.index = index; self.chunks = chunks
        }
    }

    /// Throws the user's error for an OUTPUT that cannot hold the codec, a pixel format that cannot be kept, and an
    /// impossible picture; the pixel format must be the one the settings carry (both come from `PixelFormatChoice`).
    public static func plan(_ request: Request, _ analysis: Analysis) throws -> JobPlan {
        let s = request.settings
        let container = try OutputFormat.forPath(request.output, encoder: s.encoder).container
        let format = try PixelFormatChoice.make(source: analysis.layout, encoder: s.encoder, lossless: s.lossless,
                                                requested: request.requestedPixelFormat).format
        guard format == s.pixelFormat else {
            throw EncodaError(.internalError, "the plan's pixel format \(format) is not the settings' \(s.pixelFormat)")
        }
        let picture = try OutputPicture.make(source: analysis.video, settings: s)
        let chunks = analysis.chunks
        let costs = ChunkPlanner.estimatedCosts(chunks, packetSizes: analysis.index.packetSizes)
        let reliable = analysis.index.timestampsReliable
        return JobPlan(container: container, pixelFormat: format, picture: picture,
                       claimOrder: ChunkPlanner.workOrder(chunks, costs: costs).map(\.id), costs: costs,
                       slices: chunks.map { FrameIndexSlice.of(analysis.index, range: $0.range, reliable: reliable) })
    }
}
