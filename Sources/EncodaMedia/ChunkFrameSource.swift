import EncodaFFmpeg
import EncodaModel
import Foundation
import Synchronization

/// A decoder kept open right after the last frame of a chunk. The chunk that starts at that frame can be decoded
/// on from there: no seek, and none of the source GOP before it decoded again only to be thrown away. Used by one
/// worker thread at a time (the lock makes handing it between threads safe); `drop()` releases the decoder (and its
/// reference frames).
public final class DecoderCarry: Sendable {
    private struct Kept {
        var reader: FrameReader
        var next: Int
    }
    private let kept = Mutex<Kept?>(nil)
    public init() {}
    /// The frame number the kept decoder would deliver next, if a decoder is kept.
    public var nextFrame: Int? { kept.withLock { $0?.next } }
    public func drop() { kept.withLock { $0 = nil } }
    /// The kept decoder when it stands at frame `n`; the carry is empty afterwards either way.
    fileprivate func take(at n: Int) -> FrameReader? {
        kept.withLock { k in
            let reader = k?.next == n ? k?.reader : nil
            k = nil
            return reader
        }
    }
    fileprivate func keep(_ r: FrameReader, next n: Int) { kept.withLock { $0 = Kept(reader: r, next: n) } }
}

/// Delivers exactly the frames of one chunk, in order, by seeking to the nearest keyframe before it and
/// decoding forward. Each delivered frame is recognised by its timestamp in the frame index, so the first frame
/// is proven to be the planned one; when seeking cannot be trusted it decodes from the start and counts. Raw
/// elementary streams have no timestamps to recognise frames by: there it seeks to the keyframe's byte position,
/// proves that decoding starts with that keyframe's packet, and counts from it (`FrameIndex.seeksByByte`).
final class ChunkFrameSource {
    let input: String
    let video: VideoFacts
    let index: any FrameLookup
    let range: FrameRange
    let threads: Int
    /// The frames are only measured (the scene pass's analysis of a span): decoded as `Decoder`'s `analysisOnly`.
    let analysisOnly: Bool
    private(set) var framesSkipped = 0
    private(set) var seekSeconds = 0.0

    init(input: String, video: VideoFacts, index: any FrameLookup, range: FrameRange, threads: Int, analysisOnly: Bool = false) {
        self.input = input; self.video = video; self.index = index; self.range = range; self.threads = threads
        self.analysisOnly = analysisOnly
    }

    private struct Misaligned: Error { var detail: String }

