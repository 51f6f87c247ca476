/// What `--audio-codec` asks for.
public enum AudioCodecChoice: String, Codable, Sendable, CaseIterable {
    /// Copy where OUTPUT's container holds the codec (and, with `--cut-audio-to-video`, the audio starts with the
    /// video, else it is transcoded to be padded); otherwise transcode.
    case auto
    case copy
    case opus
    case aac
    case flac
}

/// How INPUT's audio goes into OUTPUT with `--mux`. Part of the key of the prepared audio in TMP.
public struct AudioSettings: Codable, Sendable, Hashable {
    public var codec: AudioCodecChoice
    /// Bits per second for transcoded audio (nil: a default per channel).
    public var bitrate: Int?
    /// Extra encoder options, `key=value` separated by ':'.
    public var params: String
    /// False with `--no-audio`.
    public var include: Bool
    /// True with `--cut-audio-to-video`: each track is cut to the video's span (and, when transcoded, padded to
    /// it); otherwise the whole track is carried at its place on INPUT's clock, as `ffmpeg -c copy` carries it.
    public var cutToVideo: Bool
    /// True when OUTPUT is a part of INPUT (`--start`/`--end`): every track is cut to that part (`cutToVideo`),
    /// copied audio at its packet boundaries, subtitles and chapters clipped. Nil otherwise (absent in older records).
    public var trimmed: Bool? = nil

    public init(codec: AudioCodecChoice = .auto, bitrate: Int? = nil, params: String = "", include: Bool = true, cutToVideo: Bool = false) {
        self.codec = codec; self.bitrate = bitrate; self.params = params; self.include = include; self.cutToVideo = cutToVideo
    }

    /// "128k", "1.5M", "192000" → bits per second.
    public static func parseBitrate(_ text: String) -> Int? {
        var t = text.lowercased()
        var factor = 1.0
        if t.hasSuffix("k") { factor = 1e3; t.removeLast() } else if t.hasSuffix("m") { factor = 1e6; t.removeLast() }
        guard let v = Double(t), v > 0 else { return nil }
        let b = Int((v * factor).rounded())
        return (8_000...10_000_000).contains(b) ? b : nil
    }
}

/// What happens to one stream of INPUT in OUTPUT.
public enum StreamAction: Codable, Sendable, Hashable {
    case copy
    /// Decoded and encoded once, with this codec (libavcodec encoder codec name).
    case transcode(codec: String, bitrate: Int?)
    /// Left out, with the reason shown to the user.
    case drop(reason: String)
}

/// One stream of INPUT that `--mux` considered.
public struct MuxStream: Codable, Sendable, Hashable {
    /// `video`: a video stream other than the one encoda encodes (a second video stream, a cover picture).
    public enum Kind: String, Codable, Sendable { case audio, subtitle, attachment, video, data }
    public var index: Int
    public var kind: Kind
    public var codec: String
    public var language: String?
    public var title: String?
    /// e.g. "5.1(side) 48000 Hz" for audio, the file name for attachments.
    public var detail: String
    public var action: StreamAction

    public init(index: Int, kind: Kind, codec: String, language: String?, title: String?, detail: String, action: StreamAction) {
        self.index = index; self.kind = kind; self.codec = codec; self.language = language; self.title = title
        self.detail = detail; self.action = action
    }

    public var summary: String {
        var s = "#\(index) \(kind.rawValue) \(codec)"
        if !detail.isEmpty { s += " \(detail)" }
        if let language { s += " [\(language)]" }
        if let title { s += " '\(title)'" }
        switch action {
        case .copy: s += " → copy"
        case let .transcode(codec, bitrate): s += " → \(codec)" + (bitrate.map { " \($0 / 1000)k" } ?? "")
        case let .drop(reason): s += " → left out (\(reason))"
        }
        return s
    }
}

/// Everything `--mux` will carry: streams, chapters, and the time span of the video they are aligned to.
public struct MuxPlan: Codable, Sendable, Hashable {
    public var streams: [MuxStream]
    public var chapters: Int
    /// OUTPUT's libavformat muxer name.
    public var muxer: String

    public init(streams: [MuxStream], chapters: Int, muxer: String) {
        self.streams = streams; self.chapters = chapters; self.muxer = muxer
    }

