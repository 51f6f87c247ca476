import CFFmpeg
import EncodaModel
import Foundation

/// An opened input file. The corresponding C type is `AVFormatContext` (avformat_open_input).
///
/// Ownership: `deinit` is the context's only release path. `context` is the last stored property set in `init`,
/// right after the context is opened: a failure before it leaves nothing open (avformat_open_input frees what it
/// allocated), and a failure after it (probing) runs `deinit`, which closes the context once.
final class Demuxer {
    let context: UnsafeMutablePointer<AVFormatContext>
    let path: String

    /// `format` forces a demuxer by name (e.g. "image2") and `options` are its private options; both default to
    /// libav's own probing.
    init(path: String, format: String? = nil, options: [(String, String)] = []) throws {
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        var dict: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&dict, k, v, 0) }
        defer { av_dict_free(&dict) }
        // On failure avformat_open_input frees what it allocated and leaves ctx nil.
        let ret = avformat_open_input(&ctx, path, format.flatMap { av_find_input_format($0) }, &dict)
        guard ret >= 0, let opened = ctx else {
            if !FileManager.default.fileExists(atPath: path) {
                throw EncodaError(.inputUnreadable, "INPUT \(path) does not exist; check the path")
            }
            if !FileManager.default.isReadableFile(atPath: path) {
                throw EncodaError(.inputUnreadable, "INPUT \(path) is not readable; check its permissions")
            }
            throw EncodaError(.inputUnreadable, "INPUT \(path) is not a media file libav can open; give a video file",
                              cause: libavErrorString(ret))
        }
        context = opened   // owned from here: a throw below runs deinit
        let info = avformat_find_stream_info(opened, nil)
        if info < 0 {
            throw EncodaError(.inputUnreadable, "INPUT \(path) could not be probed; it may be damaged or truncated, re-copy or repair the file",
                              cause: libavErrorString(info))
        }
    }

    deinit {
        var c: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&c)
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }
    func stream(_ i: Int) -> UnsafeMutablePointer<AVStream> { context.pointee.streams[i]! }

    /// Index of the main video stream (not cover art), or nil.
    func videoStreamIndex() -> Int? {
        for i in 0..<streamCount {
            let s = stream(i)
            if s.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO,
               (s.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) == 0 {
                return i
            }
        }
        return nil
    }

    func hasAudio() -> Bool {
        (0..<streamCount).contains { stream($0).pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
    }

    /// Reads the next packet of any stream. Returns false at the end of the file.
    /// The corresponding C function is `av_read_frame`.
    func read(into packet: Packet) throws -> Bool {
        packet.unref()
        let ret = av_read_frame(context, packet.pointer)
        if ret == averrorEOF { return false }
        try check(ret, .inputDamaged, "reading INPUT \(path) failed; the file may be truncated or damaged")
        return true
    }

    /// Seeks so that the next packet read is the keyframe at or before `timestamp` in `stream`'s time base.
    /// The corresponding C function is `av_seek_frame`.
    func seek(stream: Int, timestamp: Int64) throws {
        let ret = av_seek_frame(context, Int32(stream), timestamp, AVSEEK_FLAG_BACKWARD)
        try check(ret, .inputDamaged, "seeking INPUT \(path) failed")
    }

    /// True for a raw elementary stream (.h264, .hevc, .m2v: a demuxer with a `raw_codec_id`). Such a file has no
    /// timestamps and no frame rate of its own: libav makes timestamps up from the frame rate while reading, starts
    /// them again after a seek, and cannot seek by timestamp at all ("Operation not permitted"). Workers position
    /// such streams by byte and count frames (see `FrameIndex.seeksByByte`).
    var isRawElementaryStream: Bool {
        guard let f = context.pointee.iformat?.pointee else { return false }
        return f.raw_codec_id != 0
    }

    /// False for formats flagged `AVFMT_NO_BYTE_SEEK`.
    var allowsByteSeeking: Bool {
        guard let f = context.pointee.iformat?.pointee else { return false }
        return f.flags & AVFMT_NO_BYTE_SEEK == 0
    }

    /// Seeks so that the next packet read starts at byte `position` of the file (a packet position the demuxer
    /// reported before). The corresponding C function is `av_seek_frame` with `AVSEEK_FLAG_BYTE`.
    func seek(bytePosition position: Int64) throws {
        let ret = av_seek_frame(context, -1, position, AVSEEK_FLAG_BYTE)
        try check(ret, .inputDamaged, "seeking INPUT \(path) to byte \(position) failed")
    }

    /// Seeks to the very start of the file.
    func seekToStart(stream: Int) throws {
        let ret = avformat_seek_file(context, Int32(stream), Int64.min, Int64.min, Int64.min, 0)
        if ret < 0 {
            let r2 = av_seek_frame(context, Int32(stream), Int64.min, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY)
            try check(r2, .inputDamaged, "rewinding INPUT \(path) failed")
        }
    }
}
