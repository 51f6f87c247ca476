import EncodaFFmpeg
import EncodaModel
import Foundation

/// The scene pass's checks that the frame index it wrote is the whole of INPUT and that workers can find every
/// chunk's frames in it again.
extension ScenePass {
    /// How many of the frames a header counts the decode accounts for. A header (MP4's sample table, AVI's stream
    /// length) also counts frames that ffmpeg never shows:
    /// - packets an edit list hides (an MP4 trimmed with `ffmpeg -ss … -c copy`): libavcodec decodes them, for the
    ///   frames that refer to them, and returns no frame (`hidden`, counted by `FrameReader`);
    /// - where one tick of the time base is one frame (AVI), each timestamp is a slot of the header's count, and a
    ///   slot that holds no frame is an empty "drop frame" chunk (ffmpeg's AVI muxer writes one when audio leads),
    ///   which the demuxer skips. The slots are those from the first frame to the end of the last.
    /// A file cut short accounts for fewer than its header counts: its last frames are missing from the decode and
    /// from the timeline alike.
    static func accountedFrames(decoded: Int, hidden: Int, firstPTS: Int64, endPTS: Int64, timestampsCountFrames: Bool) -> Int {
        let slots = timestampsCountFrames && endPTS > firstPTS ? Int(clamping: endPTS - firstPTS) : 0
        return max(decoded, slots) + hidden
    }

    /// Throws when INPUT's header lists more video frames than the decode accounts for (`accountedFrames`): the
    /// file is truncated or damaged, and an encode of it would silently lose its end.
    static func checkComplete(input: String, demuxer: Demuxer, facts: VideoFacts, pts: [Int64], lastDuration: Int64,
                              hidden: Int, timestampsUsable: Bool) throws {
        let promised = InputProbe.promisedFrameCount(demuxer, stream: facts.streamIndex)
        guard promised > pts.count, let first = pts.first, let last = pts.last else { return }
        let r = facts.frameRate, tb = facts.timeBase
        let tickIsFrame = Int64(tb.num) * Int64(r.num) == Int64(tb.den) * Int64(r.den)
        let accounted = accountedFrames(decoded: pts.count, hidden: hidden, firstPTS: first, endPTS: last + max(1, lastDuration),
                                        timestampsCountFrames: tickIsFrame && timestampsUsable)
        if accounted < promised {
            throw EncodaError(.inputDamaged,
                "INPUT \(input) is damaged or truncated: its header lists \(promised) video frames but only \(pts.count) decode; re-copy or repair the file")
        }
    }

    /// For an index whose keyframes workers reach by byte (`FrameIndex.seeksByByte`): proves that they can, before
    /// any chunk is planned. Every keyframe must have a known byte position, the positions must increase, the format
    /// must allow byte seeking, and a byte seek to the last keyframe must make the decoder start with the frame of
    /// that keyframe's packet, as a worker needs (frame 0 needs no seek). Otherwise a worker could not find its
    /// chunk: INPUT is refused (exit 65) with the command that puts it in a container, where frames have timestamps.
    static func checkBytePositioning(input: String, demuxer: Demuxer, facts: VideoFacts, index: FrameIndex) throws {
        let positions = index.keyframePositions ?? []
        func refuse(_ why: String) -> EncodaError {
            EncodaError(.inputUnsupported,
                "INPUT \(input) is a raw \(facts.codecName) stream whose frames cannot be found again by byte position (\(why)); put it in a container first: ffmpeg -i \(InputProbe.shellQuoted(input)) -c copy \(InputProbe.shellQuoted(InputProbe.remuxedPath(input)))")
        }
        guard demuxer.allowsByteSeeking else { throw refuse("its format does not allow seeking by byte") }
        guard positions.count == index.keyframes.count, positions.allSatisfy({ $0 >= 0 }) else {
            throw refuse("the demuxer did not give the position of every keyframe")
        }
        guard zip(positions, positions.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw refuse("keyframe positions do not increase")
        }
        guard index.keyframes.count > 1, let position = positions.last, let frameNumber = index.keyframes.last else { return }
        let (trial, _) = try InputProbe.open(input)
        let reader = try FrameReader(demuxer: trial, streamIndex: facts.streamIndex, threads: 1, frameStep: FrameClock.frameStep(facts))
        do {
            try trial.seekInput(bytePosition: position)
            reader.restart(toStart: false)
            guard try reader.next() else { throw refuse("nothing decodes after a seek to keyframe \(frameNumber)") }
        } catch let e as EncodaError where e.code == .inputDamaged {
            throw refuse("a seek to keyframe \(frameNumber) failed: \(e.description)")
        }
        let found = reader.frame.packetPosition
        guard found == position else {
            throw refuse("a seek to keyframe \(frameNumber) at byte \(position) started decoding at the frame of byte \(found)")
        }
    }
}
