import ArgumentParser
import EncodaModel
import Foundation

/// `--start`, `--end`, `--duration`, `--keep-timestamps`: encode part of INPUT, frame-exact.
struct RangeOptions: ParsableArguments {
    @Option(name: .long, help: "First frame to encode: a frame number (240), seconds (9.6s: the first frame at or after that time) or timecode (00:00:09:15; 00:00:09;15 drop-frame at 29.97/59.94), counted from INPUT's first frame.")
    var start: String?
    @Option(name: .long, help: "End of the part to encode, exclusive (the first frame left out), in the same forms as --start.")
    var end: String?
    @Option(name: .long, help: "Length of the part to encode instead of --end: frames (240), seconds (9.6s) or timecode (00:00:09:15).")
    var duration: String?
    @Flag(name: .long, help: "With --start: keep INPUT's timestamps in OUTPUT (by default the first frame is at 0, as an ffmpeg trim gives).")
    var keepTimestamps = false

    /// The options parsed, nil when no range is asked for; usage errors for what is wrong without reading INPUT.
    func request() throws -> TrimRequest? {
        let r = try TrimRequest(start: start, end: end, duration: duration)
        if r == nil && keepTimestamps {
            throw EncodaError(.usage, "--keep-timestamps applies to a part of INPUT; add --start, --end or --duration (a whole INPUT keeps its timestamps)")
        }
        return r
    }

    /// The range in INPUT's frames, once its frame index is known; nil for the whole of INPUT. A range that is all of
    /// INPUT is still a trim when it moves no timestamp: it is recorded as asked.
    func trim(cache: SceneCache) throws -> Trim? {
        guard let r = try request() else { return nil }
        let range = try r.resolve(index: cache.index, timeBase: cache.video.timeBase, rate: cache.video.frameRate,
                                  sourceTimecode: cache.video.timecode)
        return Trim(range: range, keepTimestamps: keepTimestamps)
    }
}

enum TrimStep {
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
