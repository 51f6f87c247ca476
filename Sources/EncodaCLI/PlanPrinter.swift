import EncodaModel
import EncodaPipeline
import Foundation

/// `--dry-run` output: what would be encoded, how.
enum PlanPrinter {
    static func print(_ plan: DryRunPlan) {
        print(input: plan.input, cache: plan.cache, settings: plan.settings, scene: plan.scene, cuts: plan.cuts, cutSource: plan.cutSource,
              shots: plan.shots, chunks: plan.chunks, workers: plan.workers, threads: plan.threads, cropNote: plan.cropNote,
              mux: plan.mux, conversions: plan.conversions, trim: plan.trim)
        // A timeline's clips, one line each.
        if let clips = plan.clips { Swift.print(clips) }
    }

    static func print(input: String, cache: SceneCache, settings: EncodeSettings, scene: SceneSettings, cuts: [Int], cutSource: String,
                      shots: [FrameRange], chunks: [Chunk], workers: Int, threads: Int,
                      cropNote: String? = nil, mux: MuxPlan? = nil, conversions: [String] = [], trim: String? = nil) {
        let v = cache.video
        var out = ""
        out += "input:     \(input)\n"
        out += "video:     \(v.width)x\(v.height) \(v.pixelFormat) \(v.codecName), \(v.frameRate) fps, \(cache.index.frameCount) frames, SAR \(v.sampleAspectRatio)\n"
        if let trim { out += "range:     \(trim)\n" }
        out += "colour:    primaries \(v.colorPrimaries) transfer \(v.colorTransfer) matrix \(v.colorMatrix) range \(v.colorRange)\n"
        let rate = settings.quality.map { q in
            "target \(q.metric.rawValue) \(QualityTarget.describe(q.target)) (\(q.pool.rawValue) pooling, crf \(q.crfLow)…\(q.crfHigh), ≤ \(q.probes) probes" +
                (q.probeRate > 1 ? ", 1 frame in \(q.probeRate) scored)" : ")")
        } ?? (settings.lossless ? "lossless" : "crf \(settings.crf)")
        out += "encoder:   \(settings.encoder.rawValue) preset \(settings.preset) " + rate +
               " \(settings.pixelFormat)" + (settings.encoderParams.isEmpty ? "" : " params '\(settings.encoderParams)'") + "\n"
        for line in conversions { out += "convert:   \(line)\n" }
        if let picture = try? OutputPicture.make(source: v, settings: settings) {
            out += "picture:   \(picture.summary)\n"
        }
        if let cropNote { out += "autocrop:  \(cropNote)\n" }
        if let mux {
            out += "mux:       \(mux.carried.count) of \(mux.streams.count) other streams, \(mux.chapters) chapters\n"
            for st in mux.streams { out += "  \(st.summary)\n" }
        }
        out += "detector:  threshold \(scene.threshold), min \(scene.minSceneLength) frames, max \(scene.maxSceneSeconds) s (cuts \(cutSource))\n"
        out += "cuts:      \(cuts.count): \(cuts.map(String.init).joined(separator: " "))\n"
        out += "shots:     \(shots.count)\n"
        out += "workers:   \(workers) × \(threads) encoder thread(s)\n"
        out += "chunks:    \(chunks.count)\n"
        for c in chunks {
            let starts = c.shotStarts.count > 1 ? "  keyframes at \(c.shotStarts.map(String.init).joined(separator: " "))" : ""
            out += "  \(c.name)  frames \(c.range.start)–\(c.range.end - 1) (\(c.range.count))\(starts)\n"
        }
        Swift.print(out, terminator: "")
    }
}
