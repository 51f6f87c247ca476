import CFFmpeg
import EncodaModel
import Foundation

/// A decoder kept open right after the last frame of a chunk. The chunk that starts at that frame can be decoded
/// on from there: no seek, and none of the source GOP before it decoded again only to be thrown away. Used by one
/// worker thread at a time; `drop()` releases the decoder (and its reference frames).
public final class DecoderCarry: @unchecked Sendable {
    fileprivate var reader: FrameReader?
    fileprivate var next = -1
    public init() {}
    /// The frame number the kept decoder would deliver next, if a decoder is kept.
    public var nextFrame: Int? { reader == nil ? nil : next }
    public func drop() { reader = nil; next = -1 }
    fileprivate func keep(_ r: FrameReader, next n: Int) { reader = r; next = n }
}

/// Delivers exactly the frames of one chunk, in order, by seeking to the nearest keyframe before it and
/// decoding forward. Each delivered frame is recognised by its timestamp in the frame index, so the first frame
/// is proven to be the planned one; when seeking cannot be trusted it decodes from the start and counts.
final class ChunkFrameSource {
    let input: String
    let video: VideoFacts
    let index: FrameIndex
    let range: FrameRange
    let threads: Int
    private(set) var framesSkipped = 0
    private(set) var seekSeconds = 0.0

    init(input: String, video: VideoFacts, index: FrameIndex, range: FrameRange, threads: Int) {
        self.input = input; self.video = video; self.index = index; self.range = range; self.threads = threads
    }

    private func position(of timestamp: Int64) -> Int? {
        var lo = 0, hi = index.pts.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let v = index.pts[mid]
            if v == timestamp { return mid }
            if v < timestamp { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    private struct Misaligned: Error { var detail: String }

    /// Calls `body(frame, n)` for n = 0..<range.count with the chunk's frames in order. With `carry`, a decoder
    /// it holds that stands at `range.start` is decoded on instead of opening and seeking INPUT, and the decoder
    /// is left in `carry` afterwards (standing at `range.end`); any other decoder in it is dropped.
    func run(carry: DecoderCarry? = nil, _ body: (Frame, Int) throws -> Void) throws {
        LibavLogging.quiet()
        let reliable = index.seekable && index.hasUniqueIncreasingTimestamps
        if let carry, let reader = carry.reader, carry.next == range.start, reliable {
            carry.drop()
            do {
                // The frames still to come all follow the previous chunk's last one: nothing to discard.
                try deliver(reader: reader, counting: false, discardBefore: nil, seekStart: Date(), body)
                carry.keep(reader, next: range.end)
                return
            } catch is Misaligned {
                // Not where the previous chunk left it (cannot happen with a sound index): seek as usual.
            }
        }
        carry?.drop()
        let (demuxer, facts) = try InputProbe.open(input, frameRate: video.frameRate)
        guard facts.width == video.width, facts.height == video.height, facts.streamIndex == video.streamIndex else {
            throw EncodaError(.inputUnsupported, "INPUT \(input) is not the file this job was planned for (video is \(facts.width)x\(facts.height)); check the input path")
        }
        let reader = try FrameReader(demuxer: demuxer, streamIndex: video.streamIndex, threads: threads)
        var keyframe = reliable ? index.keyframe(atOrBefore: range.start) : 0
        let seekStart = Date()
        var tries = 0
        while true {
            tries += 1
            do {
                if keyframe > 0 {
                    try demuxer.seek(stream: video.streamIndex, timestamp: index.pts[keyframe])
                    reader.restart()
                } else if tries > 1 {
                    try demuxer.seekToStart(stream: video.streamIndex)
                    reader.restart()
                }
                // Frames are recognised by timestamp (not counted), so unreferenced pre-roll frames need not be
                // decoded. Only with one decoder thread: then each packet is decoded under the setting it was sent with.
                let discard = reliable && threads == 1 && range.start > 0 ? index.pts[range.start] : nil
                try deliver(reader: reader, counting: !reliable, discardBefore: discard, seekStart: seekStart, body)
                if reliable { carry?.keep(reader, next: range.end) }
                return
            } catch let m as Misaligned {
                // Seek landed after the chunk start or on an unknown frame: start from an earlier keyframe.
                if keyframe == 0 {
                    throw EncodaError(.inputDamaged, "could not position on frame \(range.start) of INPUT: \(m.detail); the file's timestamps may be damaged")
                }
                keyframe = index.keyframe(atOrBefore: keyframe - 1)
                if tries >= 4 { keyframe = 0 }
            }
        }
    }

    private func deliver(reader: FrameReader, counting: Bool, discardBefore: Int64?, seekStart: Date,
                         _ body: (Frame, Int) throws -> Void) throws {
        reader.discardUnreferencedBefore = discardBefore
        defer { reader.discardUnreferencedBefore = nil }
        var pos = -1
        var delivered = 0
        var skipped = 0
        while delivered < range.count {
            guard try reader.next() else {
                if delivered == 0 && pos < range.start {
                    throw Misaligned(detail: "the stream ended at frame \(pos) before the chunk start")
                }
                throw EncodaError(.inputDamaged, "INPUT ended after \(range.start + delivered) frames but the plan expects frames up to \(range.end - 1); the file changed or is damaged")
            }
            let f = reader.frame
            if counting {
                pos += 1
            } else {
                guard let p = position(of: f.timestamp) else {
                    if pos < 0 || pos + 1 < range.start { skipped += 1; continue } // a leading frame not in the index
                    throw EncodaError(.inputDamaged, "INPUT frame after \(pos) has timestamp \(f.timestamp), which the frame index does not know; the file changed since planning")
                }
                if pos < 0 && p > range.start {
                    throw Misaligned(detail: "seek landed on frame \(p), after \(range.start)")
                }
                if delivered > 0 && p != pos + 1 {
                    throw EncodaError(.inputDamaged, "INPUT decoded frame \(p) where frame \(pos + 1) was expected; the file is damaged or changed since planning")
                }
                pos = p
            }
            if pos < range.start { skipped += 1; continue }
            if delivered == 0 {
                reader.discardUnreferencedBefore = nil
                seekSeconds = Date().timeIntervalSince(seekStart)
                framesSkipped = skipped
                if !counting && pos != range.start {
                    throw Misaligned(detail: "first frame is \(pos), expected \(range.start)")
                }
            }
            if !counting && f.timestamp != index.pts[pos] && f.timestamp != noPTS {
                throw EncodaError(.inputDamaged, "INPUT frame \(pos) has timestamp \(f.timestamp), the index says \(index.pts[pos]); the file changed since planning")
            }
            try body(f, delivered)
            delivered += 1
        }
    }
}
