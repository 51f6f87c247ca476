import EncodaFFmpeg
import EncodaModel
import Foundation

/// What `--mux` adds to OUTPUT beside the video: copied audio and subtitle packets read from INPUT, transcoded
/// audio read from TMP, attachments, chapters and metadata. Its packets are handed to the muxer in time order,
/// interleaved with the video by the concatenator.
public final class SideStreams {
    let input: String
    let record: PreparedAudio
    let folder: String
    private let demuxer: Demuxer
    private var outIndex: [Int: Int] = [:]          // INPUT stream → OUTPUT stream, for packets read from INPUT
    private var storedOut: [Int: Int] = [:]         // INPUT stream → OUTPUT stream, for transcoded tracks
    private var storedParams: [Int: AudioTrackParameters] = [:]
    private var stored: [PacketStoreReader.Item] = []
    private var storedPos = 0
    private var copyAudio: Set<Int> = []
    private let start: Double, end: Double, halfFrame: Double
    /// `--cut-audio-to-video`: copied audio outside the video's span is left out (AudioPreparer checked the same packets).
    private var cutAudio: Bool { record.settings.cutToVideo }
    /// A part of INPUT (`--start`/`--end`): audio cut to it, subtitles and chapters clipped to it.
    private var trimmed: Bool { record.settings.trimmed == true }
    /// The video's span and what every timestamp is moved by (the first kept frame's time, unless
    /// `--keep-timestamps`), in the video's time base, for rescaling into each stream's own.
    private let videoTimeBase: LibavRational
    private let spanStart: Int64, spanEnd: Int64, shift: Int64
    private var shiftSeconds: Double { Double(shift) * Double(videoTimeBase.num) / Double(videoTimeBase.den) }
    private let peek = Packet()
    private var peeked = false
    private var inputDone = false
    private let out = Packet()
    public private(set) var packetsWritten = 0

    /// - Parameters: index: the frames OUTPUT holds (a trim's alone); shiftTimestamps: move every side packet and
    ///   chapter as the video's first frame is moved to 0 (a trim without `--keep-timestamps`).
    public init(input: String, record: PreparedAudio, folder: String, video: VideoFacts, index: FrameIndex,
                shiftTimestamps: Bool = false) throws {
        self.input = input; self.record = record; self.folder = folder
        videoTimeBase = video.timeBase.libav
        spanStart = index.pts[0]
        spanEnd = index.pts[index.pts.count - 1] + index.durations[index.pts.count - 1]
        shift = shiftTimestamps ? index.pts[0] : 0
        demuxer = try Demuxer.input(input)
        (start, end) = AudioPreparer.span(video: video, index: index)
        halfFrame = 0.5 / max(video.frameRate.doubleValue, 1)
        if !record.file.isEmpty {
            stored = try PacketStoreReader(path: folder + "/" + record.file).items
        }
        for t in record.tracks { storedParams[t.sourceIndex] = t }
    }

    /// Adds the streams, chapters and metadata to OUTPUT before its header is written.
    func addStreams(to muxer: borrowing Muxer) throws {
        let vsrc = Int(videoSourceIndex)
        muxer.addTags(kept(demuxer.tags(of: vsrc)), toStream: 0)
        muxer.copyDisposition(of: vsrc, in: demuxer, toStream: 0, droppingAttachedPicture: true)
        muxer.addFileTags(kept(demuxer.fileTags))
        for s in record.plan.streams where !s.isDropped {
            let o: Int
            if case .transcode = s.action, let t = storedParams[s.index] {
                o = try check(.internalError, "avformat_new_stream failed") {
                    try muxer.addAudioStream(OutputAudioParameters(
                        encoderName: t.codec == "opus" ? "libopus" : t.codec, sampleRate: t.sampleRate, channelMask: t.channelMask,
                        channels: t.channels, frameSize: t.frameSize, initialPadding: t.initialPadding, bitRate: t.bitRate,
                        extradata: t.extradata))
                }
                storedOut[s.index] = o
            } else if case .transcode = s.action {
                throw EncodaError(.stateCorrupt, "the prepared audio lacks track #\(s.index); delete TMP/audio and re-run")
            } else {
                do { o = try muxer.addStream(copying: s.index, of: demuxer) } catch where error.function == "avformat_new_stream" {
                    throw EncodaError(.internalError, "avformat_new_stream failed")
                } catch {
                    throw EncodaError(.internalError, "copying stream parameters failed", cause: error.text)
                }
                outIndex[s.index] = o
                if s.kind == .audio { copyAudio.insert(s.index) }
            }
            muxer.addTags(kept(demuxer.tags(of: s.index)), toStream: o)
            muxer.copyDisposition(of: s.index, in: demuxer, toStream: o)
        }
        for i in 0..<demuxer.streamCount where outIndex[i] == nil { demuxer.discard(stream: i) }
        // Audio that starts before INPUT's time zero: an MP4/MOV edit list would hide the lead-in, so every stream is
        // shifted to non-negative times instead, as Matroska does on its own and as ffmpeg -c copy does (the note
        // comes from AudioPreparer.negativeLeadIn).
        if !cutAudio, AudioPreparer.negativeLeadIn(demuxer, plan: record.plan) != nil {
            muxer.avoidNegativeTimestamps()
        }
        if record.plan.chapters > 0 { muxer.setChapters(keptChapters()) }
    }

    private var videoSourceIndex: Int32 {
        Int32(demuxer.videoStreamIndex() ?? 0)
    }

    /// Stream tags worth keeping: statistics written by mkvmerge describe the old stream and would lie.
    private func kept(_ tags: [LibavTag]) -> [LibavTag] {
        tags.filter { t in
            let k = t.key.uppercased()
            return !(k.hasPrefix("BPS") || k.hasPrefix("DURATION") || k.hasPrefix("NUMBER_OF_") || k.hasPrefix("_STATISTICS") || k == "ENCODER")
        }
    }

