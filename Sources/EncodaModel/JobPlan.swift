/// The decisions a job was planned with, resolved once by `JobPlanner` and stored in job.json: workers, the join
/// and the mux read them instead of deriving them again from the request and the analysis.
public struct JobPlan: Codable, Sendable, Hashable {
    /// The container OUTPUT is written in (from its extension).
    public var container: OutputContainer
    /// The pixel format the chunks are encoded in (equal to the settings' `pixelFormat`, which the encoders read).
    public var pixelFormat: PixelFormat
    /// The encoded picture: crop, scale and quarter turn applied to the source's.
    public var picture: OutputPicture
    /// The most expensive chunk first: the order workers claim chunks in (chunk ids).
    public var claimOrder: [Int]
    /// Each chunk's relative encode cost, by chunk id (`ChunkPlanner.estimatedCosts`); nil when the analysis has no
    /// packet sizes, and the longest chunk goes first.
    public var costs: [Double]?
    /// By chunk id: the part of the frame index its decode reads.
    public var slices: [FrameIndexSlice]

    public init(container: OutputContainer, pixelFormat: PixelFormat, picture: OutputPicture, claimOrder: [Int],
                costs: [Double]?, slices: [FrameIndexSlice]) {
        self.container = container; self.pixelFormat = pixelFormat; self.picture = picture
        self.claimOrder = claimOrder; self.costs = costs; self.slices = slices
    }

    /// Whether a decode starting at `frame` (a chunk start) must begin at an earlier keyframe, so a decoder kept
    /// standing there saves a seek; nil when no chunk starts there.
    public func startsAfterKeyframe(_ frame: Int, chunks: [Chunk]) -> Bool? {
        guard let c = chunks.first(where: { $0.range.start == frame }), c.id >= 0, c.id < slices.count else { return nil }
        return slices[c.id].keyframe(atOrBefore: frame) < frame
    }
}
