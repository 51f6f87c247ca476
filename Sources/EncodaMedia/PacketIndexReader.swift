import EncodaFFmpeg
import EncodaModel
import Foundation

/// Reads INPUT's packet index: one demux of the file, no decoding (see `PacketIndex`).
public enum PacketIndexReader {
    public struct Output: Sendable {
        /// The stream's facts as the header gives them (what only decoded frames tell, such as interlacing, the
        /// first frame's HDR metadata and the truncation check, is the analysis's to add).
        public var video: VideoFacts
        public var packets: PacketIndex
        /// The frame index the packets give; nil when they cannot be numbered without decoding (`reason` says why).
        public var index: FrameIndex?
        public var reason: String?
        /// The frame count INPUT's header promises (0 when it does not say) and how many of those an edit list hides.
        public var promisedFrames: Int
    }

    /// Demuxes every packet of INPUT's video stream. Nil, with the reason, for inputs the index cannot describe at
    /// all: image sequences (each image is checked by decoding it), raw elementary streams (libav makes their
    /// timestamps up while reading), and a file that cannot be read to its end (the full pass then says what is wrong).
    public static func read(input: String) throws -> (output: Output?, reason: String?) {
        LibavLogging.configure()
        if try ImageSequence.resolve(input) != nil { return (nil, "INPUT is an image sequence") }
        let (demuxer, facts) = try InputProbe.open(input)
        if demuxer.isRawElementaryStream { return (nil, "INPUT is a raw stream without timestamps") }
        let si = facts.streamIndex
        for i in 0..<demuxer.streamCount where i != si { demuxer.discard(stream: i) }
        var packets: [PacketIndex.Packet] = []
        packets.reserveCapacity(max(0, InputProbe.estimatedFrameCount(demuxer, facts: facts)) + 16)
        let packet = Packet()
        do {
            while try demuxer.readInput(into: packet) {
                let p = packet
                guard p.streamIndex == si else { continue }
                packets.append(PacketIndex.Packet(
                    pts: p.pts == noPTS ? nil : p.pts, dts: p.dts == noPTS ? nil : p.dts, duration: max(0, p.duration),
                    isKeyframe: p.isKeyframe, isDiscarded: p.isDiscarded,
                    size: p.size, position: p.position))
            }
        } catch let e as EncodaError where e.code == .inputDamaged {
            return (nil, "INPUT cannot be read to its end")
        }
        let index = PacketIndex(packets: packets)
        let frames = oneFramePerPacket(facts.codecName) ? index.frameIndex(frameStep: FrameClock.frameStep(facts)) : nil
        let reason = oneFramePerPacket(facts.codecName) ? index.unusableReason : "\(facts.codecName) packets may hold more or fewer than one frame"
        return (Output(video: facts, packets: index, index: frames, reason: reason,
                       promisedFrames: InputProbe.promisedFrameCount(demuxer, stream: si)), nil)
    }

    /// Codecs whose packets, in a container, each carry exactly one shown frame, so that the packets number the
    /// frames. Not MPEG-4 part 2 (packed B-frames, empty "not coded" packets), nor VP8/VP9 (an alt-ref frame may
    /// be a packet of its own that shows nothing), nor anything unlisted.
    static func oneFramePerPacket(_ codec: String) -> Bool {
        ["h264", "hevc", "av1", "mpeg2video", "mpeg1video", "prores", "dnxhd", "mjpeg", "ffv1",
         "rawvideo", "huffyuv", "ffvhuff", "utvideo", "png", "qtrle", "v210", "cfhd"].contains(codec)
    }
}
