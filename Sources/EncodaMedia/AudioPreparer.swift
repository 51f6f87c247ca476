import EncodaFFmpeg
import EncodaModel
import EncodaSystem
import Foundation

/// Prepares INPUT's audio for `--mux` in one demux pass: copied tracks are decoded once to prove they are
/// intact; transcoded tracks are encoded once and their packets stored in TMP (`audio/<key>.packets`) with a
/// record (`audio/audio.json`) written after it, so a resumed job reuses them.
public enum AudioPreparer {
    /// Opens every decoder and encoder the plan needs, without reading the file: configuration problems
    /// (codec, channel layout, bit rate, options) surface before any video work starts.
    public static func preflight(input: String, plan: MuxPlan, settings: AudioSettings, video: VideoFacts, index: FrameIndex) throws {
        LibavLogging.configure()
        let d = try Demuxer.input(input)
        let (start, end) = span(video: video, index: index)
        for s in plan.audio {
            if case let .transcode(codec, bitrate) = s.action {
                _ = try AudioTranscoder(demuxer: d, index: s.index, codec: codec, bitrate: bitrate,
                                        params: settings.params, start: start, end: end, cut: settings.cutToVideo)
            }
        }
    }

    /// The video's first instant and end on INPUT's clock, in seconds.
    static func span(video: VideoFacts, index: FrameIndex) -> (Double, Double) {
        let tb = video.timeBase.doubleValue
        let last = index.pts.count - 1
        return (Double(index.pts[0]) * tb, Double(index.pts[last] + index.durations[last]) * tb)
    }

