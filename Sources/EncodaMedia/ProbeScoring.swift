import EncodaCodecs
import EncodaFFmpeg
import EncodaModel
import Foundation

/// What a probe encode measures: its pictures decoded again and scored against the pictures the encoder received
/// (after crop, scale and pixel-format conversion: exactly what OUTPUT shows), every `rate`-th frame (each scored
/// as in a run over every frame: `FramePairScorer`).
public struct ProbeScoring: Sendable {
    public var metric: QualityMetric
    public var rate: Int
    /// An ffmpeg with libvmaf, for `.vmaf`.
    public var vmafFFmpeg: String?
    public init(metric: QualityMetric, rate: Int, vmafFFmpeg: String?) { self.metric = metric; self.rate = max(1, rate); self.vmafFFmpeg = vmafFFmpeg }
}

/// Scores one chunk encode while it is made: each encoded packet is decoded at once, and each decoded picture is
/// paired with a copy of the picture the encoder was given for that frame. Only the copies of frames the encoder
/// still holds (its lookahead and reordering) are kept, so memory does not grow with the chunk.
final class ProbeMeasurement {
    private let scoring: ProbeScoring
    private let decoder: Decoder
    private let scorer: FramePairScorer
    private var references: [(Int, Frame)] = []
    private var decoded = 0
    private let packet = Packet()
    private let picture = Frame()
    private(set) var scores: [Double] = []

    init(scoring: ProbeScoring, encoder: EncoderKind, extradata: [UInt8]) throws {
        self.scoring = scoring
        // dav1d where libavcodec has it: its native AV1 decoder needs a hardware accelerator.
        do throws(LibavError) {
            decoder = try encoder == .av1 ? Decoder(codec: "av1", preferring: "libdav1d", extradata: extradata)
                                          : Decoder(codec: "h264", extradata: extradata)
        } catch where error.code == LibavError.decoderNotFound {
            throw EncodaError(.inputUnsupported, "this libavcodec cannot decode \(encoder.rawValue), which --target-quality needs to score its probes")
        } catch {
            throw EncodaError(.internalError, "the decoder for scoring probes could not be opened", cause: error.text)
        }
        scorer = try FramePairScorer(metric: scoring.metric, vmafFFmpeg: scoring.vmafFFmpeg, every: scoring.rate)
    }

    /// The picture the encoder receives as frame `n` of the chunk; kept (copied) when the scorer wants it.
    func reference(_ f: Frame, n: Int) throws {
        guard scorer.wants(n) else { return }
        let copy = Frame()
        do throws(LibavError) { try copy.copyPicture(of: f) } catch {
            let what = error.function == "av_frame_copy" ? "copying" : "allocating"
            throw EncodaError(.internalError, "\(what) a picture to score failed", cause: error.text)
        }
        references.append((n, copy))
    }

    /// An encoded packet, as written to the chunk file.
    func packet(_ p: EncodedPacket) throws {
        try check(.internalError, "allocating a packet to score failed") {
            try packet.fill(copying: p.data, pts: p.pts, dts: p.dts, isKeyframe: p.isKey)
        }
        try send(packet)
    }

    /// Drains the decoder; returns the per-frame scores, in frame order. `frames`: the chunk's frame count.
    func finish(frames: Int) throws -> [Double] {
        try send(nil)
        guard decoded == frames, references.isEmpty else {
            throw EncodaError(.encoder, "scoring a probe decoded \(decoded) of its \(frames) frames; it will be encoded again")
        }
        return try scorer.finish()
    }

    private func send(_ p: Packet?) throws {
        while true {
            let accepted = try check(.encoder, "decoding a probe encode to score it failed") { try decoder.send(p, skippingDamaged: false) }
            try receive()
            if accepted { return }
        }
    }

    private func receive() throws {
        while true {
            let got = try check(.encoder, "decoding a probe encode to score it failed") { try decoder.receive(into: picture) }
            guard got == .frame else { return }
            let n = decoded
            decoded += 1
            guard scorer.wants(n) else { continue }
            guard let first = references.first, first.0 == n else {
                throw EncodaError(.internalError, "a decoded probe frame \(n) has no picture to be scored against")
            }
            references.removeFirst()
            // The encoder's picture carries no colour tags of its own (a copy, or a conversion): it is what the
            // encoded stream says it is, so both pictures of the pair go to RGB with the stream's matrix and range.
            // (Left untagged, the reference was read as BT.601 beside a BT.709 probe: a colour shift that scored
            // HD test patterns below 10 at any CRF.)
            first.1.copyColourTags(from: picture)
            try scorer.add(reference: first.1, distorted: picture)
        }
    }
}
