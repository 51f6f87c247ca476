import Foundation

/// A place on an editorial timeline, before INPUT's frame rate is known: OTIO counts in its own rates (converted to
/// frames of the timeline's rate while the track is read), an EDL in timecode (counted at INPUT's rate).
public enum TimelinePosition: Hashable, Sendable {
    /// Frames at the timeline's rate (`EditorialTimeline.rate`); fractional when an item's rate differs.
    case frames(Double)
    case timecode(SMPTETimecode)
}

/// One clip of the chosen video track: where it sits on the timeline (end exclusive). A transition's frames already
/// belong to the clip it leads into.
public struct TimelineClip: Hashable, Sendable {
    public var name: String
    public var start: TimelinePosition
    public var end: TimelinePosition
    public init(name: String, start: TimelinePosition, end: TimelinePosition) {
        self.name = name; self.start = start; self.end = end
    }
}

/// The clips of one video track of an OTIO timeline or a CMX 3600 EDL, in timeline order, gaps left out.
public struct EditorialTimeline: Hashable, Sendable {
    /// "--otio cut.otio", "--edl cut.edl": how messages name the timeline.
    public var origin: String
    /// The timeline's frame rate (OTIO's rates); nil for an EDL, whose timecode carries none.
    public var rate: Double?
    /// The timeline's first frame: OTIO's global_start_time (else 0), an EDL's first record-in.
    public var start: TimelinePosition
    public var clips: [TimelineClip]

    public init(origin: String, rate: Double?, start: TimelinePosition, clips: [TimelineClip]) {
        self.origin = origin; self.rate = rate; self.start = start; self.clips = clips
    }

    /// Each clip's frames in INPUT, a render of this timeline at `inputRate` holding `inputFrames` frames, whose
    /// frame 0 is `timelineStart` (`--timeline-start`) or else the timeline's own start. Errors name the clip: a
    /// timeline at another rate than INPUT, a clip with no frames, one before INPUT's first frame or beyond its end.
    public func resolve(inputRate: Rational, inputFrames: Int, timelineStart: SMPTETimecode? = nil) throws -> [(name: String, range: FrameRange)] {
        let rateText = FrameRateText.format(inputRate)
        if let r = rate, abs(r - inputRate.doubleValue) > 0.005 {
            throw EncodaError(.inputUnsupported, "\(origin) runs at \(Self.rateText(r)) fps and INPUT at \(rateText) fps; INPUT must be a render of the timeline at its own rate")
        }
        func frame(_ p: TimelinePosition, _ what: String) throws -> Int {
            switch p {
            case let .frames(f):
                guard abs(f - f.rounded()) < 0.01 else {
                    throw EncodaError(.inputUnsupported, "\(what) lies between two frames at \(rateText) fps (frame \(String(format: "%.3f", f))); INPUT must be a render of the timeline at its own rate")
                }
                return Int(f.rounded())
            case let .timecode(tc):
                return try tc.frameNumber(rate: inputRate, option: "\(origin): \(what)")
            }
        }
        let origin0: Int
        if let tc = timelineStart {
            origin0 = try tc.frameNumber(rate: inputRate, option: "--timeline-start")
        } else {
            origin0 = try frame(start, "the timeline's start")
        }
        guard !clips.isEmpty else {
            throw EncodaError(.usage, "\(origin) holds no clip on its video track; give a timeline with clips (or --track NAME for another track)")
        }
        var out: [(name: String, range: FrameRange)] = []
        for c in clips {
            let s = try frame(c.start, "clip \"\(c.name)\"") - origin0, e = try frame(c.end, "clip \"\(c.name)\"") - origin0
            guard e > s else {
                throw EncodaError(.usage, "\(origin): clip \"\(c.name)\" holds no frames on the timeline; remove it or give it a length")
            }
            guard s >= 0 else {
                let fix = timelineStart == nil ? "; give --timeline-start with the record timecode INPUT's first frame shows" : "; --timeline-start \(timelineStart!) is later than the clip"
                throw EncodaError(.usage, "\(origin): clip \"\(c.name)\" begins \(-s) frames before INPUT's first frame\(fix)")
            }
            guard e <= inputFrames else {
                throw EncodaError(.inputUnsupported, "\(origin): clip \"\(c.name)\" ends at frame \(e) but INPUT holds \(inputFrames) frames (\(SMPTETimecode.label(frame: inputFrames, rate: inputRate, dropFrame: false)) at \(rateText) fps): the timeline is longer than INPUT; render the whole timeline, or check --timeline-start")
            }
            // Events out of record order are kept in the file's order (the outputs' {index}), but may not overlap.
            if let prev = out.last(where: { s < $0.range.end && $0.range.start < e }) {
                throw EncodaError(.usage, "\(origin): clip \"\(c.name)\" overlaps clip \"\(prev.name)\" on the track; one video track holds one clip at a time")
            }
            out.append((c.name, FrameRange(s, e)))
        }
        return out
    }

