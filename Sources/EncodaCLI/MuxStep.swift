import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

/// The coordinator's `--mux` step: plan what INPUT's other streams become, prepare the audio in TMP in the
/// background while the video is encoded, and hand the result to the concatenator.
enum MuxStep {
    static func plan(command c: EncodeCommand, inputPath: String, cache: SceneCache) throws -> MuxPlan {
        try MuxPlanner.plan(input: inputPath, output: c.output, encoder: c.encoderOptions.encoder, video: cache.video,
                            index: cache.index, audio: try c.muxOptions.settings())
    }
}
