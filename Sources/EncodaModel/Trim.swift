import Foundation

/// Part of INPUT to encode (`--start`, `--end`, `--duration`): the source frames `range`, end exclusive. Recorded in
/// the job's settings (job.json), so a re-run with another range is refused like other settings, and a job of
/// several outputs can give each its own range of one analysis.
public struct Trim: Codable, Sendable, Hashable {
    /// Source frame numbers, as the frame index counts them.
    public var range: FrameRange
    /// True with `--keep-timestamps`: OUTPUT's frames keep INPUT's timestamps. Otherwise the first frame is at 0,
    /// as an ffmpeg `trim,setpts=PTS-STARTPTS` gives.
    public var keepTimestamps: Bool

    public init(range: FrameRange, keepTimestamps: Bool) {
        self.range = range; self.keepTimestamps = keepTimestamps
    }

    /// What every timestamp of OUTPUT is moved by, in the source's time base: minus the first kept frame's
    /// timestamp, or nothing with `--keep-timestamps`.
    public func timestampShift(_ index: FrameIndex) -> Int64 {
        keepTimestamps ? 0 : index.pts[range.start]
    }
}

/// SMPTE timecode HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame (29.97 and 59.94 fps): labels 00 and 01 (00–03 at
/// 59.94) are skipped at the start of every minute except every tenth, so the labels keep pace with the clock.
public struct SMPTETimecode: Hashable, Sendable, CustomStringConvertible {
    public var hours: Int, minutes: Int, seconds: Int, frames: Int
    public var dropFrame: Bool

    public init(hours: Int, minutes: Int, seconds: Int, frames: Int, dropFrame: Bool) {
        self.hours = hours; self.minutes = minutes; self.seconds = seconds; self.frames = frames; self.dropFrame = dropFrame
    }

    /// "00:00:09:15", "00:01:00;02" (also "00;01;00;02" and "00:01:00.02" for drop-frame); nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        var fields: [Int] = [], current = "", separators: [Character] = []
        for ch in t {
            if ch.isASCII && ch.isNumber { current.append(ch); continue }
            guard ch == ":" || ch == ";" || ch == ".", !current.isEmpty else { return nil }
            guard let v = Int(current) else { return nil }
            fields.append(v); separators.append(ch); current = ""
        }
        guard let last = Int(current), fields.count == 3, current.count <= 3 else { return nil }
        fields.append(last)
        guard fields[0] < 1000, fields[1] < 60, fields[2] < 60 else { return nil }
        guard !separators.dropLast().contains(".") else { return nil }
        let drop = separators.contains(";") || separators.last == "."
        self.init(hours: fields[0], minutes: fields[1], seconds: fields[2], frames: last, dropFrame: drop)
    }

    public var description: String {
        String(format: "%02d:%02d:%02d%@%02d", hours, minutes, seconds, dropFrame ? ";" : ":", frames)
    }

    /// The whole frames per second a timecode counts at this rate: 30 for 29.97, 24 for 23.976, 25.
    public static func nominalRate(_ rate: Rational) -> Int { max(1, Int(rate.doubleValue.rounded())) }

    /// True for 29.97 and 59.94 fps (30000/1001, 60000/1001), the rates drop-frame timecode exists for.
    public static func allowsDropFrame(_ rate: Rational) -> Bool {
        let n = nominalRate(rate)
        return (n == 30 || n == 60) && abs(rate.doubleValue - Double(n) * 1000 / 1001) < 0.001
    }

    /// The frame this label names, counting frame 0 as 00:00:00:00, at `rate`; a usage error naming the problem for
    /// a label that does not exist at that rate (`option` names the option in the message).
    public func frameNumber(rate: Rational, option: String) throws -> Int {
        let fps = Self.nominalRate(rate)
        let rateText = FrameRateText.format(rate)
        guard frames < fps else {
            throw EncodaError(.usage, "\(option) \(self): frame \(frames) does not exist at \(rateText) fps, where a second counts frames 00–\(fps - 1)")
        }
        let totalMinutes = hours * 60 + minutes
        let nominal = (totalMinutes * 60 + seconds) * fps + frames
        guard dropFrame else { return nominal }
        guard Self.allowsDropFrame(rate) else {
            var plain = self; plain.dropFrame = false
            throw EncodaError(.usage, "\(option) \(self) is drop-frame timecode (';'), which exists only at 29.97 and 59.94 fps; INPUT runs at \(rateText) fps: write \(plain)")
        }
        let drop = fps / 15   // 2 labels a minute at 29.97, 4 at 59.94
        if seconds == 0 && frames < drop && minutes % 10 != 0 {
            throw EncodaError(.usage, "\(option) \(self) does not exist in drop-frame timecode: labels \(String(format: "%02d", 0))–\(String(format: "%02d", drop - 1)) are skipped at the start of every minute except every tenth; write \(String(format: "%02d:%02d:00;%02d", hours, minutes, drop))")
        }
        return nominal - drop * (totalMinutes - totalMinutes / 10)
    }

    /// The label of frame `frame` at `rate`, drop-frame when asked and the rate has it.
    public static func label(frame: Int, rate: Rational, dropFrame: Bool) -> SMPTETimecode {
        let fps = nominalRate(rate)
        var n = frame
        let drop = dropFrame && allowsDropFrame(rate)
        if drop {
            let skip = fps / 15
            let perTen = fps * 600 - skip * 9, perMinute = fps * 60 - skip
            let tens = n / perTen, rest = n % perTen
            n += skip * 9 * tens + (rest > skip ? skip * ((rest - skip) / perMinute) : 0)
        }
        return SMPTETimecode(hours: n / (fps * 3600), minutes: n / (fps * 60) % 60, seconds: n / fps % 60, frames: n % fps, dropFrame: drop)
    }
}

