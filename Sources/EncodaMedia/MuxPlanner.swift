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
        guard let ofmt = LibavOutputFormat(muxer: format.muxer) else {
            throw EncodaError(.internalError, "libavformat has no \(format.muxer) muxer")
        }
        let d = try Demuxer.input(input)
        let t0 = Double(index.pts[0]) * video.timeBase.doubleValue
        let halfFrame = 0.5 / max(video.frameRate.doubleValue, 1)
        var streams: [MuxStream] = []
        for i in 0..<d.streamCount where i != video.streamIndex {
            let par = d.parameters(of: i)
            let meta = StreamMetadata(d, stream: i)
            let codec = par.codecName
            func supported(_ id: LibavCodecID) -> Bool { ofmt.canHold(id) }
            switch par.mediaType {
            case .audio:
                let detail = "\(d.channelLayoutDescription(of: i)) \(par.sampleRate) Hz"
                var action: StreamAction
                if !audio.include {
                    action = .drop(reason: "--no-audio")
                } else {
                    let start = par.startTime == noPTS ? t0 : Double(par.startTime) * par.timeBase.rational.doubleValue
                    let startsLate = start > t0 + halfFrame
                    let copyable = supported(par.codecID)
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
                            action = .transcode(codec: defaultCodec(format.muxer), bitrate: defaultBitrate(defaultCodec(format.muxer), channels: par.channels, requested: audio.bitrate))
                        }
                    case .opus, .aac, .flac:
                        let name = audio.codec.rawValue
                        guard let id = encoderName(name).flatMap(LibavCodecID.init(encoderNamed:)), supported(id) else {
                            throw EncodaError(.usage, "--audio-codec \(name): a .\(format.fileExtension) file cannot hold \(name) audio; choose \(defaultCodec(format.muxer)) or another OUTPUT container")
                        }
                        action = .transcode(codec: name, bitrate: defaultBitrate(name, channels: par.channels, requested: audio.bitrate))
                    }
                    if case .transcode = action, !par.codecID.hasDecoder {
                        throw EncodaError(.inputUnsupported, "audio track #\(i) of INPUT is \(codec), which this libav cannot decode, so it cannot be converted for .\(format.fileExtension); use a .mkv OUTPUT (copies it as is) or --no-audio")
                    }
                }
                streams.append(MuxStream(index: i, kind: .audio, codec: codec, language: meta.language, title: meta.title, detail: detail, action: action))
            case .subtitle:
                let action: StreamAction = supported(par.codecID) ? .copy
                    : .drop(reason: "a .\(format.fileExtension) file cannot hold \(codec) subtitles; use .mkv")
                streams.append(MuxStream(index: i, kind: .subtitle, codec: codec, language: meta.language, title: meta.title, detail: "", action: action))
            case .attachment:
                let name = meta.value("filename") ?? "attachment"
                let action: StreamAction = format.muxer == "matroska" ? .copy
                    : .drop(reason: "only .mkv holds attachments")
                streams.append(MuxStream(index: i, kind: .attachment, codec: codec, language: nil, title: meta.title, detail: name, action: action))
            case .video:
                streams.append(otherVideo(i, par, codec: codec, meta: meta))
            default:
                streams.append(dataStream(i, codec: codec))
            }
        }
        let chapters = d.chapterCount
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
            let par = d.parameters(of: i)
            let meta = StreamMetadata(d, stream: i)
            let codec = par.codecName
            let notMuxed = StreamAction.drop(reason: "no --mux")
            switch par.mediaType {
            case .audio:
                streams.append(MuxStream(index: i, kind: .audio, codec: codec, language: meta.language, title: meta.title, detail: "", action: notMuxed))
            case .subtitle:
                streams.append(MuxStream(index: i, kind: .subtitle, codec: codec, language: meta.language, title: meta.title, detail: "", action: notMuxed))
            case .attachment:
                streams.append(MuxStream(index: i, kind: .attachment, codec: codec, language: nil, title: meta.title,
                                         detail: meta.value("filename") ?? "attachment", action: notMuxed))
            case .video:
                streams.append(otherVideo(i, par, codec: codec, meta: meta))
            default:
                streams.append(dataStream(i, codec: codec))
            }
        }
        return MuxPlan(streams: streams, chapters: d.chapterCount, muxer: format.muxer)
    }

    /// A video stream other than the one encoda encodes: a second video stream or a cover picture. Never carried.
    static func otherVideo(_ i: Int, _ par: StreamParameters, codec: String, meta: StreamMetadata) -> MuxStream {
        let what = par.isAttachedPicture ? "cover picture" : "second video stream"
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

    /// The libavcodec encoder's name for a codec choice (libopus for opus: the native one is experimental).
    static func encoderName(_ name: String) -> String? {
        switch name {
        case "opus": return "libopus"
        case "aac": return "aac"
        case "flac": return "flac"
        default: return nil
        }
    }
}

/// Language and title of a stream, read from its metadata (an empty tag counts as none).
struct StreamMetadata {
    let demuxer: Demuxer
    let stream: Int
    init(_ demuxer: Demuxer, stream: Int) { self.demuxer = demuxer; self.stream = stream }
    func value(_ key: String) -> String? {
        guard let s = demuxer.metadata(of: stream, key), !s.isEmpty else { return nil }
        return s
    }
    var language: String? { value("language") }
    var title: String? { value("title") }
}
