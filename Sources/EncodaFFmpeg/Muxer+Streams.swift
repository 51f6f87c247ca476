internal import CFFmpeg

/// A chapter as a container holds it: a copy.
public struct LibavChapter: Sendable {
    public var id: Int64
    public var timeBase: LibavRational
    public var start: Int64
    public var end: Int64
    /// Its tags in the order the container gave them.
    public var tags: [LibavTag]

    public init(id: Int64, timeBase: LibavRational, start: Int64, end: Int64, tags: [LibavTag]) {
        self.id = id; self.timeBase = timeBase; self.start = start; self.end = end; self.tags = tags
    }
}

/// One metadata entry (`AVDictionaryEntry`): key and value as the container spells them.
public struct LibavTag: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
}

/// An audio stream the muxer writes from packets encoded earlier (TMP's prepared audio).
public struct OutputAudioParameters: Sendable {
    /// The libavcodec encoder that made the packets ("libopus", "aac", "flac"): its codec is the stream's.
    public var encoderName: String
    public var sampleRate: Int
    /// The channel layout as a mask, or 0 for the default layout of `channels`.
    public var channelMask: UInt64
    public var channels: Int
    public var frameSize: Int
    public var initialPadding: Int
    public var bitRate: Int
    public var extradata: [UInt8]

    public init(encoderName: String, sampleRate: Int, channelMask: UInt64, channels: Int, frameSize: Int, initialPadding: Int,
                bitRate: Int, extradata: [UInt8]) {
        self.encoderName = encoderName; self.sampleRate = sampleRate; self.channelMask = channelMask; self.channels = channels
        self.frameSize = frameSize; self.initialPadding = initialPadding; self.bitRate = bitRate; self.extradata = extradata
    }
}

extension Demuxer {
    /// Stream `i`'s tags, in order. The corresponding C function is `av_dict_get` (iterating).
    public func tags(of i: Int) -> [LibavTag] { tagList(avStream(i).pointee.metadata) }
    /// The file's own tags, in order.
    public var fileTags: [LibavTag] { tagList(context.pointee.metadata) }

    /// The file's chapters, with their tags.
    public var chapters: [LibavChapter] {
        let n = Int(context.pointee.nb_chapters)
        guard n > 0, let list = context.pointee.chapters else { return [] }
        return (0..<n).compactMap { i in
            list[i].map { c in
                LibavChapter(id: c.pointee.id, timeBase: LibavRational(c.pointee.time_base), start: c.pointee.start,
                             end: c.pointee.end, tags: tagList(c.pointee.metadata))
            }
        }
    }
}

func tagList(_ dict: OpaquePointer?) -> [LibavTag] {
    var tags: [LibavTag] = []
    var e: UnsafeMutablePointer<AVDictionaryEntry>? = nil
    while let next = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX) {
        e = next
        tags.append(LibavTag(key: String(cString: next.pointee.key), value: String(cString: next.pointee.value)))
    }
    return tags
}

func addTags(_ tags: [LibavTag], to dict: inout OpaquePointer?) {
    for t in tags { av_dict_set(&dict, t.key, t.value, 0) }
}

/// Streams, tags and chapters besides the video, added before `start(options:)`; packets of those streams after it.
extension Muxer {
    private func stream(_ o: Int) -> UnsafeMutablePointer<AVStream> { context.pointee.streams[o]! }

    /// Adds a stream with stream `i` of `demuxer`'s codec parameters and time base (no codec tag: the container
    /// chooses its own), for packets copied from it. Returns its index. The corresponding C functions are
    /// `avformat_new_stream` and `avcodec_parameters_copy`.
    public func addStream(copying i: Int, of demuxer: Demuxer) throws(LibavError) -> Int {
        let src = demuxer.avStream(i)
        guard let st = avformat_new_stream(context, nil) else { throw LibavError(code: LibavError.outOfMemory, function: "avformat_new_stream") }
        try libavCall(avcodec_parameters_copy(st.pointee.codecpar, src.pointee.codecpar), "avcodec_parameters_copy")
        st.pointee.codecpar.pointee.codec_tag = 0
        st.pointee.time_base = src.pointee.time_base
        return Int(st.pointee.index)
    }

