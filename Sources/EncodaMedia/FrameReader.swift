import EncodaFFmpeg

/// Decodes the frames of one stream in presentation order, calling `body` for each; `body` returns false to stop.
///
/// Why `@unchecked Sendable` holds (one of the package's two): a reader owns a demuxer and a decoder, which are not
/// thread-safe, and it is only ever used by one thread at a time. The only hand-over between threads is
/// `DecoderCarry`, which keeps a reader under its lock after a chunk and gives it to the next chunk's thread by
/// `take(at:)`, which empties the carry: the thread that kept it no longer holds it, so two threads never decode
/// with one reader.
final class FrameReader: @unchecked Sendable {
    let demuxer: Demuxer
    let decoder: Decoder
    let streamIndex: Int
    private let packet = Packet()
    let frame = Frame()
    private var draining = false
    private var finished = false
    private var clock: FrameClock
    /// The timestamp of `frame` by the rule the scene pass and the workers share (`FrameClock`); nil when it
    /// has none and its predecessor was not decoded (right after a seek).
    private(set) var timestamp: Int64?
    /// Packets of the stream read with `AV_PKT_FLAG_DISCARD`: frames an edit list hides. libavcodec decodes them
    /// (later frames may refer to them) but returns no frame for them, as in ffmpeg; the header's frame count
    /// includes them.
    private(set) var hiddenFrames = 0
    /// While set, packets shown before this timestamp that no other frame refers to are not decoded at all
    /// (pre-roll after a seek: such frames could only be thrown away). Reference frames are always decoded, so the
    /// frames from this timestamp on are bit-exact. Clear it once the first wanted frame has come out.
    var discardUnreferencedBefore: Int64? {
        didSet {
            if discardUnreferencedBefore == nil { decoder.skipUnreferenced(false) }
        }
    }

    /// - Parameter frameStep: one frame in the stream's time base (`FrameClock.frameStep`), for frames without
    ///   a timestamp.
    init(demuxer: Demuxer, streamIndex: Int, threads: Int, frameStep: Int64, analysisOnly: Bool = false) throws {
        self.demuxer = demuxer
        self.streamIndex = streamIndex
        clock = FrameClock(frameStep: frameStep)
        decoder = try Decoder.input(demuxer, stream: streamIndex, threads: threads, analysisOnly: analysisOnly)
    }

    /// Next decoded frame into `frame`; false at the end of the stream.
    func next() throws -> Bool {
        if finished { return false }
        while true {
            switch try check(.inputDamaged, "decoding INPUT failed", { try decoder.receive(into: frame) }) {
            case .frame:
                timestamp = clock.timestamp(of: frame)
                return true
            case .endOfStream: finished = true; return false
            case .needsInput:
                if draining { finished = true; return false }
                var gotPacket = false
                while try demuxer.readInput(into: packet) {
                    if packet.streamIndex == streamIndex {
                        if packet.isDiscarded { hiddenFrames += 1 }
                        gotPacket = true
                        break
                    }
                }
                if gotPacket {
                    if let limit = discardUnreferencedBefore {
                        let pts = packet.pts
                        decoder.skipUnreferenced(pts != noPTS && pts < limit)
                    }
                    _ = try check(.inputDamaged, "decoding INPUT failed", { try decoder.send(packet) })
                } else {
                    draining = true
                    _ = try check(.inputDamaged, "decoding INPUT failed", { try decoder.send(nil) })
                }
            }
        }
    }

    /// After a demuxer seek: forget decoder state and start reading again. `toStart`: the seek went to the
    /// start of the stream (a first frame without timestamp then has 0, as in the scene pass).
    func restart(toStart: Bool) {
        decoder.flush()
        clock.reset(toStart: toStart)
        timestamp = nil
        draining = false
        finished = false
    }
}
