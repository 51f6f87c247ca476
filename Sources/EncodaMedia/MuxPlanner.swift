import CFFmpeg
import EncodaFFmpeg
import EncodaModel
import Foundation

/// Decides, from INPUT's streams and OUTPUT's container, what `--mux` carries and how: audio copied or
/// transcoded, subtitles and attachments copied or left out (with the reason), chapters counted.
public enum MuxPlanner {
    public static func plan(input: String, output: String, encoder: EncoderKind, video: VideoFacts, index: FrameIndex,
                            audio: AudioSettings) throws -> MuxPlan {
        LibavLogging.configure()
        let format = try OutputFormat.forPath(output, encoder: encoder)
        guard format.holdsOtherStreams else {
            throw EncodaError(.usage, "--mux needs an OUTPUT container that holds audio and subtitles (\(OutputFormat.extensions(for: encoder, otherStreams: true, last: " or "))); .\(format.fileExtension) holds only the video stream")
        }
        guard let ofmt = av_guess_format(format.muxer, nil, nil) else {
            throw EncodaError(.internalError, "libavformat has no \(format.muxer) muxer")
        }
        let d = try Demuxer.input(input)
        let t0 = Double(index.pts[0]) * video.timeBase.doubleValue
        let halfFrame = 0.5 / max(video.frameRate.doubleValue, 1)
        var streams: [MuxStream] = []
        for i in 0..<d.streamCount where i != video.streamIndex {
            let st = d.stream(i)
            let par = st.pointee.codecpar.pointee
            let meta = StreamMetadata(st.pointee.metadata)
            let codec = String(cString: avcodec_get_name(par.codec_id))
            func supported(_ id: AVCodecID) -> Bool { avformat_query_codec(ofmt, id, FF_COMPLIANCE_NORMAL) == 1 }
            switch par.codec_type {
            case AVMEDIA_TYPE_AUDIO:
                var layout = par.ch_layout
                let detail = "\(channelDescription(&layout)) \(par.sample_rate) Hz"
                var action: StreamAction
                if !audio.include {
                    action = .drop(reason: "--no-audio")
                } else {
                    let start = st.pointee.start_time == noPTS ? t0 : Double(st.pointee.start_time) * st.pointee.time_base.rational.doubleValue
                    let startsLate = start > t0 + halfFrame
                    let copyable = supported(par.codec_id)
                    switch audio.codec {
                    case .copy:
                        guard copyable else {
                            throw EncodaError(.usage, "audio track #\(i) of INPUT is \(codec), which a .\(format.fileExtension) file cannot hold; choose --audio-codec \(defaultCodec(format.muxer)) (or opus, aac, flac), a .mkv OUTPUT, or --no-audio")
                        }
                        action = .copy
                    case .auto:
                        if copyable && !(startsLate && audio.cutToVideo) {   // a late start is padded only when cutting
                            action = .copy
                        } else {
                            action = .transcode(codec: defaultCodec(format.muxer), bitrate: defaultBitrate(defaultCodec(format.muxer), channels: Int(par.ch_layout.nb_channels), requested: audio.bitrate))
                        }
                    case .opus, .aac, .flac:
                        let name = audio.codec.rawValue
                        guard let id = encoderFor(name)?.pointee.id, supported(id) else {
                            throw EncodaError(.usage, "--audio-codec \(name): a .\(format.fileExtension) file cannot hold \(name) audio; choose \(defaultCodec(format.muxer)) or another OUTPUT container")
                        }
                        action = .transcode(codec: name, bitrate: defaultBitrate(name, channels: Int(par.ch_layout.nb_channels), requested: audio.bitrate))
                    }
                    if case .transcode = action, avcodec_find_decoder(par.codec_id) == nil {
                        throw EncodaError(.inputUnsupported, "audio track #\(i) of INPUT is \(codec), which this libav cannot decode, so it cannot be converted for .\(format.fileExtension); use a .mkv OUTPUT (copies it as is) or --no-audio")
                    }
                }
                streams.append(MuxStream(index: i, kind: .audio, codec: codec, language: meta.language, title: meta.title, detail: detail, action: action))
            case AVMEDIA_TYPE_SUBTITLE:
                let action: StreamAction = supported(par.codec_id) ? .copy
                    : .drop(reason: "a .\(format.fileExtension) file cannot hold \(codec) subtitles; use .mkv")
                streams.append(MuxStream(index: i, kind: .subtitle, codec: codec, language: meta.language, title: meta.title, detail: "", action: action))
            case AVMEDIA_TYPE_ATTACHMENT:
                let name = meta.value("filename") ?? "attachment"
                let action: StreamAction = format.muxer == "matroska" ? .copy
                    : .drop(reason: "only .mkv holds attachments")
                streams.append(MuxStream(index: i, kind: .attachment, codec: codec, language: nil, title: meta.title, detail: name, action: action))
            case AVMEDIA_TYPE_VIDEO:
                streams.append(otherVideo(i, st, codec: codec, meta: meta))
            default:
                streams.append(dataStream(i, codec: codec))
            }
        }
        let chapters = Int(d.formatContext.pointee.nb_chapters)
        // Matroska, MP4, MOV and WebM all hold chapters (WebM keeps Matroska's Chapters element).
        return MuxPlan(streams: streams, chapters: chapters, muxer: format.muxer)
    }