    public var audio: [MuxStream] { streams.filter { $0.kind == .audio && !$0.isDropped } }
    public var carried: [MuxStream] { streams.filter { !$0.isDropped } }
}

extension MuxStream {
    public var isDropped: Bool { if case .drop = action { return true } else { return false } }
}

extension MuxPlan {
    /// What OUTPUT leaves out of INPUT, one line per kind, for a normal run (a professional user must never lose
    /// audio, subtitles or a stream without a word):
    /// - other video streams and data streams, which encoda never carries;
    /// - with `--mux`, the subtitles and attachments OUTPUT's container cannot hold;
    /// - without `--mux` (`self` is `MuxPlanner.inventory`: everything is left out), the audio, subtitles,
    ///   attachments and chapters that `--mux` would carry.
    /// Streams left out because the user asked (`--no-audio`) are not mentioned. Empty when nothing is lost.
    public func leftOutNotes(muxed: Bool, outputExtension ext: String, holdsOtherStreams: Bool) -> [String] {
        var lines: [String] = []
        let video = streams.filter { $0.kind == .video }
        if video.count == 1, let v = video.first {
            lines.append("INPUT's \(v.detail) (#\(v.index), \(v.codec)) is not encoded; encoda encodes the first video stream only")
        } else if video.count > 1 {
            let list = video.map { "#\($0.index) \($0.codec)" + ($0.detail == "cover picture" ? " cover picture" : "") }
            lines.append("INPUT's \(video.count) other video streams (\(list.joined(separator: ", "))) are not encoded; encoda encodes the first video stream only")
        }
        let data = streams.filter { $0.kind == .data }
        if data.count == 1, let d = data.first {
            lines.append("INPUT's data stream (#\(d.index), \(d.codec)) is left out; encoda does not carry data streams (timecode, metadata tracks)")
        } else if data.count > 1 {
            let list = data.map { "#\($0.index) \($0.codec)" }.joined(separator: ", ")
            lines.append("INPUT's \(data.count) data streams (\(list)) are left out; encoda does not carry data streams (timecode, metadata tracks)")
        }
        if muxed {
            let subs = streams.filter { $0.kind == .subtitle && $0.isDropped }
            let atts = streams.filter { $0.kind == .attachment && $0.isDropped }
            var parts: [String] = []
            if !subs.isEmpty {
                let codecs = subs.map { Self.subtitleName($0.codec) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                if codecs.count == 1 {
                    parts.append(subs.count == 1 ? "the \(codecs[0]) subtitle stream" : "the \(subs.count) \(codecs[0]) subtitle streams")
                } else {
                    parts.append("the \(subs.count) subtitle streams (\(codecs.joined(separator: ", ")))")
                }
            }
            if !atts.isEmpty {
                let fonts = atts.allSatisfy { ["ttf", "otf"].contains($0.codec) }
                let noun = fonts ? "font attachment" : "attachment"
                // "the font attachment", "the 6 font attachments", "… and 1 font attachment", "… and 6 font attachments"
                let number = atts.count == 1 ? (subs.isEmpty ? "" : "1 ") : "\(atts.count) "
                parts.append((subs.isEmpty ? "the " : "") + number + noun + (atts.count == 1 ? "" : "s"))
            }
            if !parts.isEmpty {
                let one = subs.count + atts.count == 1
                let advice = muxer == "matroska" ? "" : " (use .mkv to keep \(one ? "it" : "them"))"
                lines.append("OUTPUT .\(ext) cannot hold \(parts.joined(separator: " and ")) of INPUT; \(one ? "it is" : "they are") left out\(advice)")
            }
        } else {
            var parts: [String] = []
            func count(_ n: Int, _ noun: String) { if n > 0 { parts.append("\(n) \(noun)\(n == 1 ? "" : "s")") } }
            count(streams.filter { $0.kind == .audio }.count, "audio stream")
            count(streams.filter { $0.kind == .subtitle }.count, "subtitle stream")
            count(streams.filter { $0.kind == .attachment }.count, "attachment")
            count(chapters, "chapter")
            if !parts.isEmpty {
                let what = parts.count == 1 ? parts[0] : parts.dropLast().joined(separator: ", ") + " and " + parts.last!
                let pronoun = parts.count == 1 && what.hasPrefix("1 ") ? "it" : "them"
                if holdsOtherStreams {
                    lines.append("INPUT has \(what); add --mux to carry \(pronoun)")
                } else {
                    lines.append("INPUT has \(what); a .\(ext) OUTPUT holds only the video stream, so \(pronoun == "it" ? "it is" : "they are") left out (write .mkv with --mux to carry \(pronoun))")
                }
            }
        }
        return lines
    }

    /// The usual name of a subtitle format, from its libavcodec codec name.
    static func subtitleName(_ codec: String) -> String {
        let names = ["ass": "ASS", "ssa": "SSA", "subrip": "SubRip", "srt": "SubRip", "webvtt": "WebVTT", "hdmv_pgs_subtitle": "PGS",
                     "dvd_subtitle": "DVD", "dvb_subtitle": "DVB", "eia_608": "CEA-608", "ttml": "TTML"]
        return names[codec] ?? codec
    }
}

/// The record of prepared audio in TMP (`audio/audio.json`), written after the audio file: what it was made
/// from, so a resumed job reuses it only when nothing that decides its content changed. Copied tracks are
/// only checked (decoded once); transcoded tracks are stored as packets in `file`.
public struct PreparedAudio: Codable, Sendable, Hashable {
    /// 2: tracks are kept whole unless `settings.cutToVideo` (version 1 records were cut to the video).
    public static let formatVersion = 2
    public var formatVersion: Int
    public var inputFingerprint: String
    public var settings: AudioSettings
    public var plan: MuxPlan
    /// Video start and end (source time base units) the audio was aligned to.
    public var videoStart: Int64
    public var videoEnd: Int64
    /// File name inside TMP/audio (empty when nothing was transcoded).
    public var file: String
    public var bytes: Int64
    public var tracks: [AudioTrackParameters]
    /// Notes for the user (e.g. an audio track shorter than the video).
    public var notes: [String]