    /// Runs the pass (or reuses a matching record) and returns the record. `folder` is TMP/audio.
    public static func prepare(input: String, fingerprint: String, plan: MuxPlan, settings: AudioSettings,
                               video: VideoFacts, index: FrameIndex, folder: String) throws -> PreparedAudio {
        LibavLogging.configure()
        let recordPath = folder + "/audio.json"
        let videoStart = index.pts[0]
        let videoEnd = index.pts[index.pts.count - 1] + index.durations[index.pts.count - 1]
        if let data = FileManager.default.contents(atPath: recordPath),
           let old = try? JSONDecoder().decode(PreparedAudio.self, from: data),
           old.matches(fingerprint: fingerprint, settings: settings, plan: plan, videoStart: videoStart, videoEnd: videoEnd),
           old.file.isEmpty || (PathSafety.isPlainFileName(old.file) &&
                                ((try? FileManager.default.attributesOfItem(atPath: folder + "/" + old.file)[.size] as? Int64) ?? -1) == old.bytes) {
            return old
        }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (start, end) = span(video: video, index: index)
        let halfFrame = 0.5 / max(video.frameRate.doubleValue, 1)
        let d = try Demuxer.input(input)
        var transcoders: [Int: AudioTranscoder] = [:]
        var checkers: [Int: Decoder] = [:]
        var copyErrors: [Int: Int] = [:]
        var copyFirst: [Int: Double] = [:], copyLast: [Int: Double] = [:]
        // Each carried track's whole span on INPUT's clock, from its packets: what --cut-audio-to-video cuts.
        var trackFirst: [Int: Double] = [:], trackLast: [Int: Double] = [:], firstDuration: [Int: Double] = [:]
        let cut = settings.cutToVideo
        let trimmed = settings.trimmed == true
        for s in plan.audio {
            switch s.action {
            case let .transcode(codec, bitrate):
                transcoders[s.index] = try AudioTranscoder(demuxer: d, index: s.index, codec: codec, bitrate: bitrate,
                                                           params: settings.params, start: start, end: end, cut: settings.cutToVideo)
            case .copy:
                if d.parameters(of: s.index).codecID.hasDecoder {
                    checkers[s.index] = try Decoder.input(d, stream: s.index, threads: 1)
                }
            case .drop: break
            }
        }
        for i in 0..<d.streamCount where transcoders[i] == nil && checkers[i] == nil {
            d.discard(stream: i)
        }
        let needsFile = !transcoders.isEmpty
        let name = needsFile ? "audio-\(Int(Date().timeIntervalSince1970))-\(getpid()).packets" : ""
        let store = needsFile ? try PacketStoreWriter(path: folder + "/" + name + ".partial") : nil
        let packet = Packet()
        let frame = Frame()
        while true {
            let more: Bool
            do { more = try d.readInput(into: packet) } catch {
                throw EncodaError(.inputDamaged, "reading INPUT's audio failed: the file is damaged or truncated; re-run with --no-audio to leave audio out", cause: "\(error)")
            }
            if !more { break }
            let si = packet.streamIndex
            let tb = d.timeBase(of: si)
            let p = packet
            if p.pts != noPTS {
                let s0 = Double(p.pts) * Double(tb.num) / Double(tb.den)
                if s0 < trackFirst[si] ?? .infinity {
                    trackFirst[si] = s0
                    firstDuration[si] = Double(p.duration) * Double(tb.num) / Double(tb.den)
                }
                trackLast[si] = max(trackLast[si] ?? s0, s0 + Double(p.duration) * Double(tb.num) / Double(tb.den))
            }
            if let t = transcoders[si] {
                try t.feed(packet) { try store!.write(track: si, $0) }
            } else if let c = checkers[si] {
                if p.pts != noPTS {
                    let s0 = Double(p.pts) * Double(tb.num) / Double(tb.den)
                    let s1 = s0 + Double(p.duration) * Double(tb.num) / Double(tb.den)
                    if cut && !keepsCopied(s0, s1, start: start, end: end, halfFrame: halfFrame, trimmed: trimmed) { continue } // outside the video: cut (SideStreams skips it too)
                    if copyFirst[si] == nil { copyFirst[si] = s0 }
                    copyLast[si] = max(copyLast[si] ?? s1, s1)
                }
                // Every packet that does not decode counts (a full decoder is drained below, not an error).
                do { _ = try c.send(packet, skippingDamaged: false) } catch { copyErrors[si, default: 0] += 1; continue }
                receiving: while true {
                    do {
                        guard try c.receive(into: frame) == .frame else { break receiving }
                    } catch { copyErrors[si, default: 0] += 1; break receiving }
                }
            }
        }
        for (si, t) in transcoders.sorted(by: { $0.key < $1.key }) { try t.finish { try store!.write(track: si, $0) } }
        for (si, n) in copyErrors where n > 0 {
            let s = plan.streams.first { $0.index == si }
            throw EncodaError(.inputDamaged, "audio track #\(si) of INPUT (\(s?.codec ?? "audio")\(s?.language.map { ", " + $0 } ?? "")) is damaged: \(n) packet(s) do not decode. OUTPUT was not written. Choose: --audio-codec \(MuxPlanner.defaultCodec(plan.muxer)) to re-encode it (damaged parts become silence), or --no-audio to leave audio out")
        }
        var notes: [String] = []
        for (si, t) in transcoders where t.damagedPackets > 0 {
            notes.append("audio track #\(si): \(t.damagedPackets) damaged packet(s) were replaced by silence")
        }
        for (si, t) in transcoders.sorted(by: { $0.key < $1.key }) where t.framesOutsideWindow > 0 {
            notes.append("audio track #\(si): \(t.framesOutsideWindow) frame(s) with timestamps more than \(Int(AudioTranscoder.wholeTrackMargin)) s before the first frame or after the last (damaged?) are left out")
        }
        if trimmed {
            // Transcoded tracks are cut to the sample; copied ones only where a packet begins.
            for (si, first) in copyFirst.sorted(by: { $0.key < $1.key }) {
                notes.append(String(format: "audio track #%d is copied, so it is cut at its packet boundaries: it covers %.3f–%.3f s of OUTPUT, the video 0–%.3f s (within one audio frame); --audio-codec %@ cuts it to the sample", si, first - start, (copyLast[si] ?? first) - start, end - start, MuxPlanner.defaultCodec(plan.muxer)))
            }
        } else if cut {
            for (si, first) in trackFirst.sorted(by: { $0.key < $1.key }) {
                notes += cutNote(track: si, first: first, last: trackLast[si] ?? first, start: start, end: end, tolerance: halfFrame)
            }
            for (si, first) in copyFirst.sorted(by: { $0.key < $1.key }) {
                let last = copyLast[si] ?? first
                if first > start + halfFrame || last < end - 2 * halfFrame {
                    notes.append(String(format: "audio track #%d covers %.3f–%.3f s, the video %.3f–%.3f s; use --audio-codec %@ to pad it to the video", si, first, last, start, end, MuxPlanner.defaultCodec(plan.muxer)))
                }
            }
        } else {
            let ext = OutputFormat.table.first { $0.muxer == plan.muxer }?.fileExtension ?? plan.muxer
            // Copied packets more than one packet before INPUT's time zero (one packet is the codec's priming) are a
            // lead-in that INPUT's edit list hides; Matroska and WebM have no edit list, and libavformat shifts
            // every stream instead, as it does for ffmpeg -c copy.
            let hidden = plan.audio.filter { $0.action == .copy }.compactMap { s -> (Int, Double)? in
                guard let f = trackFirst[s.index], f < -(firstDuration[s.index] ?? 0) - 0.001 else { return nil }
                return (s.index, f)
            }.min { $0.1 < $1.1 }
            if let lead = negativeLeadIn(d, plan: plan) {
                notes.append(String(format: "audio track #%d starts %.2f s before INPUT's time zero, which OUTPUT .%@ cannot hold: every stream of OUTPUT is shifted %.2f s later (as ffmpeg -c copy does), so the audio keeps its offset to the video", lead.track, -lead.start, ext, -lead.start))
            } else if let (si, first) = hidden, plan.muxer == "matroska" || plan.muxer == "webm" {
                notes.append(String(format: "audio track #%d has %.2f s before INPUT's time zero that INPUT's edit list hides; OUTPUT .%@ has no edit list, so every stream of OUTPUT is shifted %.2f s later and the lead-in plays (as with ffmpeg -c copy)", si, -first, ext, -first))
            }
        }
        for s in plan.audio where s.action == .copy && copyFirst[s.index] == nil && checkers[s.index] != nil && cut {
            throw EncodaError(.inputDamaged, "audio track #\(s.index) of INPUT has no packets within the video; use --no-audio to leave it out")
        }
        var bytes: Int64 = 0
        var tracks: [AudioTrackParameters] = []
        if let store {
            bytes = try store.finish()
            do { try FileSystem.rename(folder + "/" + name + ".partial", to: folder + "/" + name) } catch {
                throw EncodaError(.workDirectory, "cannot publish the prepared audio", error)
            }
            tracks = transcoders.sorted { $0.key < $1.key }.map { $0.value.parameters(packets: $0.value.packets) }
        }
        let record = PreparedAudio(inputFingerprint: fingerprint, settings: settings, plan: plan, videoStart: videoStart, videoEnd: videoEnd,
                                   file: name, bytes: bytes, tracks: tracks, notes: notes)
        try writeRecord(try JSONEncoder().encode(record), to: recordPath)
        return record
    }