/// A position or length given to `--start`, `--end` or `--duration`: a frame number (`240`), seconds (`9.6s`) or
/// SMPTE timecode (`00:00:09:15`, `00:00:09;15` drop-frame), all counted from INPUT's first frame.
public enum TrimPoint: Hashable, Sendable {
    case frame(Int)
    case seconds(Double)
    case timecode(SMPTETimecode)

    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if !t.isEmpty, t.count <= 12, t.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(t) {
            self = .frame(n)
        } else if t.hasSuffix("s"), let v = Double(t.dropLast()), v.isFinite, v >= 0,
                  t.dropLast().allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            self = .seconds(v)
        } else if let tc = SMPTETimecode(parsing: t) {
            self = .timecode(tc)
        } else {
            return nil
        }
    }

    /// The unit a message about this point speaks in.
    public enum Unit { case frames, seconds, timecode(dropFrame: Bool) }
    public var unit: Unit {
        switch self {
        case .frame: return .frames
        case .seconds: return .seconds
        case let .timecode(tc): return .timecode(dropFrame: tc.dropFrame)
        }
    }
}

/// `--start`, `--end` and `--duration` as given, before INPUT's frame index is known; `resolve` turns them into
/// source frames once it is.
public struct TrimRequest: Hashable, Sendable {
    public var start: TrimPoint?
    public var end: TrimPoint?
    public var duration: TrimPoint?
    var texts: [String: String] = [:]

    /// Parses the options; a usage error for text that is none of the three forms, or for --end with --duration.
    /// Nil when none is given. Checks what can be checked without INPUT: an empty or reversed range in one unit.
    public init?(start: String?, end: String?, duration: String?) throws {
        guard start != nil || end != nil || duration != nil else { return nil }
        func parse(_ text: String?, _ option: String) throws -> TrimPoint? {
            guard let text else { return nil }
            guard let p = TrimPoint(parsing: text) else {
                throw EncodaError(.usage, "\(option) \(text) is not a frame number (240), seconds (9.6s) or timecode (00:00:09:15, or 00:00:09;15 drop-frame)")
            }
            texts[option] = text
            return p
        }
        self.start = try parse(start, "--start")
        self.end = try parse(end, "--end")
        self.duration = try parse(duration, "--duration")
        if end != nil && duration != nil {
            throw EncodaError(.usage, "--end and --duration exclude each other; give one of them")
        }
        if let d = self.duration, Self.isZero(d) {
            throw EncodaError(.usage, "--duration \(texts["--duration"]!) is empty; give a length of at least one frame")
        }
        if let s = self.start, let e = self.end, let order = Self.sameUnitOrder(s, e), !order {
            throw EncodaError(.usage, reversed(startFrame: nil, endFrame: nil))
        }
    }

    private static func isZero(_ p: TrimPoint) -> Bool {
        switch p {
        case let .frame(n): return n == 0
        case let .seconds(s): return s == 0
        case let .timecode(t): return t.hours == 0 && t.minutes == 0 && t.seconds == 0 && t.frames == 0
        }
    }

    /// Whether `s` comes before `e`, when both are in one unit (nil when they are not).
    private static func sameUnitOrder(_ s: TrimPoint, _ e: TrimPoint) -> Bool? {
        switch (s, e) {
        case let (.frame(a), .frame(b)): return a < b
        case let (.seconds(a), .seconds(b)): return a < b
        case let (.timecode(a), .timecode(b)) where a.dropFrame == b.dropFrame:
            return (a.hours, a.minutes, a.seconds, a.frames) < (b.hours, b.minutes, b.seconds, b.frames)
        default: return nil
        }
    }

    private func reversed(startFrame: Int?, endFrame: Int?) -> String {
        let frames = startFrame.map { s in endFrame.map { " (frame \($0) is not after frame \(s))" } ?? "" } ?? ""
        return "--end \(texts["--end"] ?? "") is not after --start \(texts["--start"] ?? "0")\(frames): the range is empty or reversed; the end is exclusive, so give an --end after --start"
    }

