internal import CFFmpeg

/// The video stream a `Muxer` writes, as the container's header describes it.
public struct OutputVideoParameters {
    public enum Codec: Sendable { case av1, h264 }
    public var codec: Codec
    public var width: Int
    public var height: Int
    public var pixelFormat: LibavPixelFormat
    /// The codec profile (H.264's profile_idc), nil to leave it unset.
    public var profile: Int?
    public var sampleAspectRatio: LibavRational
    /// `AVColorPrimaries`, `AVColorTransferCharacteristic`, `AVColorSpace`, `AVColorRange`, `AVChromaLocation`.
    public var colorPrimaries: Int
    public var colorTransfer: Int
    public var colorMatrix: Int
    public var colorRange: Int
    public var chromaLocation: Int
    /// `.progressive`, `.topFirst` or `.bottomFirst`.
    public var fieldOrder: StreamParameters.FieldOrder
    /// The codec's global header, empty when it has none.
    public var extradata: [UInt8]
    /// The time base of the timestamps handed to `write`; the stream's own until the header is written.
    public var timeBase: LibavRational
    public var frameRate: LibavRational
    /// Display matrix and HDR10 static metadata, where the container holds them.
    public var sideData: LibavSideData
    /// Stream tags set before any copied ones (the start timecode as "timecode").
    public var tags: [(String, String)]

    public init(codec: Codec, width: Int, height: Int, pixelFormat: LibavPixelFormat, profile: Int?,
                sampleAspectRatio: LibavRational, colorPrimaries: Int, colorTransfer: Int, colorMatrix: Int, colorRange: Int,
                chromaLocation: Int, fieldOrder: StreamParameters.FieldOrder, extradata: [UInt8], timeBase: LibavRational,
                frameRate: LibavRational, sideData: LibavSideData, tags: [(String, String)]) {
        self.codec = codec; self.width = width; self.height = height; self.pixelFormat = pixelFormat; self.profile = profile
        self.sampleAspectRatio = sampleAspectRatio; self.colorPrimaries = colorPrimaries; self.colorTransfer = colorTransfer
        self.colorMatrix = colorMatrix; self.colorRange = colorRange; self.chromaLocation = chromaLocation
        self.fieldOrder = fieldOrder; self.extradata = extradata; self.timeBase = timeBase; self.frameRate = frameRate
        self.sideData = sideData; self.tags = tags
    }
}

/// Writes a container file: one video stream (index 0) and, added before the header, any other streams, tags and
/// chapters. The corresponding C type is `AVFormatContext` (avformat_alloc_output_context2).
///
/// Ownership: finishing is explicit. The consuming `finish()` writes the trailer and closes the file, reporting
/// what fails; the context's only release path is `OutputContext`'s `deinit`, which does no muxing: a muxer dropped
/// without `finish()` (a failed join) leaves an unfinished file, which its owner removes.
public struct Muxer: ~Copyable {
    let output: OutputContext
    var context: UnsafeMutablePointer<AVFormatContext> { output.pointer }
    let video: UnsafeMutablePointer<AVStream>
    let sourceTimeBase: AVRational
    let packet: Packet
    public let path: String

    /// Sets up the file and its video stream; nothing is written until `start(options:)`. Throws the failure of
    /// `avformat_alloc_output_context2` (no such muxer, or a name it refuses) or of `av_stream_new_side_data`.
    public init(path: String, muxer name: String, video v: OutputVideoParameters) throws(LibavError) {
        // Owned by `output` from here: a throw below frees it.
        let output = try OutputContext(path: path, muxer: name)
        let ctx = output.pointer
        // It fails only when out of memory (one stream is far below any limit on their number).
        guard let st = avformat_new_stream(ctx, nil) else { fatalError("avformat_new_stream: out of memory") }
        let par = st.pointee.codecpar!
        par.pointee.codec_type = AVMEDIA_TYPE_VIDEO
        par.pointee.codec_id = v.codec == .av1 ? AV_CODEC_ID_AV1 : AV_CODEC_ID_H264
        par.pointee.width = Int32(v.width)
        par.pointee.height = Int32(v.height)
        par.pointee.format = v.pixelFormat.rawValue
        if let profile = v.profile { par.pointee.profile = Int32(profile) }
        par.pointee.sample_aspect_ratio = v.sampleAspectRatio.av
        par.pointee.color_primaries = AVColorPrimaries(UInt32(v.colorPrimaries))
        par.pointee.color_trc = AVColorTransferCharacteristic(UInt32(v.colorTransfer))
        par.pointee.color_space = AVColorSpace(UInt32(v.colorMatrix))
        par.pointee.color_range = AVColorRange(UInt32(v.colorRange))
        par.pointee.chroma_location = AVChromaLocation(UInt32(v.chromaLocation))
        switch v.fieldOrder {
        case .topFirst: par.pointee.field_order = AV_FIELD_TT
        case .bottomFirst: par.pointee.field_order = AV_FIELD_BB
        default: par.pointee.field_order = AV_FIELD_PROGRESSIVE
        }
        setExtradata(v.extradata, on: par)
        st.pointee.time_base = v.timeBase.av
        st.pointee.avg_frame_rate = v.frameRate.av
        st.pointee.r_frame_rate = v.frameRate.av
        st.pointee.sample_aspect_ratio = v.sampleAspectRatio.av
        try v.sideData.add(to: st)
        for (k, value) in v.tags { av_dict_set(&st.pointee.metadata, k, value, 0) }
        self.output = output
        self.path = path
        video = st
        sourceTimeBase = v.timeBase.av
        packet = Packet()
    }

