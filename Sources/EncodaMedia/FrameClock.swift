import EncodaFFmpeg
import EncodaModel

/// The one rule that gives every decoded frame its timestamp, shared by the scene pass (which writes the frame
/// index) and the workers (which recognise frames by it): a frame the index knows as timestamp T must come out
/// of a worker's decode as T, including frames libav leaves without one (the flushed last frame of an Xvid AVI
/// with B-frames, frames of raw elementary streams).
///
/// - A frame with a best-effort timestamp from libav (`AVFrame.best_effort_timestamp`: its pts, else a
///   reordered dts) has that one.
/// - A frame without follows the frame before it: that frame's timestamp plus its duration (the packet's, else
///   one frame at the stream's frame rate).
/// - The first frame of the stream without one has 0. After a seek, a frame without one whose predecessor was
///   not decoded has none (nil): it cannot be recognised, and the worker treats it as not yet positioned.
struct FrameClock {
    /// One frame at the stream's frame rate, in its time base (at least 1).
    let frameStep: Int64
    private var previous: (timestamp: Int64, duration: Int64)?
    private var atStart = true

    init(frameStep: Int64) { self.frameStep = max(1, frameStep) }

    /// One frame at `video`'s frame rate in its time base; 1 when the time base is coarser than a frame.
    static func frameStep(_ video: VideoFacts) -> Int64 {
        let r = video.frameRate, tb = video.timeBase
        return max(Int64(1), Int64((r.den * tb.den) / max(1, r.num * tb.num)))
    }

    /// The timestamp of the next decoded frame, by the rule above. Call once per frame, in decode output order.
    mutating func timestamp(of frame: Frame) -> Int64? {
        var t: Int64? = frame.timestamp
        if t == noPTS {
            if let p = previous { t = p.timestamp + p.duration } else { t = atStart ? 0 : nil }
        }
        atStart = false
        previous = t.map { ($0, frame.duration > 0 ? frame.duration : frameStep) }
        return t
    }

    /// After a seek: nothing is known about the frame before the next one. `toStart`: the next frame is the
    /// stream's first.
    mutating func reset(toStart: Bool) {
        previous = nil
        atStart = toStart
    }
}