    static func rateText(_ r: Double) -> String {
        var s = String(format: "%.3f", r)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

// MARK: - OpenTimelineIO

/// Reads an OpenTimelineIO (.otio) JSON timeline: Timeline.1 → Stack.1 → Track.1 → Clip.1/Clip.2, Gap.1,
/// Transition.1. Only the fields encoda needs are decoded; others are ignored.
public enum OTIOReader {
    /// An OTIO object of any schema, decoded loosely.
    final class Object: Decodable {
        let schema: String?
        let name: String?
        let kind: String?
        let sourceRange: TimeRange?
        let inOffset: Time?
        let outOffset: Time?
        let children: [Object]?
        let tracks: Object?
        let globalStartTime: Time?
        let mediaReference: MediaReference?
        /// Clip.2 (OTIO 0.15 on) keeps its media by key, and names the one in use.
        let mediaReferences: [String: MediaReference]?
        let activeMediaReferenceKey: String?
        /// False for an item switched off in the editor: it shows nothing, as a gap.
        let enabled: Bool?

        enum CodingKeys: String, CodingKey {
            case schema = "OTIO_SCHEMA", name, kind, sourceRange = "source_range", inOffset = "in_offset", outOffset = "out_offset"
            case children, tracks, globalStartTime = "global_start_time", mediaReference = "media_reference", enabled
            case mediaReferences = "media_references", activeMediaReferenceKey = "active_media_reference_key"
        }

        /// The media in use: Clip.1's one reference, or Clip.2's active one (OTIO's key "DEFAULT_MEDIA" when unnamed).
        var media: MediaReference? { mediaReference ?? mediaReferences?[activeMediaReferenceKey ?? "DEFAULT_MEDIA"] }

        var schemaName: String { (schema ?? "").split(separator: ".").first.map(String.init) ?? "" }
    }
    struct Time: Decodable { let value: Double; let rate: Double }
    struct TimeRange: Decodable {
        let startTime: Time; let duration: Time
        enum CodingKeys: String, CodingKey { case startTime = "start_time", duration }
    }
    struct MediaReference: Decodable {
        let availableRange: TimeRange?
        enum CodingKeys: String, CodingKey { case availableRange = "available_range" }
    }

    /// The clips of the first video track, or of the track named `track`. `file` names the timeline in messages.
    public static func read(_ data: Data, file: String, track: String? = nil) throws -> EditorialTimeline {
        let origin = "--otio \(file)"
        let root: Object
        do { root = try JSONDecoder().decode(Object.self, from: data) } catch {
            throw EncodaError(.usage, "\(origin) is not an OpenTimelineIO JSON timeline; give a .otio file as OpenTimelineIO writes it", cause: "\(error)")
        }
        guard root.schemaName == "Timeline", let stack = root.tracks else {
            throw EncodaError(.usage, "\(origin) holds \(root.schema ?? "no OTIO_SCHEMA"), not a Timeline.1; give a timeline (.otio) file")
        }
        let tracks = (stack.children ?? []).filter { $0.schemaName == "Track" }
        let chosen: Object
        if let track {
            guard let t = tracks.first(where: { $0.name == track }) else {
                let names = tracks.map { "\"\($0.name ?? "")\" (\($0.kind ?? "?"))" }.joined(separator: ", ")
                throw EncodaError(.usage, "\(origin) holds no track named \"\(track)\"; its tracks are \(names.isEmpty ? "none" : names)")
            }
            chosen = t
        } else {
            guard let t = tracks.first(where: { ($0.kind ?? "Video") == "Video" }) else {
                throw EncodaError(.usage, "\(origin) holds no video track; give a timeline with one, or --track NAME")
            }
            chosen = t
        }
        let trackName = chosen.name.map { "track \"\($0)\"" } ?? "its video track"
        // The timeline's rate: its start time's, else the first clip's.
        let items = chosen.children ?? []
        guard let rate = root.globalStartTime?.rate ?? firstClipRate(items),
              rate > 0, rate.isFinite else {
            throw EncodaError(.usage, "\(origin) holds no clip on \(trackName); give a timeline with clips (or --track NAME for another track)")
        }
        func frames(_ t: Time) -> Double { t.rate > 0 ? t.value * rate / t.rate : .nan }
        /// The clips of a track's items in the track's own time (its first frame 0), and the track's length.
        func walk(_ items: [Object], in trackName: String) throws -> (clips: [TimelineClip], length: Double) {
            var clips: [TimelineClip] = []
            var position = 0.0
            /// Frames before the current cut that a transition gives to the next clip.
            var pendingIn = 0.0
            var lastWasClip = false
            for (i, item) in items.enumerated() {
                let label = item.name.map { "\"\($0)\"" } ?? "item \(i + 1)"
                switch item.schemaName {
                case "Transition":
                    let before = item.inOffset.map(frames) ?? 0
                    if lastWasClip, var last = clips.popLast(), case let .frames(end) = last.end {
                        last.end = .frames(min(end, position - before))
                        clips.append(last)
                    }
                    pendingIn = before
                case "Stack":
                    // A nested stack: its topmost video track (OTIO's last), cut to the stack's source_range.
                    guard let top = (item.children ?? []).last(where: { $0.schemaName == "Track" && ($0.kind ?? "Video") == "Video" }) else {
                        throw EncodaError(.usage, "\(origin): nested stack \(label) on \(trackName) holds no video track")
                    }
                    let inner = try walk(top.children ?? [], in: "the nested stack \(label)")
                    let from = item.sourceRange.map { frames($0.startTime) } ?? 0
                    let length = item.sourceRange.map { frames($0.duration) } ?? inner.length
                    guard length.isFinite, from.isFinite else { throw EncodaError(.usage, "\(origin): \(label) has the rate 0") }
                    let shown = item.enabled == false ? [] : inner.clips.compactMap { c -> TimelineClip? in
                        guard case let .frames(s) = c.start, case let .frames(e) = c.end else { return nil }
                        let a = max(s, from), b = min(e, from + length)
                        return b > a ? TimelineClip(name: c.name, start: .frames(position + a - from), end: .frames(position + b - from)) : nil
                    }
                    if var first = shown.first, pendingIn > 0, case let .frames(s) = first.start, s <= position {
                        first.start = .frames(s - pendingIn)
                        clips.append(first); clips.append(contentsOf: shown.dropFirst())
                    } else {
                        clips.append(contentsOf: shown)
                    }
                    lastWasClip = !shown.isEmpty
                    pendingIn = 0
                    position += length
                default:
                    guard let d = duration(item) else {
                        throw EncodaError(.usage, "\(origin): \(label) on \(trackName) has no source_range; encoda cannot place it on the timeline")
                    }
                    let length = frames(d)
                    guard length.isFinite else { throw EncodaError(.usage, "\(origin): \(item.name ?? "item \(i + 1)") has the rate 0") }
                    // A clip switched off (enabled: false) shows nothing: a gap.
                    if item.schemaName == "Gap" || item.enabled == false {
                        lastWasClip = false
                    } else {
                        let name = (item.name ?? "").isEmpty ? "clip \(clips.count + 1)" : item.name!
                        clips.append(TimelineClip(name: name, start: .frames(position - pendingIn), end: .frames(position + length)))
                        lastWasClip = true
                    }
                    pendingIn = 0
                    position += length
                }
            }
            return (clips, position)
        }
        // Record time: the track starts at the timeline's global start time.
        let origin0 = root.globalStartTime.map(frames) ?? 0
        let clips = try walk(items, in: trackName).clips.map { c -> TimelineClip in
            guard case let .frames(s) = c.start, case let .frames(e) = c.end else { return c }
            return TimelineClip(name: c.name, start: .frames(origin0 + s), end: .frames(origin0 + e))
        }
        return EditorialTimeline(origin: origin, rate: rate, start: .frames(origin0), clips: clips)
    }

    /// The rate of the first clip among `items`, looking into nested stacks' tracks.
    static func firstClipRate(_ items: [Object]) -> Double? {
        for item in items {
            switch item.schemaName {
            case "Transition", "Gap": continue
            case "Stack":
                for track in item.children ?? [] { if let r = firstClipRate(track.children ?? []) { return r } }
            default:
                if let r = duration(item)?.rate { return r }
            }
        }
        return nil
    }

    /// An item's length on its track: its source_range, else its media's available range.
    static func duration(_ item: Object) -> Time? {
        item.sourceRange?.duration ?? item.media?.availableRange?.duration
    }
}

// MARK: - CMX 3600 EDL

/// Reads a CMX 3600 EDL: event lines (`001  AX  V  C  00:00:00:00 00:00:02:00 01:00:00:00 01:00:02:00`), the
/// clip names of `* FROM CLIP NAME:` (and `* TO CLIP NAME:` for the clip a transition leads into), `FCM: DROP FRAME`
/// / `NON-DROP FRAME`. Video events only; black (`BL`) is a gap. A dissolve's event (`D 030`) records the transition
/// and the clip it leads into from the transition's first frame on, so the transition's frames go with that clip.
public enum EDLReader {
    struct Line {
        var event: String, reel: String, channel: String
        var recordIn: SMPTETimecode, recordOut: SMPTETimecode
        var fromName: String?, toName: String?
        var lineNumber: Int
    }

    public static func read(_ text: String, file: String) throws -> EditorialTimeline {
        let origin = "--edl \(file)"
        var dropFrame = false
        var lines: [Line] = []
        for (n, raw) in text.components(separatedBy: .newlines).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let upper = line.uppercased()
            if upper.hasPrefix("FCM:") {
                dropFrame = !upper.contains("NON-DROP") && upper.contains("DROP")
                continue
            }
            if line.hasPrefix("*") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                for (key, to) in [("FROM CLIP NAME:", false), ("TO CLIP NAME:", true)] where body.uppercased().hasPrefix(key) {
                    let name = body.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
                    if !lines.isEmpty, !name.isEmpty {
                        if to { lines[lines.count - 1].toName = name } else if lines[lines.count - 1].fromName == nil { lines[lines.count - 1].fromName = name }
                    }
                }
                continue
            }
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = tokens.first, first.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }   // TITLE:, M2, notes
            guard tokens.count >= 8 else {
                throw EncodaError(.usage, "\(origin) line \(n + 1) is not a CMX 3600 event (number, reel, channel, transition, four timecodes): \(line)")
            }
            var times: [SMPTETimecode] = []
            for t in tokens.suffix(4) {
                guard var tc = SMPTETimecode(parsing: t) else {
                    throw EncodaError(.usage, "\(origin) line \(n + 1): \(t) is not a timecode (HH:MM:SS:FF)")
                }
                if dropFrame { tc.dropFrame = true }
                times.append(tc)
            }
            lines.append(Line(event: first, reel: tokens[1], channel: tokens[2].uppercased(), recordIn: times[2], recordOut: times[3],
                              fromName: nil, toName: nil, lineNumber: n + 1))
        }
        func isZero(_ l: Line) -> Bool { l.recordIn == l.recordOut }
        var clips: [TimelineClip] = []
        var i = 0
        while i < lines.count {
            var j = i
            while j + 1 < lines.count && lines[j + 1].event == lines[i].event { j += 1 }
            let group = Array(lines[i...j])
            // A transition's outgoing side is written as a zero-length line before the incoming one: it holds nothing.
            let kept = group.count > 1 ? group.filter { !isZero($0) } : group
            for (k, l) in kept.enumerated() {
                let video = l.channel.contains("V") || l.channel == "B"
                let black = ["BL", "BLK", "BLACK"].contains(l.reel.uppercased())
                guard video && !black else { continue }
                let isLast = k == kept.count - 1
                let name = (isLast ? (l.toName ?? group.last?.toName) : nil) ?? l.fromName ?? group.first?.fromName ?? "\(l.reel) \(l.event)"
                clips.append(TimelineClip(name: name, start: .timecode(l.recordIn), end: .timecode(l.recordOut)))
            }
            i = j + 1
        }
        // The timeline starts at the earliest record in (events may be listed out of record order).
        let ins = clips.compactMap { c -> SMPTETimecode? in if case let .timecode(t) = c.start { return t }; return nil }
        guard let first = ins.min(by: { ($0.hours, $0.minutes, $0.seconds, $0.frames) < ($1.hours, $1.minutes, $1.seconds, $1.frames) }) else {
            throw EncodaError(.usage, "\(origin) holds no video event; give a CMX 3600 EDL with at least one")
        }
        return EditorialTimeline(origin: origin, rate: nil, start: .timecode(first), clips: clips)
    }
}

