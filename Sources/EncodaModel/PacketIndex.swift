/// Every packet of INPUT's video stream as the demuxer reads it, in decode order, before any pixel is decoded:
/// enough to number the frames as the decoder will return them (the `FrameIndex`), with their timestamps,
/// keyframes and sizes. Demuxing a 2 h film takes seconds where decoding it takes minutes.
public struct PacketIndex: Sendable, Hashable {
    /// One demuxed packet of the video stream (the corresponding C type is `AVPacket`).
    public struct Packet: Sendable, Hashable {
        /// Presentation and decode timestamps in the stream's time base; nil where the demuxer gave none.
        public var pts: Int64?
        public var dts: Int64?
        /// In the stream's time base; 0 when unknown.
        public var duration: Int64
        public var isKeyframe: Bool
        /// Hidden by an edit list (`AV_PKT_FLAG_DISCARD`): decoded for the frames that refer to it, never shown.
        public var isDiscarded: Bool
        public var size: Int32
        /// Byte position in INPUT; -1 when the demuxer did not say.
        public var position: Int64

        public init(pts: Int64?, dts: Int64?, duration: Int64, isKeyframe: Bool, isDiscarded: Bool = false, size: Int32, position: Int64) {
            self.pts = pts; self.dts = dts; self.duration = duration; self.isKeyframe = isKeyframe
            self.isDiscarded = isDiscarded; self.size = size; self.position = position
        }
    }

    /// In decode (file) order.
    public var packets: [Packet]

    public init(packets: [Packet]) { self.packets = packets }

    /// Packets an edit list hides (counted by a header's frame count, never shown).
    public var hiddenCount: Int { packets.lazy.filter(\.isDiscarded).count }

    /// Why these packets cannot be numbered as frames without decoding; nil when they can.
    public var unusableReason: String? { frames().reason }

    /// The frame index these packets give, numbered as the scene pass numbers decoded frames: one frame per shown
    /// packet, in presentation order. Nil (with `unusableReason`) where the decoder's output cannot be foreseen
    /// from the packets alone: a packet without a timestamp, two with the same one, or a stream that does not start
    /// with a keyframe. `frameStep` is one frame in the time base, the last
    /// frame's duration when its packet has none (as `FrameClock` does).
    public func frameIndex(frameStep: Int64) -> FrameIndex? {
        guard let shown = frames().shown else { return nil }
        let pts = shown.map { $0.pts! }
        var keyframes: [Int] = [], positions: [Int64] = []
        // Frame 0 counts as a keyframe, as in a whole pass: decoding starts there (after the packets an edit list hides).
        for (n, p) in shown.enumerated() where p.isKeyframe || n == 0 {
            keyframes.append(n); positions.append(p.position)
        }
        let last = shown[shown.count - 1].duration
        return FrameIndex(pts: pts, durations: FrameIndex.durations(for: pts, lastDuration: last > 0 ? last : max(1, frameStep)),
                          keyframes: keyframes, seekable: true, packetSizes: shown.map(\.size), keyframePositions: positions)
    }

    /// The shown packets in presentation order, or why they cannot stand for the decoder's frames.
    private func frames() -> (shown: [Packet]?, reason: String?) {
        let shown = packets.filter { !$0.isDiscarded }
        guard !shown.isEmpty else { return (nil, "no video packet") }
        guard shown.allSatisfy({ $0.pts != nil }) else { return (nil, "packets without a presentation timestamp") }
        let sorted = shown.sorted { $0.pts! < $1.pts! }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.pts! == b.pts! {
            return (nil, "two packets with the timestamp \(a.pts!)")
        }
        guard packets[0].isKeyframe else { return (nil, "the stream does not start with a keyframe") }
        return (sorted, nil)
    }
}