    /// Whether a copied audio packet spanning `s0`–`s1` s stays when the audio is cut to the video's `start`–`end`:
    /// with `--cut-audio-to-video` every packet that overlaps the video (by more than half a video frame at the
    /// start); for a part of INPUT (`trimmed`), the packets from the first that begins at the video's start or after
    /// it (none is then before OUTPUT's time zero) to the last whose middle lies before the end: the nearest packet
    /// boundary there. Either way the kept audio ends within one audio frame of the video's end.
    static func keepsCopied(_ s0: Double, _ s1: Double, start: Double, end: Double, halfFrame: Double, trimmed: Bool) -> Bool {
        if trimmed { return s0 >= start - 1e-6 && (s0 + s1) / 2 < end }
        return !(s1 <= start - halfFrame || s0 >= end)
    }

    /// The note for `--cut-audio-to-video`, when it cuts more than `tolerance` seconds of a track (its packets span
    /// `first`–`last`, the video `start`–`end`), e.g. "audio track #1: 0.47 s before the first frame and 1.41 s after
    /// the last are cut (--cut-audio-to-video)".
    static func cutNote(track: Int, first: Double, last: Double, start: Double, end: Double, tolerance: Double) -> [String] {
        var parts: [String] = []
        if start - first > tolerance { parts.append(String(format: "%.2f s before the first frame", start - first)) }
        if last - end > tolerance { parts.append(String(format: "%.2f s after the last", last - end)) }
        guard !parts.isEmpty else { return [] }
        return ["audio track #\(track): \(parts.joined(separator: " and ")) \(parts.count == 1 ? "is" : "are") cut (--cut-audio-to-video)"]
    }

