import CFFmpeg
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
    private var outIndex: [Int: Int32] = [:]        // INPUT stream → OUTPUT stream, for packets read from INPUT
    private var storedOut: [Int: Int32] = [:]       // INPUT stream → OUTPUT stream, for transcoded tracks
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
    private let videoTimeBase: AVRational
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
        videoTimeBase = video.timeBase.av
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
    func addStreams(to ctx: UnsafeMutablePointer<AVFormatContext>, video: UnsafeMutablePointer<AVStream>) throws {
        let vsrc = demuxer.stream(Int(videoSourceIndex))
        copyMetadata(from: vsrc.pointee.metadata, to: &video.pointee.metadata)
        video.pointee.disposition = vsrc.pointee.disposition & ~AV_DISPOSITION_ATTACHED_PIC
        copyMetadata(from: demuxer.formatContext.pointee.metadata, to: &ctx.pointee.metadata)
        for s in record.plan.streams where !s.isDropped {
            let src = demuxer.stream(s.index)
            guard let st = avformat_new_stream(ctx, nil) else { throw EncodaError(.internalError, "avformat_new_stream failed") }
            if case .transcode = s.action, let t = storedParams[s.index] {
                let par = st.pointee.codecpar!
                par.pointee.codec_type = AVMEDIA_TYPE_AUDIO
                par.pointee.codec_id = avcodec_find_encoder_by_name(t.codec == "opus" ? "libopus" : t.codec)?.pointee.id ?? AV_CODEC_ID_NONE
                par.pointee.sample_rate = Int32(t.sampleRate)
                if t.channelMask != 0 { av_channel_layout_from_mask(&par.pointee.ch_layout, t.channelMask) }
                else { av_channel_layout_default(&par.pointee.ch_layout, Int32(t.channels)) }
                par.pointee.frame_size = Int32(t.frameSize)
                par.pointee.initial_padding = Int32(t.initialPadding)
                par.pointee.bit_rate = Int64(t.bitRate)
                if !t.extradata.isEmpty {
                    guard let mem = av_mallocz(t.extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { fatalError("out of memory") }
                    t.extradata.withUnsafeBytes { mem.copyMemory(from: $0.baseAddress!, byteCount: t.extradata.count) }
                    par.pointee.extradata = mem.assumingMemoryBound(to: UInt8.self)
                    par.pointee.extradata_size = Int32(t.extradata.count)
                }
                st.pointee.time_base = AVRational(num: 1, den: Int32(t.sampleRate))
                storedOut[s.index] = st.pointee.index
            } else if case .transcode = s.action {
                throw EncodaError(.stateCorrupt, "the prepared audio lacks track #\(s.index); delete TMP/audio and re-run")
            } else {
                try check(avcodec_parameters_copy(st.pointee.codecpar, src.pointee.codecpar), .internalError, "copying stream parameters failed")
                st.pointee.codecpar.pointee.codec_tag = 0
                st.pointee.time_base = src.pointee.time_base
                outIndex[s.index] = st.pointee.index
                if s.kind == .audio { copyAudio.insert(s.index) }
            }
            copyMetadata(from: src.pointee.metadata, to: &st.pointee.metadata)
            st.pointee.disposition = src.pointee.disposition
        }
        for i in 0..<demuxer.streamCount where outIndex[i] == nil { demuxer.stream(i).pointee.discard = AVDISCARD_ALL }
        // Audio that starts before INPUT's time zero: an MP4/MOV edit list would hide the lead-in, so every stream is
        // shifted to non-negative times instead, as Matroska does on its own and as ffmpeg -c copy does (the note
        // comes from AudioPreparer.negativeLeadIn).
        if !cutAudio, AudioPreparer.negativeLeadIn(demuxer, plan: record.plan) != nil {
            ctx.pointee.avoid_negative_ts = AVFMT_AVOID_NEG_TS_MAKE_NON_NEGATIVE
        }
        if record.plan.chapters > 0 { try copyChapters(to: ctx) }
    }

    private var videoSourceIndex: Int32 {
        Int32(demuxer.videoStreamIndex() ?? 0)
    }

    /// Stream tags worth keeping: statistics written by mkvmerge describe the old stream and would lie.
    private func copyMetadata(from src: OpaquePointer?, to dst: inout OpaquePointer?) {
        var e: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let next = av_dict_get(src, "", e, AV_DICT_IGNORE_SUFFIX) {
            e = next
            let key = String(cString: next.pointee.key)
            let k = key.uppercased()
            if k.hasPrefix("BPS") || k.hasPrefix("DURATION") || k.hasPrefix("NUMBER_OF_") || k.hasPrefix("_STATISTICS") || k == "ENCODER" { continue }
            av_dict_set(&dst, next.pointee.key, next.pointee.value, 0)
        }
    }

    private func copyChapters(to ctx: UnsafeMutablePointer<AVFormatContext>) throws {
        let n = Int(demuxer.formatContext.pointee.nb_chapters)
        guard n > 0, let src = demuxer.formatContext.pointee.chapters else { return }
        guard let arr = av_calloc(n, MemoryLayout<UnsafeMutablePointer<AVChapter>?>.size) else { fatalError("out of memory") }
        let list = arr.assumingMemoryBound(to: UnsafeMutablePointer<AVChapter>?.self)
        var kept = 0
        for i in 0..<n {
            guard let c = src[i] else { continue }
            var start = c.pointee.start, end = c.pointee.end
            if trimmed {
                // A part of INPUT: chapters inside it are kept, those across its start or end clipped to it.
                let tb = c.pointee.time_base
                let s0 = av_rescale_q(spanStart, videoTimeBase, tb), s1 = av_rescale_q(spanEnd, videoTimeBase, tb)
                guard end > s0, start < s1 else { continue }
                start = max(start, s0) - av_rescale_q(shift, videoTimeBase, tb)
                end = min(end, s1) - av_rescale_q(shift, videoTimeBase, tb)
            }
            guard let mem = av_mallocz(MemoryLayout<AVChapter>.size) else { continue }
            let ch = mem.assumingMemoryBound(to: AVChapter.self)
            ch.pointee.id = c.pointee.id
            ch.pointee.time_base = c.pointee.time_base
            ch.pointee.start = start
            ch.pointee.end = end
            copyMetadata(from: c.pointee.metadata, to: &ch.pointee.metadata)
            list[kept] = ch
            kept += 1
        }
        ctx.pointee.chapters = list
        ctx.pointee.nb_chapters = UInt32(kept)
    }

    private func seconds(_ ts: Int64, _ tb: AVRational) -> Double { Double(ts) * Double(tb.num) / Double(tb.den) }

    /// Time of the next packet from INPUT (reading ahead one), nil at the end.
    private func nextInputTime() throws -> Double? {
        while !peeked && !inputDone {
            guard try demuxer.readInput(into: peek) else { inputDone = true; break }
            let si = Int(peek.pointer.pointee.stream_index)
            guard outIndex[si] != nil else { continue }
            let tb = demuxer.stream(si).pointee.time_base
            let p = peek.pointer.pointee
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
        let si = Int(peek.pointer.pointee.stream_index)
        let p = peek.pointer.pointee
        let ts = p.dts != noPTS ? p.dts : (p.pts != noPTS ? p.pts : 0)
        return max(seconds(ts, demuxer.stream(si).pointee.time_base), trimmed ? start : -.infinity) - shiftSeconds
    }

    private func nextStoredTime() -> Double? {
        guard storedPos < stored.count else { return nil }
        let it = stored[storedPos]
        guard let t = storedParams[it.track] else { return nil }
        return Double(t.startPTS + it.dts) / Double(t.sampleRate) - shiftSeconds
    }

    /// Clips a subtitle packet of a part of INPUT to the video's span (one that begins before it begins with it, one
    /// that ends after it ends with it), then moves it with the video. Audio packets are only moved.
    private func clipAndShift(_ pk: UnsafeMutablePointer<AVPacket>, stream si: Int) {
        let tb = demuxer.stream(si).pointee.time_base
        if trimmed && !copyAudio.contains(si) && pk.pointee.pts != noPTS {
            let s0 = av_rescale_q(spanStart, videoTimeBase, tb), s1 = av_rescale_q(spanEnd, videoTimeBase, tb)
            let begin = max(pk.pointee.pts, s0)
            if pk.pointee.duration > 0 { pk.pointee.duration = max(0, min(pk.pointee.pts + pk.pointee.duration, s1) - begin) }
            if pk.pointee.dts != noPTS { pk.pointee.dts += begin - pk.pointee.pts }
            pk.pointee.pts = begin
        }
        guard shift != 0 else { return }
        let d = av_rescale_q(shift, videoTimeBase, tb)
        if pk.pointee.pts != noPTS { pk.pointee.pts -= d }
        if pk.pointee.dts != noPTS { pk.pointee.dts -= d }
    }

    /// Writes every side packet due at or before `limit` seconds (nil: all that remain).
    func write(upTo limit: Double?, into ctx: UnsafeMutablePointer<AVFormatContext>) throws {
        while true {
            let a = try nextInputTime(), b = nextStoredTime()
            guard a != nil || b != nil else { return }
            let takeInput = b == nil || (a != nil && a! <= b!)
            let t = takeInput ? a! : b!
            if let limit, t > limit { return }
            if takeInput {
                let si = Int(peek.pointer.pointee.stream_index)
                let o = outIndex[si]!
                peek.pointer.pointee.stream_index = o
                peek.pointer.pointee.pos = -1
                clipAndShift(peek.pointer, stream: si)
                av_packet_rescale_ts(peek.pointer, demuxer.stream(si).pointee.time_base, ctx.pointee.streams[Int(o)]!.pointee.time_base)
                peeked = false
                try check(av_interleaved_write_frame(ctx, peek.pointer), .outputInvalid, "writing stream #\(si) into OUTPUT failed")
            } else {
                let it = stored[storedPos]
                storedPos += 1
                guard let params = storedParams[it.track], let o = storedOut[it.track] else { continue }
                out.unref()
                try check(av_new_packet(out.pointer, Int32(it.data.count)), .internalError, "allocating a packet failed")
                if !it.data.isEmpty {
                    it.data.withUnsafeBytes { out.pointer.pointee.data.update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: it.data.count) }
                }
                // Moved with the video: with a part of INPUT sample 0 is its first frame, which becomes time 0.
                let moved = Int64((shiftSeconds * Double(params.sampleRate)).rounded())
                out.pointer.pointee.pts = params.startPTS + it.pts - moved
                out.pointer.pointee.dts = params.startPTS + it.dts - moved
                out.pointer.pointee.duration = it.duration
                out.pointer.pointee.flags = it.flags
                out.pointer.pointee.stream_index = o
                av_packet_rescale_ts(out.pointer, AVRational(num: 1, den: Int32(params.sampleRate)), ctx.pointee.streams[Int(o)]!.pointee.time_base)
                try check(av_interleaved_write_frame(ctx, out.pointer), .outputInvalid, "writing audio into OUTPUT failed")
            }
            packetsWritten += 1
        }
    }
}
