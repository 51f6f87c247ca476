import CFFmpeg
import EncodaFFmpeg
import EncodaModel
import Foundation

/// Writes one video stream into a container file. The corresponding C type is `AVFormatContext`
/// (avformat_alloc_output_context2).
///
/// Ownership: finishing is explicit. `finish()` writes the trailer and closes the file, reporting what fails;
/// `deinit` is the only release path and does no muxing: a muxer dropped without `finish()` (a failed join) leaves
/// an unfinished file, which its caller removes. A final class for now: the join keeps it in an Optional that a
/// closure writes through (a `~Copyable` struct with a consuming `finish()` is the overlay's next step).
final class Muxer {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let stream: UnsafeMutablePointer<AVStream>
    private let sourceTimeBase: AVRational
    private let packet = Packet()
    private var finished = false
    let path: String

    /// With side streams (`--mux`), every packet goes through libavformat's interleaving queue.
    private let sides: SideStreams?

    init(path: String, format: OutputFormat, encoder: EncoderKind, video: VideoFacts, pixelFormat: PixelFormat, extradata: [UInt8],
         sides: SideStreams? = nil) throws {
        self.sides = sides
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        try check(avformat_alloc_output_context2(&ctx, nil, format.muxer, path), .outputInvalid, "cannot set up a \(format.muxer) file for OUTPUT")
        context = ctx
        // It fails only when out of memory (one stream is far below any limit on their number).
        guard let st = avformat_new_stream(ctx, nil) else { fatalError("avformat_new_stream: out of memory") }
        stream = st   // every stored property is set from here: a throw below runs deinit, which frees the context
        sourceTimeBase = video.timeBase.av
        let par = st.pointee.codecpar!
        par.pointee.codec_type = AVMEDIA_TYPE_VIDEO
        par.pointee.codec_id = encoder == .av1 ? AV_CODEC_ID_AV1 : AV_CODEC_ID_H264
        par.pointee.width = Int32(video.width)
        par.pointee.height = Int32(video.height)
        par.pointee.format = pixelFormat.av.rawValue
        // The profile the encoder chose, as its avcC record says (byte 1, profile_idc: 100 High, 110 High 10,
        // 122 High 4:2:2, 244 High 4:4:4 Predictive, which lossless coding needs whatever the chroma).
        if encoder == .h264, extradata.count > 1, extradata[0] == 1 { par.pointee.profile = Int32(extradata[1]) }
        par.pointee.sample_aspect_ratio = video.sampleAspectRatio.av
        par.pointee.color_primaries = AVColorPrimaries(UInt32(video.colorPrimaries))
        par.pointee.color_trc = AVColorTransferCharacteristic(UInt32(video.colorTransfer))
        par.pointee.color_space = AVColorSpace(UInt32(video.colorMatrix))
        par.pointee.color_range = AVColorRange(UInt32(video.colorRange))
        par.pointee.chroma_location = AVChromaLocation(UInt32(video.chromaLocation))
        // Interlaced: x264 codes the fields (the order is also in the bitstream); SVT-AV1's frames are woven fields,
        // and the container is the only place that says so (Matroska's FieldOrder; WebM only marks it interlaced).
        par.pointee.field_order = video.interlacing.map { $0.topFieldFirst ? AV_FIELD_TT : AV_FIELD_BB } ?? AV_FIELD_PROGRESSIVE
        if !extradata.isEmpty {
            let size = extradata.count
            guard let mem = av_mallocz(size + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { fatalError("out of memory") }
            extradata.withUnsafeBytes { mem.copyMemory(from: $0.baseAddress!, byteCount: size) }
            par.pointee.extradata = mem.assumingMemoryBound(to: UInt8.self)
            par.pointee.extradata_size = Int32(size)
        }
        st.pointee.time_base = video.timeBase.av
        st.pointee.avg_frame_rate = video.frameRate.av
        st.pointee.r_frame_rate = video.frameRate.av
        st.pointee.sample_aspect_ratio = video.sampleAspectRatio.av
        // Rotation, HDR10 static metadata and start timecode, where the container holds them.
        do { try SourceMetadataIO.sideData(of: video).add(toStream: st) } catch {
            throw EncodaError(.internalError, "av_stream_new_side_data failed (out of memory)")
        }
        if let tc = video.timecode { av_dict_set(&st.pointee.metadata, "timecode", tc, 0) }

        try sides?.addStreams(to: ctx!, video: st)
        if (ctx!.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            try check(avio_open(&ctx!.pointee.pb, path, AVIO_FLAG_WRITE), .outputInvalid, "cannot create OUTPUT file \(path); check that its folder exists and is writable")
        }
        var opts: OpaquePointer? = nil
        if format.muxer == "mp4" || format.muxer == "mov" {
            // write_colr: the colour description and range in a colr box. x264 omits the VUI signal type of a
            // limited-range picture without a colour description, so without the box a "tv range" tag was lost.
            let tagged = video.colorRange != 0 || video.colorPrimaries != 2 || video.colorTransfer != 2 || video.colorMatrix != 2
            av_dict_set(&opts, "movflags", tagged ? "+faststart+write_colr" : "+faststart", 0)
        }
        // libavformat's Matroska muxer checksums every cluster byte by byte by default (mkvmerge does not); each
        // chunk is already verified against its CRC-32 as it is joined, and this cost a sixth of a join.
        if format.muxer == "matroska" || format.muxer == "webm" { av_dict_set(&opts, "write_crc32", "0", 0) }
        let ret = avformat_write_header(ctx, &opts)
        av_dict_free(&opts)
        try check(ret, .outputInvalid, "writing the OUTPUT header failed")
    }

    /// Frees the context and closes the file if `finish()` did not (avio_closep is libav's only way to release
    /// the file's I/O context; a file left unfinished is the caller's to remove). Writes no trailer.
    deinit {
        guard let ctx = context else { return }
        if (ctx.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 { avio_closep(&ctx.pointee.pb) }
        avformat_free_context(ctx)
    }

    /// Writes a packet with timestamps in the source's time base. The corresponding C function is `av_write_frame`.
    func write(data: UnsafeRawBufferPointer, pts: Int64, dts: Int64, duration: Int64, isKey: Bool) throws {
        packet.unref()
        // The packet borrows the caller's bytes (no reference-counted buffer): av_write_frame writes them out
        // during the call, and av_interleaved_write_frame makes its own copy when it has to queue them. This
        // saves one copy of the whole video on every join.
        packet.pointer.pointee.data = UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: UInt8.self))
        packet.pointer.pointee.size = Int32(data.count)
        packet.pointer.pointee.pts = pts
        packet.pointer.pointee.dts = dts
        packet.pointer.pointee.duration = duration
        packet.pointer.pointee.flags = isKey ? AV_PKT_FLAG_KEY : 0
        packet.pointer.pointee.stream_index = stream.pointee.index
        av_packet_rescale_ts(packet.pointer, sourceTimeBase, stream.pointee.time_base)
        if let sides {
            // Side packets due before this frame go first, so the file is interleaved in time order.
            try sides.write(upTo: Double(dts) * Double(sourceTimeBase.num) / Double(sourceTimeBase.den), into: context!)
            try check(av_interleaved_write_frame(context, packet.pointer), .outputInvalid, "writing OUTPUT failed; check free space")
        } else {
            try check(av_write_frame(context, packet.pointer), .outputInvalid, "writing OUTPUT failed; check free space")
        }
    }

    /// Writes the side packets left, the trailer, and closes the file; call it once, after the last `write`. When it
    /// throws, the file is unfinished. The corresponding C function is `av_write_trailer`.
    func finish() throws {
        guard let ctx = context, !finished else { throw EncodaError(.internalError, "OUTPUT \(path) was finished twice") }
        finished = true
        try sides?.write(upTo: nil, into: ctx)
        try check(av_write_trailer(ctx), .outputInvalid, "finishing OUTPUT failed; check free space")
        if (ctx.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            // Flushes the last bytes: its failure is a failed OUTPUT. pb is nil afterwards, so deinit only frees.
            try check(avio_closep(&ctx.pointee.pb), .outputInvalid, "closing OUTPUT failed")
        }
    }
}