    private func keptChapters() -> [LibavChapter] {
        var list: [LibavChapter] = []
        for c in demuxer.chapters {
            var c = c
            if trimmed {
                // A part of INPUT: chapters inside it are kept, those across its start or end clipped to it.
                let tb = c.timeBase
                let s0 = LibavRational.rescale(spanStart, from: videoTimeBase, to: tb), s1 = LibavRational.rescale(spanEnd, from: videoTimeBase, to: tb)
                guard c.end > s0, c.start < s1 else { continue }
                let moved = LibavRational.rescale(shift, from: videoTimeBase, to: tb)
                c.start = max(c.start, s0) - moved
                c.end = min(c.end, s1) - moved
            }
            c.tags = kept(c.tags)
            list.append(c)
        }
        return list
    }

    private func seconds(_ ts: Int64, _ tb: LibavRational) -> Double { Double(ts) * Double(tb.num) / Double(tb.den) }

    /// Time of the next packet from INPUT (reading ahead one), nil at the end.
    private func nextInputTime() throws -> Double? {
        while !peeked && !inputDone {
            guard try demuxer.readInput(into: peek) else { inputDone = true; break }
            let si = peek.streamIndex
            guard outIndex[si] != nil else { continue }
            let tb = demuxer.timeBase(of: si)
            let p = peek
            let ts = p.pts != noPTS ? p.pts : p.dts
            if ts == noPTS { peeked = true; break }
            let s0 = seconds(ts, tb), s1 = s0 + seconds(p.duration, tb)
            // Kept whole, as ffmpeg -c copy keeps them: subtitles, and audio unless --cut-audio-to-video cuts it to the video.
            if cutAudio && copyAudio.contains(si) &&
                !AudioPreparer.keepsCopied(s0, s1, start: start, end: end, halfFrame: halfFrame, trimmed: trimmed) { continue }
            // A part of INPUT: subtitles only where they overlap it (clipped to it when written).
            if trimmed && !copyAudio.contains(si) && (max(s1, s0 + 1e-6) <= start || s0 >= end) { continue }
            peeked = true
        }
        guard peeked else { return nil }
        let si = peek.streamIndex
        let p = peek
        let ts = p.dts != noPTS ? p.dts : (p.pts != noPTS ? p.pts : 0)
        return max(seconds(ts, demuxer.timeBase(of: si)), trimmed ? start : -.infinity) - shiftSeconds
    }

    private func nextStoredTime() -> Double? {
        guard storedPos < stored.count else { return nil }
        let it = stored[storedPos]
        guard let t = storedParams[it.track] else { return nil }
        return Double(t.startPTS + it.dts) / Double(t.sampleRate) - shiftSeconds
    }

    /// Clips a subtitle packet of a part of INPUT to the video's span (one that begins before it begins with it, one
    /// that ends after it ends with it), then moves it with the video. Audio packets are only moved.
    private func clipAndShift(_ pk: Packet, stream si: Int) {
        let tb = demuxer.timeBase(of: si)
        if trimmed && !copyAudio.contains(si) && pk.pts != noPTS {
            let s0 = LibavRational.rescale(spanStart, from: videoTimeBase, to: tb), s1 = LibavRational.rescale(spanEnd, from: videoTimeBase, to: tb)
            let begin = max(pk.pts, s0)
            if pk.duration > 0 { pk.duration = max(0, min(pk.pts + pk.duration, s1) - begin) }
            if pk.dts != noPTS { pk.dts += begin - pk.pts }
            pk.pts = begin
        }
        guard shift != 0 else { return }
        let d = LibavRational.rescale(shift, from: videoTimeBase, to: tb)
        if pk.pts != noPTS { pk.pts -= d }
        if pk.dts != noPTS { pk.dts -= d }
    }

    /// Writes every side packet due at or before `limit` seconds (nil: all that remain).
    func write(upTo limit: Double?, into muxer: borrowing Muxer) throws {
        while true {
            let a = try nextInputTime(), b = nextStoredTime()
            guard a != nil || b != nil else { return }
            let takeInput = b == nil || (a != nil && a! <= b!)
            let t = takeInput ? a! : b!
            if let limit, t > limit { return }
            if takeInput {
                let si = peek.streamIndex
                let o = outIndex[si]!
                peek.streamIndex = o
                peek.position = -1
                clipAndShift(peek, stream: si)
                peek.rescaleTimestamps(from: demuxer.timeBase(of: si), to: muxer.timeBase(ofStream: o))
                peeked = false
                try check(.outputInvalid, "writing stream #\(si) into OUTPUT failed") { try muxer.writeInterleaved(peek) }
            } else {
                let it = stored[storedPos]
                storedPos += 1
                guard let params = storedParams[it.track], let o = storedOut[it.track] else { continue }
                // Moved with the video: with a part of INPUT sample 0 is its first frame, which becomes time 0.
                let moved = Int64((shiftSeconds * Double(params.sampleRate)).rounded())
                try check(.internalError, "allocating a packet failed") {
                    try it.data.withUnsafeBytes { try out.fill(copying: $0, pts: params.startPTS + it.pts - moved, dts: params.startPTS + it.dts - moved, isKeyframe: false) }
                }
                out.duration = it.duration
                out.flags = it.flags
                out.streamIndex = o
                out.rescaleTimestamps(from: LibavRational(1, params.sampleRate), to: muxer.timeBase(ofStream: o))
                try check(.outputInvalid, "writing audio into OUTPUT failed") { try muxer.writeInterleaved(out) }
            }
            packetsWritten += 1
        }
    }
}