    /// The earliest carried audio track that starts before INPUT's time zero by more than a millisecond (its stream
    /// start time, which libavformat gives after the encoder's priming), or nil. No container encoda writes holds a
    /// presented negative time: Matroska and WebM make every timestamp non-negative by shifting all streams, and an
    /// MP4/MOV edit list would hide the lead-in, so `SideStreams` asks the muxer for the same shift there.
    static func negativeLeadIn(_ d: Demuxer, plan: MuxPlan) -> (track: Int, start: Double)? {
        var earliest: (track: Int, start: Double)? = nil
        for s in plan.audio {
            let st = d.parameters(of: s.index)
            guard st.startTime != noPTS else { continue }
            let t = Double(st.startTime) * Double(st.timeBase.num) / Double(st.timeBase.den)
            if t < -0.001 && t < (earliest?.start ?? 0) { earliest = (s.index, t) }
        }
        return earliest
    }

    /// Writes `data` to `path` as every record in TMP is written: a temp file beside it (`audio.json.PID.tmp`, a
    /// name `clean` knows), fsync, rename, so a reader sees either the old record or the whole new one, also after a
    /// crash of the machine.
    static func writeRecord(_ data: Data, to path: String) throws {
        try AtomicFile.write(data, to: path, temp: path + ".\(getpid()).tmp")
    }
}

/// Stored audio packets: "ENCODAAU" u32 version, then per packet u32 track u32 size i64 pts i64 dts i64 duration
/// u32 flags bytes; a u32 0xFFFFFFFF and the packet count end the file.
final class PacketStoreWriter {
    private let file: FileStream
    var path: String { file.path }
    private var count: UInt32 = 0
    private var bytes: Int64 = 0

    init(path: String) throws {
        do { file = try FileStream(creating: path) } catch {
            throw EncodaError(.workDirectory, "cannot store the prepared audio", error, advice: "check that TMP is writable")
        }
        try put(Array("ENCODAAU".utf8)); try u32(1)
    }
    private func put(_ b: [UInt8]) throws { try b.withUnsafeBytes { try raw($0) } }
    private func raw(_ r: UnsafeRawBufferPointer) throws {
        guard r.count > 0 else { return }
        do { try file.write(r) } catch {
            throw EncodaError(.workDirectory, "cannot store the prepared audio", error, advice: "check free space in TMP")
        }
        bytes += Int64(r.count)
    }
    private func u32(_ v: UInt32) throws { var x = v.littleEndian; try withUnsafeBytes(of: &x) { try raw($0) } }
    private func i64(_ v: Int64) throws { var x = v.littleEndian; try withUnsafeBytes(of: &x) { try raw($0) } }

    func write(track: Int, _ p: Packet) throws {
        try u32(UInt32(track)); try u32(UInt32(p.size)); try i64(p.pts); try i64(p.dts); try i64(p.duration)
        try u32(UInt32(bitPattern: p.flags))
        if p.size > 0 { try p.withBytes { try raw($0) } }
        count += 1
    }

    func finish() throws -> Int64 {
        try u32(0xFFFF_FFFF); try u32(count)
        do { try file.finish() } catch {
            throw EncodaError(.workDirectory, "cannot flush the prepared audio", error)
        }
        return bytes
    }
}

/// Reads a packet store back, bounds-checking every length.
struct PacketStoreReader {
    struct Item { var track: Int; var data: [UInt8]; var pts: Int64; var dts: Int64; var duration: Int64; var flags: Int32 }
    let items: [Item]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EncodaError(.stateCorrupt, "the prepared audio \(path) cannot be read; delete TMP/audio to prepare it again")
        }
        func bad() -> EncodaError { EncodaError(.stateCorrupt, "the prepared audio \(path) is damaged; delete TMP/audio to prepare it again") }
        items = try data.withUnsafeBytes { raw -> [Item] in
            var c = ChunkReader.Cursor(data: raw, offset: 8)
            guard raw.count >= 12, Array(raw.prefix(8)) == Array("ENCODAAU".utf8), c.u32() == 1 else { throw bad() }
            var out: [Item] = []
            while true {
                guard let track = c.u32() else { throw bad() }
                if track == 0xFFFF_FFFF {
                    guard let n = c.u32(), Int(n) == out.count, c.offset == raw.count else { throw bad() }
                    break
                }
                guard let size = c.u32(), let pts = c.i64(), let dts = c.i64(), let dur = c.i64(), let flags = c.u32(),
                      let bytes = c.bytes(Int(size)) else { throw bad() }
                out.append(Item(track: Int(track), data: bytes, pts: pts, dts: dts, duration: dur, flags: Int32(bitPattern: flags)))
            }
            return out
        }
    }
}