    /// The source frames [start, end) these options name in INPUT, whose frames are `index` at `rate` (seconds are
    /// timestamps relative to the first frame; a time maps to the first frame at or after it). A usage error for a
    /// point beyond INPUT, saying INPUT's length in the unit the option used, and for an empty or reversed range.
    /// `sourceTimecode`: INPUT's own start timecode, named when a timecode lies beyond INPUT (it may have been meant
    /// on that clock; here timecode counts from INPUT's first frame as 00:00:00:00).
    public func resolve(index: FrameIndex, timeBase: Rational, rate: Rational, sourceTimecode: String? = nil) throws -> FrameRange {
        let count = index.frameCount
        let tb = timeBase.doubleValue
        let first = index.pts[0]
        let length = Double(index.pts[count - 1] + index.durations[count - 1] - first) * tb
        func time(_ frame: Int) -> Double { frame >= count ? length : Double(index.pts[frame] - first) * tb }
        /// The first frame whose time is at or after `seconds` (a microsecond of slack absorbs decimal rounding).
        func frame(atOrAfter seconds: Double) -> Int {
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                if time(mid) >= seconds - 1e-6 { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        func lengthText(_ unit: TrimPoint.Unit) -> String {
            switch unit {
            case .frames: return "INPUT has \(count) frames (0–\(count - 1))"
            case .seconds: return "INPUT is \(Self.secondsText(length)) long (\(count) frames)"
            case let .timecode(drop):
                let clock = sourceTimecode.map { "; timecode counts from INPUT's first frame as 00:00:00:00, not from INPUT's own start timecode \($0)" } ?? ""
                return "INPUT is \(SMPTETimecode.label(frame: count, rate: rate, dropFrame: drop)) long (\(count) frames at \(FrameRateText.format(rate)) fps)\(clock)"
            }
        }
        /// A position's frame; `end` positions may be `count` (exclusive end), start positions may not.
        func position(_ p: TrimPoint, _ option: String, isEnd: Bool) throws -> Int {
            let n: Int
            switch p {
            case let .frame(f): n = f
            case let .seconds(s): n = s > length + 1e-6 ? count + 1 : frame(atOrAfter: s)
            case let .timecode(tc): n = try tc.frameNumber(rate: rate, option: option)
            }
            if isEnd ? n > count : n >= count {
                let fix = isEnd ? "; the end is exclusive: an --end at INPUT's length keeps through the last frame" : "; give a start inside it"
                // A start in seconds inside INPUT's length but after its last frame began: say where that frame is.
                if !isEnd, case let .seconds(sec) = p, sec <= length + 1e-6 {
                    throw EncodaError(.usage, "--start \(texts[option] ?? "") is after INPUT's last frame, which starts at \(Self.secondsText(time(count - 1))) (INPUT is \(Self.secondsText(length)) long, \(count) frames); give a start at or before it")
                }
                throw EncodaError(.usage, "\(option) \(texts[option] ?? "") lies beyond INPUT's end: \(lengthText(p.unit))\(fix)")
            }
            return n
        }
        let s = try start.map { try position($0, "--start", isEnd: false) } ?? 0
        var e = count
        if let end { e = try position(end, "--end", isEnd: true) }
        if let d = duration {
            switch d {
            case let .frame(n): e = s + n
            case let .seconds(secs): e = time(s) + secs > length + 1e-6 ? count + 1 : frame(atOrAfter: time(s) + secs)
            case let .timecode(tc): e = s + (try tc.frameNumber(rate: rate, option: "--duration"))
            }
            if e > count {
                let from = start == nil ? "" : " from --start \(texts["--start"]!)"
                throw EncodaError(.usage, "--duration \(texts["--duration"]!)\(from) runs beyond INPUT's end: \(lengthText(d.unit))")
            }
            if e <= s {
                throw EncodaError(.usage, "--duration \(texts["--duration"]!) holds no frame from --start \(texts["--start"] ?? "0"); give a length of at least one frame")
            }
        }
        guard e > s else { throw EncodaError(.usage, reversed(startFrame: s, endFrame: e)) }
        return FrameRange(s, e)
    }

    /// "9.6 s", "0.04 s": up to three decimals, trailing zeros dropped.
    static func secondsText(_ v: Double) -> String {
        var s = String(format: "%.3f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s + " s"
    }
}

extension FrameIndex {
    /// The frames of `range` alone, keyframes renumbered from 0 (frame 0 of the slice counts as one): the timing of
    /// a trimmed OUTPUT, for what aligns other streams to the video (the audio's span).
    public func slice(_ range: FrameRange) -> FrameIndex {
        let keys = [0] + keyframes.filter { $0 > range.start && $0 < range.end }.map { $0 - range.start }
        return FrameIndex(pts: Array(pts[range.start..<range.end]), durations: Array(durations[range.start..<range.end]),
                          keyframes: keys, seekable: seekable,
                          packetSizes: packetSizes.map { Array($0[range.start..<range.end]) })
    }
}