    /// Adds an audio stream for packets encoded earlier; its time base is 1/sample rate. Returns its index.
    public func addAudioStream(_ a: OutputAudioParameters) throws(LibavError) -> Int {
        guard let st = avformat_new_stream(context, nil) else { throw LibavError(code: LibavError.outOfMemory, function: "avformat_new_stream") }
        let par = st.pointee.codecpar!
        par.pointee.codec_type = AVMEDIA_TYPE_AUDIO
        par.pointee.codec_id = avcodec_find_encoder_by_name(a.encoderName)?.pointee.id ?? AV_CODEC_ID_NONE
        par.pointee.sample_rate = Int32(a.sampleRate)
        if a.channelMask != 0 { av_channel_layout_from_mask(&par.pointee.ch_layout, a.channelMask) }
        else { av_channel_layout_default(&par.pointee.ch_layout, Int32(a.channels)) }
        par.pointee.frame_size = Int32(a.frameSize)
        par.pointee.initial_padding = Int32(a.initialPadding)
        par.pointee.bit_rate = Int64(a.bitRate)
        setExtradata(a.extradata, on: par)
        st.pointee.time_base = AVRational(num: 1, den: Int32(a.sampleRate))
        return Int(st.pointee.index)
    }

    /// Adds `tags` to stream `o`'s (a key already there is replaced). The corresponding C function is `av_dict_set`.
    public func addTags(_ tags: [LibavTag], toStream o: Int) { EncodaFFmpeg.addTags(tags, to: &stream(o).pointee.metadata) }
    /// Adds `tags` to the file's.
    public func addFileTags(_ tags: [LibavTag]) { EncodaFFmpeg.addTags(tags, to: &context.pointee.metadata) }

    /// Gives stream `o` the disposition (default, forced, language flags...) of stream `i` of `demuxer`, less
    /// "attached picture" when `droppingAttachedPicture`.
    public func copyDisposition(of i: Int, in demuxer: Demuxer, toStream o: Int, droppingAttachedPicture: Bool = false) {
        let d = demuxer.avStream(i).pointee.disposition
        stream(o).pointee.disposition = droppingAttachedPicture ? d & ~AV_DISPOSITION_ATTACHED_PIC : d
    }

    /// Shifts every stream to non-negative times (`AVFMT_AVOID_NEG_TS_MAKE_NON_NEGATIVE`).
    public func avoidNegativeTimestamps() { context.pointee.avoid_negative_ts = AVFMT_AVOID_NEG_TS_MAKE_NON_NEGATIVE }

    /// Sets the file's chapters (each owned by the context from here).
    public func setChapters(_ chapters: [LibavChapter]) {
        guard !chapters.isEmpty else { return }
        guard let arr = av_calloc(chapters.count, MemoryLayout<UnsafeMutablePointer<AVChapter>?>.size) else { fatalError("av_calloc: out of memory") }
        let list = arr.assumingMemoryBound(to: UnsafeMutablePointer<AVChapter>?.self)
        var kept = 0
        for c in chapters {
            guard let mem = av_mallocz(MemoryLayout<AVChapter>.size) else { continue }
            let ch = mem.assumingMemoryBound(to: AVChapter.self)
            ch.pointee.id = c.id
            ch.pointee.time_base = c.timeBase.av
            ch.pointee.start = c.start
            ch.pointee.end = c.end
            EncodaFFmpeg.addTags(c.tags, to: &ch.pointee.metadata)
            list[kept] = ch
            kept += 1
        }
        context.pointee.chapters = list
        context.pointee.nb_chapters = UInt32(kept)
    }

    /// Stream `o`'s time base (the container may change it when the header is written).
    public func timeBase(ofStream o: Int) -> LibavRational { LibavRational(stream(o).pointee.time_base) }

    /// Writes `packet` (its stream index and timestamps already the file's) through libavformat's interleaving
    /// queue. The corresponding C function is `av_interleaved_write_frame`.
    public func writeInterleaved(_ packet: Packet) throws(LibavError) {
        try libavCall(av_interleaved_write_frame(context, packet.object), "av_interleaved_write_frame")
    }
}
