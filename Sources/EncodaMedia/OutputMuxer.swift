import EncodaFFmpeg
import EncodaModel
import Foundation

/// OUTPUT as the join writes it: the encoded video from the chunks and, with `--mux`, INPUT's side streams, which
/// go through libavformat's interleaving queue in time order. Says what the file's video stream is (colour,
/// profile, field order, rotation, HDR, timecode) and which of libav's failures is which of the user's.
///
/// Ownership: the overlay's `Muxer` frees the file; `finish()` writes the trailer. A class, because the join keeps
/// it in an Optional that a closure writes through.
final class OutputMuxer {
    private var muxer: Muxer?
    let path: String
    private let sides: SideStreams?
    private let sourceTimeBase: Rational

    init(path: String, format: OutputFormat, encoder: EncoderKind, video: VideoFacts, pixelFormat: PixelFormat, extradata: [UInt8],
         sides: SideStreams? = nil) throws {
        self.path = path
        self.sides = sides
        sourceTimeBase = video.timeBase
        // The profile the encoder chose, as its avcC record says (byte 1, profile_idc: 100 High, 110 High 10,
        // 122 High 4:2:2, 244 High 4:4:4 Predictive, which lossless coding needs whatever the chroma).
        let profile = encoder == .h264 && extradata.count > 1 && extradata[0] == 1 ? Int(extradata[1]) : nil
        // Interlaced: x264 codes the fields (the order is also in the bitstream); SVT-AV1's frames are woven fields,
        // and the container is the only place that says so (Matroska's FieldOrder; WebM only marks it interlaced).
        let fieldOrder: StreamParameters.FieldOrder = video.interlacing.map { $0.topFieldFirst ? .topFirst : .bottomFirst } ?? .progressive
        let parameters = OutputVideoParameters(
            codec: encoder == .av1 ? .av1 : .h264, width: video.width, height: video.height, pixelFormat: pixelFormat.av,
            profile: profile, sampleAspectRatio: video.sampleAspectRatio.libav, colorPrimaries: video.colorPrimaries,
            colorTransfer: video.colorTransfer, colorMatrix: video.colorMatrix, colorRange: video.colorRange,
            chromaLocation: video.chromaLocation, fieldOrder: fieldOrder, extradata: extradata, timeBase: video.timeBase.libav,
            frameRate: video.frameRate.libav,
            // Rotation, HDR10 static metadata and start timecode, where the container holds them.
            sideData: SourceMetadataIO.sideData(of: video), tags: video.timecode.map { [("timecode", $0)] } ?? [])
        let m: Muxer
        do { m = try Muxer(path: path, muxer: format.muxer, video: parameters) } catch where error.function == "av_stream_new_side_data" {
            throw EncodaError(.internalError, "av_stream_new_side_data failed (out of memory)")
        } catch {
            throw EncodaError(.outputInvalid, "cannot set up a \(format.muxer) file for OUTPUT", cause: error.text)
        }
        try sides?.addStreams(to: m)
        var options: [(String, String)] = []
        if format.muxer == "mp4" || format.muxer == "mov" {
            // write_colr: the colour description and range in a colr box. x264 omits the VUI signal type of a
            // limited-range picture without a colour description, so without the box a "tv range" tag was lost.
            let tagged = video.colorRange != 0 || video.colorPrimaries != 2 || video.colorTransfer != 2 || video.colorMatrix != 2
            options.append(("movflags", tagged ? "+faststart+write_colr" : "+faststart"))
        }
        // libavformat's Matroska muxer checksums every cluster byte by byte by default (mkvmerge does not); each
        // chunk is already verified against its CRC-32 as it is joined, and this cost a sixth of a join.
        if format.muxer == "matroska" || format.muxer == "webm" { options.append(("write_crc32", "0")) }
        do { try m.start(options: options) } catch where error.function == "avio_open" {
            throw EncodaError(.outputInvalid, "cannot create OUTPUT file \(path); check that its folder exists and is writable", cause: error.text)
        } catch {
            throw EncodaError(.outputInvalid, "writing the OUTPUT header failed", cause: error.text)
        }
        muxer = consume m
    }

    /// Writes a packet with timestamps in the source's time base, after the side packets due before it.
    func write(data: UnsafeRawBufferPointer, pts: Int64, dts: Int64, duration: Int64, isKey: Bool) throws {
        guard muxer != nil else { throw EncodaError(.internalError, "OUTPUT \(path) was written after it was finished") }
        if let sides {
            // Side packets due before this frame go first, so the file is interleaved in time order.
            try sides.write(upTo: Double(dts) * Double(sourceTimeBase.num) / Double(sourceTimeBase.den), into: muxer!)
        }
        try check(.outputInvalid, "writing OUTPUT failed; check free space") {
            try muxer!.writeVideo(data, pts: pts, dts: dts, duration: duration, isKeyframe: isKey, interleaved: sides != nil)
        }
    }

    /// Writes the side packets left, the trailer, and closes the file; call it once, after the last `write`. When it
    /// throws, the file is unfinished.
    func finish() throws {
        guard muxer != nil else { throw EncodaError(.internalError, "OUTPUT \(path) was finished twice") }
        try sides?.write(upTo: nil, into: muxer!)
        let m = muxer.take()!
        do { try m.finish() } catch where error.function == "avio_closep" {
            throw EncodaError(.outputInvalid, "closing OUTPUT failed", cause: error.text)
        } catch {
            throw EncodaError(.outputInvalid, "finishing OUTPUT failed; check free space", cause: error.text)
        }
    }
}