// MARK: - Output names

/// OUTPUT as a pattern for one file per clip: `{clip}` is the clip's name made safe for file systems, `{index}` its
/// 1-based place, zero-padded to the count's width (`reviews/{index}_{clip}.mp4`).
public enum ClipOutputNames {
    /// The name as a file name: letters and digits (of any script, composed as NFC: "Café" stays "Café"), `-`, `_`
    /// and `.` kept, every other run of characters one `_`.
    public static func safe(_ name: String) -> String {
        var out = ""
        for ch in name.precomposedStringWithCanonicalMapping {
            if ch.isLetter || ch.isNumber || ch == "-" || ch == "." || ch == "_" { out.append(ch) }
            else if !out.hasSuffix("_") { out.append("_") }
        }
        while out.hasPrefix(".") || out.hasPrefix("_") { out.removeFirst() }
        while out.hasSuffix(".") || out.hasSuffix("_") { out.removeLast() }
        if out.count > 120 { out = String(out.prefix(120)) }
        return out.isEmpty ? "clip" : out
    }

    /// Safe names, distinct (ignoring case, as some file systems do) in timeline order: the second clip whose name
    /// maps to `A` is `A_2`, the third `A_3`.
    public static func distinct(_ names: [String]) -> [String] {
        var used = Set<String>()
        var out: [String] = []
        for n in names {
            let base = safe(n)
            var candidate = base, k = 2
            while used.contains(candidate.lowercased()) { candidate = "\(base)_\(k)"; k += 1 }
            used.insert(candidate.lowercased())
            out.append(candidate)
        }
        return out
    }

