internal import CFFmpeg

/// An opened input file. The corresponding C type is `AVFormatContext` (avformat_open_input).
///
/// Ownership: `deinit` is the context's only release path. `context` is the last stored property set in `init`,
/// right after the context is opened: a failure before it leaves nothing open (avformat_open_input frees what it
/// allocated), and a failure after it (probing) runs `deinit`, which closes the context once.
public final class Demuxer {
    let context: UnsafeMutablePointer<AVFormatContext>
    public let path: String

    /// `format` forces a demuxer by name (e.g. "image2") and `options` are its private options; both default to
    /// libav's own probing. Throws the failure of `avformat_open_input` (the file is missing, unreadable or not
    /// media) or of `avformat_find_stream_info` (it opened but cannot be probed: damaged or truncated).
    public init(path: String, format: String? = nil, options: [(String, String)] = []) throws(LibavError) {
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        var dict: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&dict, k, v, 0) }
        defer { av_dict_free(&dict) }
        // On failure avformat_open_input frees what it allocated and leaves ctx nil.
        let ret = avformat_open_input(&ctx, path, format.flatMap { av_find_input_format($0) }, &dict)
        guard ret >= 0, let opened = ctx else { throw LibavError(code: ret < 0 ? ret : LibavError.outOfMemory, function: "avformat_open_input") }
        context = opened   // owned from here: a throw below runs deinit
        try libavCall(avformat_find_stream_info(opened, nil), "avformat_find_stream_info")
    }

    deinit {
        var c: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&c)
    }

    public var streamCount: Int { Int(context.pointee.nb_streams) }
    func avStream(_ i: Int) -> UnsafeMutablePointer<AVStream> { context.pointee.streams[i]! }

    /// Stream `i`'s time base (cheaper than its `parameters(of:)`, for every packet).
    public func timeBase(of i: Int) -> LibavRational { LibavRational(avStream(i).pointee.time_base) }

    /// What the container and the codec parameters say about stream `i`.
    public func parameters(of i: Int) -> StreamParameters { StreamParameters(avStream(i)) }

    /// Index of the main video stream (not cover art), or nil.
    public func videoStreamIndex() -> Int? {
        (0..<streamCount).first { parameters(of: $0).mediaType == .video && !parameters(of: $0).isAttachedPicture }
    }

    public func hasAudio() -> Bool {
        (0..<streamCount).contains { parameters(of: $0).mediaType == .audio }
    }

    /// Packets of stream `i` are not read at all from here on (`AVDISCARD_ALL`).
    public func discard(stream i: Int) { avStream(i).pointee.discard = AVDISCARD_ALL }

    /// The demuxer's short name ("mov,mp4,m4a,3gp,3g2,mj2", "image2", ...).
    public var formatName: String { context.pointee.iformat.map { String(cString: $0.pointee.name) } ?? "" }

    /// The file's duration in `Demuxer.durationTimeBase` units (microseconds); 0 or less when unknown.
    public var duration: Int64 { context.pointee.duration }
    /// `AV_TIME_BASE`.
    public static let durationTimeBase = Int64(AV_TIME_BASE)

    /// Reads the next packet of any stream. Returns false at the end of the file.
    /// The corresponding C function is `av_read_frame`.
    public func read(into packet: Packet) throws(LibavError) -> Bool {
        packet.unref()
        let ret = av_read_frame(context, packet.object)
        if ret == LibavError.endOfFile { return false }
        try libavCall(ret, "av_read_frame")
        return true
    }

    /// Seeks so that the next packet read is the keyframe at or before `timestamp` in `stream`'s time base.
    /// The corresponding C function is `av_seek_frame`.
    public func seek(stream: Int, timestamp: Int64) throws(LibavError) {
        try libavCall(av_seek_frame(context, Int32(stream), timestamp, AVSEEK_FLAG_BACKWARD), "av_seek_frame")
    }

    /// True for a raw elementary stream (.h264, .hevc, .m2v: a demuxer with a `raw_codec_id`). Such a file has no
    /// timestamps and no frame rate of its own: libav makes timestamps up from the frame rate while reading, starts
    /// them again after a seek, and cannot seek by timestamp at all ("Operation not permitted"). Workers position
    /// such streams by byte and count frames (see `FrameIndex.seeksByByte`).
    public var isRawElementaryStream: Bool {
        guard let f = context.pointee.iformat?.pointee else { return false }
        return f.raw_codec_id != 0
    }

    /// False for formats flagged `AVFMT_NO_BYTE_SEEK`.
    public var allowsByteSeeking: Bool {
        guard let f = context.pointee.iformat?.pointee else { return false }
        return f.flags & AVFMT_NO_BYTE_SEEK == 0
    }

    /// Seeks so that the next packet read starts at byte `position` of the file (a packet position the demuxer
    /// reported before). The corresponding C function is `av_seek_frame` with `AVSEEK_FLAG_BYTE`.
    public func seek(bytePosition position: Int64) throws(LibavError) {
        try libavCall(av_seek_frame(context, -1, position, AVSEEK_FLAG_BYTE), "av_seek_frame")
    }

    /// Seeks to the very start of the file: `avformat_seek_file`, else `av_seek_frame` to the first packet.
    public func seekToStart(stream: Int) throws(LibavError) {
        let ret = avformat_seek_file(context, Int32(stream), Int64.min, Int64.min, Int64.min, 0)
        if ret < 0 {
            try libavCall(av_seek_frame(context, Int32(stream), Int64.min, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY), "av_seek_frame")
        }
    }
}
