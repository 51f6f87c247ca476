import EncodaMedia
import EncodaModel

/// The plan step of `--auto-grain`: each chunk's film grain level, measured once when the job is planned and kept in
/// job.json, so every worker encodes the chunk with the same level and a resumed job does not measure again.
enum GrainStep {
    /// `chunks` with their levels set (unchanged without --auto-grain); says the levels chosen, in one line.
    static func measure(_ chunks: [Chunk], input: String, cache: SceneCache, settings: EncodeSettings, quiet: Bool) throws -> [Chunk] {
        guard settings.autoGrain == true else { return chunks }
        let noise = try GrainProbe.noise(input: input, video: cache.video, index: cache.index, chunks: chunks)
        let levels = GrainLevel.agreeing(noise.map { GrainLevel.level(noise: $0) })
        let measured = zip(chunks, levels).map { pair -> Chunk in
            var c = pair.0
            c.filmGrain = pair.1
            return c
        }
        if !quiet {
            let levels = measured.map { String($0.filmGrain ?? 0) }.joined(separator: " ")
            Report.note("--auto-grain: film grain level per chunk \(levels) (0 = clean, no grain synthesis; when any chunk has grain, clean ones get 1, so the whole file carries the film grain flag)")
        }
        return measured
    }

    /// A plan's chunks without the measured levels, to compare with a fresh plan (which has none yet).
    static func withoutLevels(_ chunks: [Chunk]) -> [Chunk] {
        chunks.map { var c = $0; c.filmGrain = nil; return c }
    }
}