    /// True for a pattern of one file per clip.
    public static func isPattern(_ output: String) -> Bool { output.contains("{clip}") || output.contains("{index}") }

    /// A usage error unless `pattern` holds `{clip}` or `{index}` (else every clip would be written to one file).
    public static func check(pattern: String, option: String) throws {
        guard pattern.contains("{clip}") || pattern.contains("{index}") else {
            throw EncodaError(.usage, "with \(option), OUTPUT is a pattern holding {clip} and/or {index}, e.g. reviews/{index}_{clip}.mp4, so each clip gets its own file")
        }
    }

    /// The file of every clip, in order.
    public static func paths(pattern: String, clipNames: [String]) -> [String] {
        let width = String(clipNames.count).count
        return zip(distinct(clipNames), clipNames.indices).map { name, i in
            let index = String(repeating: "0", count: max(0, width - String(i + 1).count)) + String(i + 1)
            return pattern.replacingOccurrences(of: "{clip}", with: name).replacingOccurrences(of: "{index}", with: index)
        }
    }
}

// MARK: - One job, one output per clip

/// One output of a timeline job: a clip's frames of INPUT and the file they go to.
public struct ClipOutput: Codable, Sendable, Hashable {
    /// The clip's name on the timeline.
    public var clip: String
    /// OUTPUT's pattern filled in, absolute.
    public var path: String
    /// INPUT's frames the clip covers, end exclusive.
    public var range: FrameRange

    public init(clip: String, path: String, range: FrameRange) {
        self.clip = clip; self.path = path; self.range = range
    }
}

extension JobManifest {
    /// The chunks of output `i` (they lie inside its range; no chunk crosses two outputs).
    public func chunks(ofOutput i: Int) -> [Chunk] {
        guard let o = outputs?[i] else { return chunks }
        return chunks.filter { $0.range.start >= o.range.start && $0.range.end <= o.range.end }
    }

    /// The plan of output `i` alone, as a single-output job with a trim to the clip's range (timestamps from 0):
    /// what the concatenator joins.
    public func forOutput(_ i: Int) -> JobManifest {
        guard let o = outputs?[i] else { return self }
        var m = self
        m.chunks = chunks(ofOutput: i)
        m.outputs = nil
        m.trim = Trim(range: o.range, keepTimestamps: false)
        return m
    }
}