    public init(inputFingerprint: String, settings: AudioSettings, plan: MuxPlan, videoStart: Int64, videoEnd: Int64,
                file: String, bytes: Int64, tracks: [AudioTrackParameters], notes: [String]) {
        self.formatVersion = Self.formatVersion
        self.inputFingerprint = inputFingerprint; self.settings = settings; self.plan = plan
        self.videoStart = videoStart; self.videoEnd = videoEnd; self.file = file; self.bytes = bytes
        self.tracks = tracks; self.notes = notes
    }

    /// True when this record was made for exactly this request.
    public func matches(fingerprint: String, settings: AudioSettings, plan: MuxPlan, videoStart: Int64, videoEnd: Int64) -> Bool {
        formatVersion == Self.formatVersion && inputFingerprint == fingerprint && self.settings == settings &&
            self.plan == plan && self.videoStart == videoStart && self.videoEnd == videoEnd
    }
}

/// Codec parameters of a transcoded audio track, enough to mux its stored packets later (another process, after
/// a resume) without the encoder.
public struct AudioTrackParameters: Codable, Sendable, Hashable {
    /// Index of the INPUT stream this track came from.
    public var sourceIndex: Int
    /// libavcodec codec name (aac, opus, flac).
    public var codec: String
    public var sampleRate: Int
    public var channels: Int
    /// Native channel mask (0 when the layout is not a plain mask).
    public var channelMask: UInt64
    public var extradata: [UInt8]
    public var frameSize: Int
    public var initialPadding: Int
    public var bitRate: Int
    /// Packets' time base is 1/sampleRate; this is where sample 0 sits, in that time base, on INPUT's clock: the
    /// video's first instant with `--cut-audio-to-video`, else the track's own first sample.
    public var startPTS: Int64
    public var packets: Int
    public var samples: Int64

    public init(sourceIndex: Int, codec: String, sampleRate: Int, channels: Int, channelMask: UInt64, extradata: [UInt8],
                frameSize: Int, initialPadding: Int, bitRate: Int, startPTS: Int64, packets: Int, samples: Int64) {
        self.sourceIndex = sourceIndex; self.codec = codec; self.sampleRate = sampleRate; self.channels = channels
        self.channelMask = channelMask; self.extradata = extradata; self.frameSize = frameSize
        self.initialPadding = initialPadding; self.bitRate = bitRate; self.startPTS = startPTS
        self.packets = packets; self.samples = samples
    }
}
