import EncodaJobs
import EncodaMedia
import EncodaModel

/// The segment worker's analyser in a real worker: `SegmentAnalyser` on INPUT as found on this machine, with the
/// analysis manifest's video facts and each segment's frame index slice.
struct MediaSegmentAnalysing: SegmentAnalysing {
    let input: String
    let video: VideoFacts
    /// Decoder threads (0: the CPUs granted).
    let threads: Int
    /// INPUT's frame count when black borders are sampled too (see `AnalysisManifest.sampleBorders`).
    var borderFrames: Int? = nil

    init(input: String, manifest: AnalysisManifest, threads: Int) {
        self.input = input; video = manifest.video; self.threads = threads
        borderFrames = manifest.sampleBorders == true ? manifest.frameCount : nil
    }

    func analyse(_ entry: AnalysisManifest.Entry) throws -> SegmentMeasurements {
        try SegmentAnalyser.analyse(input: input, video: video, segment: entry.segment, index: entry.index, threads: threads,
                                    borderFrames: borderFrames)
    }
}
