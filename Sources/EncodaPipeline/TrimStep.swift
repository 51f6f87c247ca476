import EncodaModel
import Foundation

public enum TrimStep {
    /// The range in INPUT's frames, once its frame index is known; nil for the whole of INPUT. A range that is all of
    /// INPUT is still a trim when it moves no timestamp: it is recorded as asked.
    static func resolve(_ request: TrimRequest?, keepTimestamps: Bool, cache: SceneCache) throws -> Trim? {
        guard let r = request else { return nil }
        let range = try r.resolve(index: cache.index, timeBase: cache.video.timeBase, rate: cache.video.frameRate,
                                  sourceTimecode: cache.video.timecode)
        return Trim(range: range, keepTimestamps: keepTimestamps)
    }

    /// One line for the user and for `--dry-run`: "frames 240–479 of 750 (240 frames, 9.6–19.2 s), timestamps from 0".
    static func describe(_ trim: Trim, cache: SceneCache) -> String {
        let index = cache.index, tb = cache.video.timeBase.doubleValue
        let r = trim.range
        let t0 = Double(index.pts[r.start] - index.pts[0]) * tb
        let t1 = Double(index.pts[r.end - 1] + index.durations[r.end - 1] - index.pts[0]) * tb
        let stamps = trim.keepTimestamps ? "INPUT's timestamps kept" : "timestamps from 0"
        return String(format: "frames %d–%d of %d (%d frames, %.3f–%.3f s), %@", r.start, r.end - 1, index.frameCount, r.count, t0, t1, stamps)
    }
}