    /// Calls `body(frame, n)` for n = 0..<range.count with the chunk's frames in order. With `carry`, a decoder
    /// it holds that stands at `range.start` is decoded on instead of opening and seeking INPUT, and the decoder
    /// is left in `carry` afterwards (standing at `range.end`); any other decoder in it is dropped.
    func run(carry: DecoderCarry? = nil, _ body: (Frame, Int) throws -> Void) throws {
        LibavLogging.configure()
        if index.seeksByByte {
            try runCountingFromBytePositions(carry: carry, body)
            return
        }
        let reliable = index.timestampsReliable
        if reliable, let carry, let reader = carry.take(at: range.start) {
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
        let (demuxer, reader) = try open()
        var keyframe = reliable ? index.keyframe(atOrBefore: range.start) : 0
        let seekStart = Date()
        var tries = 0
        while true {
            tries += 1
            do {
                if keyframe > 0 {
                    try demuxer.seekInput(stream: video.streamIndex, timestamp: index.timestamp(keyframe))
                    reader.restart(toStart: false)
                } else if tries > 1 {
                    try demuxer.rewindInput(stream: video.streamIndex)
                    reader.restart(toStart: true)
                }
                // Frames are recognised by timestamp (not counted), so unreferenced pre-roll frames need not be
                // decoded. Only with one decoder thread: then each packet is decoded under the setting it was sent with.
                let discard = reliable && threads == 1 && range.start > 0 ? index.timestamp(range.start) : nil
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

    /// INPUT opened afresh, with a reader for the planned video stream.
    private func open() throws -> (Demuxer, FrameReader) {
        let (demuxer, facts) = try InputProbe.open(input, frameRate: video.frameRate)
        guard facts.width == video.width, facts.height == video.height, facts.streamIndex == video.streamIndex else {
            throw EncodaError(.inputUnsupported, "INPUT \(input) is not the file this job was planned for (video is \(facts.width)x\(facts.height)); check the input path")
        }
        let reader = try FrameReader(demuxer: demuxer, streamIndex: video.streamIndex, threads: threads,
                                     frameStep: FrameClock.frameStep(video), analysisOnly: analysisOnly)
        return (demuxer, reader)
    }

    /// `run` for an index positioned by byte: seek to the byte position of the keyframe at or before the chunk (INPUT
    /// opened afresh for frame 0, as the scene pass read it), check that the first frame decoded is that keyframe's
    /// (its packet position), and count from it. A kept decoder standing at the chunk start counts on.
    private func runCountingFromBytePositions(carry: DecoderCarry?, _ body: (Frame, Int) throws -> Void) throws {
        if let carry, let reader = carry.take(at: range.start) {
            try deliver(reader: reader, counting: true, firstFrame: range.start, seekStart: Date(), body)
            carry.keep(reader, next: range.end)
            return
        }
        carry?.drop()
        var ordinal = index.keyframeOrdinal(atOrBefore: range.start)
        let seekStart = Date()
        var tries = 0
        while true {
            tries += 1
            let (demuxer, reader) = try open()
            let (keyframe, bytePosition) = index.keyframe(ordinal: ordinal)
            if keyframe > 0 {
                try demuxer.seekInput(bytePosition: bytePosition)
                reader.restart(toStart: false)
            }
            do {
                try deliver(reader: reader, counting: true, firstFrame: keyframe, firstPosition: bytePosition,
                            seekStart: seekStart, body)
                carry?.keep(reader, next: range.end)
                return
            } catch let m as Misaligned {
                // Decoding did not start at the keyframe's packet (e.g. leading pictures shown): an earlier one.
                if ordinal == 0 {
                    throw EncodaError(.inputDamaged, "could not position on frame \(range.start) of INPUT: \(m.detail); the file changed since planning or is damaged")
                }
                ordinal = tries >= 3 ? 0 : ordinal - 1
            }
        }
    }

    /// Decodes on and calls `body` for the chunk's frames. `counting`: frames are numbered by counting, the first
    /// one decoded being `firstFrame` (whose packet lies at byte `firstPosition` when given); otherwise each frame
    /// is recognised by its timestamp in the index.
    private func deliver(reader: FrameReader, counting: Bool, firstFrame: Int = 0, firstPosition: Int64? = nil,
                         discardBefore: Int64? = nil, seekStart: Date, _ body: (Frame, Int) throws -> Void) throws {
        reader.discardUnreferencedBefore = discardBefore
        defer { reader.discardUnreferencedBefore = nil }
        var pos = counting ? firstFrame - 1 : -1
        var decoded = 0
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
            decoded += 1
            if counting {
                if decoded == 1, let expected = firstPosition, f.packetPosition != expected {
                    throw Misaligned(detail: "decoding started at the frame of byte \(f.packetPosition), not at frame \(firstFrame)'s (byte \(expected))")
                }
                pos += 1
            } else {
                guard let t = reader.timestamp, let p = index.position(of: t) else {
                    if pos < 0 || pos + 1 < range.start { skipped += 1; continue } // a leading frame not in the index
                    let shown = reader.timestamp.map(String.init) ?? "none"
                    throw EncodaError(.inputDamaged, "INPUT frame after \(pos) has timestamp \(shown), which the frame index does not know; the file changed since planning")
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
            if !counting, let t = reader.timestamp, t != index.timestamp(pos) {
                throw EncodaError(.inputDamaged, "INPUT frame \(pos) has timestamp \(t), the index says \(index.timestamp(pos)); the file changed since planning")
            }
            try body(f, delivered)
            delivered += 1
        }
    }
}