    var writesFile: Bool { output.writesFile }

    /// Opens the file and writes the header with the muxer's private `options` (in order). Throws the failure of
    /// `avio_open` (the file cannot be created) or of `avformat_write_header`.
    public func start(options: [(String, String)]) throws(LibavError) {
        if writesFile { try libavCall(avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE), "avio_open") }
        var opts: OpaquePointer? = nil
        for (k, v) in options { av_dict_set(&opts, k, v, 0) }
        let ret = avformat_write_header(context, &opts)
        av_dict_free(&opts)
        try libavCall(ret, "avformat_write_header")
    }

    /// Writes a video packet with timestamps in the video's source time base: lent bytes, written out during the
    /// call or, `interleaved`, copied by libavformat when it has to queue them (no copy on the direct path).
    /// The corresponding C functions are `av_write_frame` and `av_interleaved_write_frame`.
    public func writeVideo(_ data: UnsafeRawBufferPointer, pts: Int64, dts: Int64, duration: Int64, isKeyframe: Bool,
                           interleaved: Bool) throws(LibavError) {
        let pk = packet.object
        packet.unref()
        pk.pointee.data = UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: UInt8.self))
        pk.pointee.size = Int32(data.count)
        pk.pointee.pts = pts
        pk.pointee.dts = dts
        pk.pointee.duration = duration
        pk.pointee.flags = isKeyframe ? AV_PKT_FLAG_KEY : 0
        pk.pointee.stream_index = video.pointee.index
        av_packet_rescale_ts(pk, sourceTimeBase, video.pointee.time_base)
        if interleaved {
            try libavCall(av_interleaved_write_frame(context, pk), "av_interleaved_write_frame")
        } else {
            try libavCall(av_write_frame(context, pk), "av_write_frame")
        }
        // The bytes were lent: nothing may point at them once the call returns.
        pk.pointee.data = nil
        pk.pointee.size = 0
    }

    /// Writes the trailer and closes the file; after the last write. When it throws, the file is unfinished (and
    /// closed by `deinit`). The corresponding C functions are `av_write_trailer` and `avio_closep`.
    public consuming func finish() throws(LibavError) {
        try libavCall(av_write_trailer(context), "av_write_trailer")
        // Flushes the last bytes: its failure is a failed file. pb is nil afterwards, so deinit only frees.
        if writesFile { try libavCall(avio_closep(&context.pointee.pb), "avio_closep") }
    }
}

/// An output `AVFormatContext` whose only release path is its `deinit`: it closes the file if `Muxer.finish()` did
/// not (avio_closep is libav's only way to release the file's I/O context) and frees the context. Writes no trailer.
struct OutputContext: ~Copyable {
    let pointer: UnsafeMutablePointer<AVFormatContext>

    init(path: String, muxer name: String) throws(LibavError) {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let ret = avformat_alloc_output_context2(&ctx, nil, name, path)
        guard ret >= 0, let ctx else { throw LibavError(code: ret < 0 ? ret : LibavError.outOfMemory, function: "avformat_alloc_output_context2") }
        pointer = ctx
    }

    deinit {
        if writesFile { avio_closep(&pointer.pointee.pb) }
        avformat_free_context(pointer)
    }

    /// False for formats that write no file of their own (`AVFMT_NOFILE`).
    var writesFile: Bool { (pointer.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 }
}

/// Gives `par` an owned, padded copy of `bytes` as its extradata (freed with the parameters).
func setExtradata(_ bytes: [UInt8], on par: UnsafeMutablePointer<AVCodecParameters>) {
    guard !bytes.isEmpty else { return }
    guard let mem = av_mallocz(bytes.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { fatalError("av_mallocz: out of memory") }
    bytes.withUnsafeBytes { mem.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    par.pointee.extradata = mem.assumingMemoryBound(to: UInt8.self)
    par.pointee.extradata_size = Int32(bytes.count)
}