    /// INPUT's streams besides the encoded video when `--mux` is not given, every one left out, for the notes that
    /// say so (`MuxPlan.leftOutNotes`).
    public static func inventory(input: String, output: String, encoder: EncoderKind, video: VideoFacts) throws -> MuxPlan {
        LibavLogging.configure()
        let format = try OutputFormat.forPath(output, encoder: encoder)
        let d = try Demuxer.input(input)
        var streams: [MuxStream] = []
        for i in 0..<d.streamCount where i != video.streamIndex {
            let st = d.stream(i)
            let par = st.pointee.codecpar.pointee
            let meta = StreamMetadata(st.pointee.metadata)
            let codec = String(cString: avcodec_get_name(par.codec_id))
            let notMuxed = StreamAction.drop(reason: "no --mux")
            switch par.codec_type {
            case AVMEDIA_TYPE_AUDIO:
                streams.append(MuxStream(index: i, kind: .audio, codec: codec, language: meta.language, title: meta.title, detail: "", action: notMuxed))
            case AVMEDIA_TYPE_SUBTITLE:
                streams.append(MuxStream(index: i, kind: .subtitle, codec: codec, language: meta.language, title: meta.title, detail: "", action: notMuxed))
            case AVMEDIA_TYPE_ATTACHMENT:
                streams.append(MuxStream(index: i, kind: .attachment, codec: codec, language: nil, title: meta.title,
                                         detail: meta.value("filename") ?? "attachment", action: notMuxed))
            case AVMEDIA_TYPE_VIDEO:
                streams.append(otherVideo(i, st, codec: codec, meta: meta))
            default:
                streams.append(dataStream(i, codec: codec))
            }
        }
        return MuxPlan(streams: streams, chapters: Int(d.formatContext.pointee.nb_chapters), muxer: format.muxer)
    }

    /// A video stream other than the one encoda encodes: a second video stream or a cover picture. Never carried.
    static func otherVideo(_ i: Int, _ st: UnsafeMutablePointer<AVStream>, codec: String, meta: StreamMetadata) -> MuxStream {
        let what = (st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0 ? "cover picture" : "second video stream"
        return MuxStream(index: i, kind: .video, codec: codec, language: meta.language, title: meta.title, detail: what,
                         action: .drop(reason: "encoda writes one video stream"))
    }

    /// A data stream (timecode, GPS, camera metadata). Never carried.
    static func dataStream(_ i: Int, codec: String) -> MuxStream {
        MuxStream(index: i, kind: .data, codec: codec, language: nil, title: nil, detail: "", action: .drop(reason: "data stream"))
    }

    static func defaultCodec(_ muxer: String) -> String { (muxer == "mp4" || muxer == "mov") ? "aac" : "opus" }

    static func defaultBitrate(_ codec: String, channels: Int, requested: Int?) -> Int? {
        if codec == "flac" { return nil }
        if let requested { return requested }
        return (codec == "opus" ? 64_000 : 80_000) * max(1, channels)
    }

    /// The libavcodec encoder for a codec choice (libopus for opus: the native one is experimental).
    static func encoderFor(_ name: String) -> UnsafePointer<AVCodec>? {
        switch name {
        case "opus": return avcodec_find_encoder_by_name("libopus")
        case "aac": return avcodec_find_encoder_by_name("aac")
        case "flac": return avcodec_find_encoder_by_name("flac")
        default: return nil
        }
    }

    static func channelDescription(_ layout: inout AVChannelLayout) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        if av_channel_layout_describe(&layout, &buf, buf.count) < 0 { return "\(layout.nb_channels) channels" }
        return String(cString: buf)
    }
}

/// Language and title of a stream, read from its metadata dictionary. The corresponding C type is `AVDictionary`.
struct StreamMetadata {
    let dict: OpaquePointer?
    init(_ dict: OpaquePointer?) { self.dict = dict }
    func value(_ key: String) -> String? {
        guard let e = av_dict_get(dict, key, nil, 0), let v = e.pointee.value else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }
    var language: String? { value("language") }
    var title: String? { value("title") }
}
