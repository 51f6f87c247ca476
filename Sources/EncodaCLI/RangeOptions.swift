import ArgumentParser
import EncodaModel

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
}
