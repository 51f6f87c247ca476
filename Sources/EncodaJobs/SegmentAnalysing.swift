import EncodaModel

/// The media side of an analysis worker, injected (as `ChunkEncoding` is for chunks) so the protocol is tested with a
/// fake analyser in milliseconds: measures one segment from INPUT, decoding with its slice of the frame index alone.
public protocol SegmentAnalysing: Sendable {
    func analyse(_ entry: AnalysisManifest.Entry) throws -> SegmentMeasurements
}
