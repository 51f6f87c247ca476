import Foundation

/// A numbered run of still images given as INPUT (the usual export of an NLE or a grading suite): a printf
/// pattern such as `shot_%06d.dpx`, or a folder holding one such run. Everything here is about names; the folder
/// is listed once (`resolve`), the pictures themselves are read by libav's image2 demuxer.
///
/// The numbering rule is image2's (`av_get_frame_filename`): `%d` is the number as is, `%0Nd` (or `%Nd`) the
/// number zero-padded to at least N digits, `%%` a literal percent sign. Exactly one number per name.
public struct ImageSequence: Sendable, Equatable {
    /// The picture formats accepted in a sequence, by file extension (lower case).
    public static let extensions: Set<String> = ["png", "tif", "tiff", "dpx"]

    /// A file-name pattern: prefix, number of at least `width` digits, suffix.
    public struct NamePattern: Sendable, Hashable {
        public var prefix: String
        public var width: Int
        public var suffix: String
        public init(prefix: String, width: Int, suffix: String) { self.prefix = prefix; self.width = width; self.suffix = suffix }

        /// The name of image `n`.
        public func name(_ n: Int) -> String {
            let digits = String(n)
            return prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix
        }

        /// The printf form image2 reads, with `%` in prefix and suffix escaped.
        public var printf: String {
            func esc(_ s: String) -> String { s.replacingOccurrences(of: "%", with: "%%") }
            return esc(prefix) + (width > 1 ? "%0\(width)d" : "%d") + esc(suffix)
        }

        /// The number in `name` when the name belongs to this pattern (written exactly as image2 would write it).
        public func number(of name: String) -> Int? {
            guard name.count > prefix.count + suffix.count, name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard middle.count <= 9, middle.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(middle) else { return nil }
            return self.name(n) == name ? n : nil
        }

        /// Lower-cased extension of the suffix ("png" for "_v2.png").
        public var fileExtension: String { (("x" + suffix) as NSString).pathExtension.lowercased() }
    }

    /// The absolute folder holding the images.
    public var folder: String
    public var name: NamePattern
    /// The image numbers found, ascending.
    public var numbers: [Int]

    public init(folder: String, name: NamePattern, numbers: [Int]) {
        self.folder = folder; self.name = name; self.numbers = numbers.sorted()
    }

    public var count: Int { numbers.count }
    public var first: Int { numbers.first ?? 0 }
    public var last: Int { numbers.last ?? 0 }
    /// The pattern image2 opens and the job records as INPUT: `folder/prefix%04dsuffix`.
    public var pattern: String { folder + "/" + name.printf }
    /// Every image's path, in frame order.
    public var files: [String] { numbers.map { folder + "/" + name.name($0) } }
    public func path(ofFrame n: Int) -> String { folder + "/" + name.name(numbers[n]) }

    /// Parses the last component of `path` as a printf pattern with exactly one `%d`/`%0Nd`; nil otherwise.
    public static func parsePattern(_ fileName: String) -> NamePattern? {
        var prefix = "", suffix = ""
        var width: Int? = nil
        var chars = Array(fileName)[...]
        while let c = chars.popFirst() {
            guard c == "%" else { if width == nil { prefix.append(c) } else { suffix.append(c) }; continue }
            if chars.first == "%" {
                chars.removeFirst()
                if width == nil { prefix.append("%") } else { suffix.append("%") }
                continue
            }
            var digits = ""
            while let d = chars.first, d.isASCII, d.isNumber { digits.append(d); chars.removeFirst() }
            guard chars.first == "d", width == nil, digits.count <= 2 else { return nil } // a second number, or not %d
            chars.removeFirst()
            width = max(1, Int(digits) ?? 1)
        }
        guard let width, !(prefix + suffix).contains("/") else { return nil }
        return NamePattern(prefix: prefix, width: width, suffix: suffix)
    }

    /// True when `path` names a sequence by pattern (its last component has one `%d`/`%0Nd`).
    public static func isPattern(_ path: String) -> Bool {
        parsePattern((path as NSString).lastPathComponent) != nil
    }

    /// The numbered sequences among the names of one folder: image files grouped by what surrounds their last
    /// run of digits. Each group's width is the narrowest run; a name that the group's pattern would not write
    /// (`f_01.png` beside `f_1.png`) makes its own group. Sorted by pattern.
    public static func sequences(among names: [String]) -> [(pattern: NamePattern, numbers: [Int])] {
        var groups: [String: (prefix: String, suffix: String, runs: [String])] = [:]
        for n in names where !n.hasPrefix(".") && extensions.contains((n as NSString).pathExtension.lowercased()) {
            let stem = (n as NSString).deletingPathExtension
            let chars = Array(stem)
            guard let end = chars.lastIndex(where: { $0.isASCII && $0.isNumber }) else { continue }
            var start = end
            while start > 0, chars[start - 1].isASCII, chars[start - 1].isNumber { start -= 1 }
            let prefix = String(chars[..<start])
            let run = String(chars[start...end])
            let suffix = String(chars[(end + 1)...]) + String(n.dropFirst(stem.count))
            groups[prefix + "\u{0}" + suffix, default: (prefix, suffix, [])].runs.append(run)
        }
        var found: [(NamePattern, [Int])] = []
        for (_, g) in groups {
            let width = g.runs.map(\.count).min() ?? 1
            let p = NamePattern(prefix: g.prefix, width: width, suffix: g.suffix)
            var numbers: [Int] = [], strays: [String] = []
            for r in g.runs { if let n = p.number(of: g.prefix + r + g.suffix) { numbers.append(n) } else { strays.append(r) } }
            if !numbers.isEmpty { found.append((p, numbers.sorted())) }
            // Leading zeros the narrowest run does not have: another numbering of the same name.
            let strayWidth = strays.map(\.count).min() ?? 0
            let q = NamePattern(prefix: g.prefix, width: strayWidth, suffix: g.suffix)
            let more = strays.compactMap { q.number(of: g.prefix + $0 + g.suffix) }
            if !more.isEmpty { found.append((q, more.sorted())) }
        }
        return found.sorted { $0.0.printf < $1.0.printf }
    }

    /// The gaps in the numbering as (last present, next present) pairs.
    public var gaps: [(before: Int, after: Int)] {
        zip(numbers, numbers.dropFirst()).filter { $1 != $0 + 1 }.map { ($0, $1) }
    }

    /// Throws (exit 65) when a number is missing between the first and the last image, naming the first gap.
    public func checkContiguous() throws {
        guard let g = gaps.first else { return }
        let missing = g.after - g.before - 1
        let what = missing == 1 ? "\(name.name(g.before + 1)) is missing"
            : "\(name.name(g.before + 1)) to \(name.name(g.after - 1)) (\(missing) images) are missing"
        let pad = { (n: Int) in NamePattern(prefix: "", width: name.width, suffix: "").name(n) }
        let more = gaps.count > 1 ? " (and \(gaps.count - 1) more \(gaps.count == 2 ? "gap" : "gaps"))" : ""
        throw EncodaError(.inputDamaged,
            "INPUT \(pattern): \(what): the sequence jumps from \(pad(g.before)) to \(pad(g.after))\(more); restore the missing images (or render them again) so that \(name.name(first)) to \(name.name(last)) are all there")
    }

    /// The sequence INPUT names, or nil when INPUT is not a sequence (an ordinary file). A folder must hold exactly
    /// one numbered sequence; a pattern must match at least one file. Gaps are not checked here (`checkContiguous`).
    public static func resolve(_ path: String) throws -> ImageSequence? {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists && isDir.boolValue {
            guard let names = try? fm.contentsOfDirectory(atPath: path) else {
                throw EncodaError(.inputUnreadable, "INPUT folder \(path) cannot be listed; check its permissions")
            }
            let found = sequences(among: names)
            let folder = trimmed(path)
            if found.count == 1 {
                return ImageSequence(folder: folder, name: found[0].pattern, numbers: found[0].numbers)
            }
            if found.isEmpty {
                let visible = names.filter { !$0.hasPrefix(".") }.sorted()
                let held = visible.isEmpty ? "it is empty" : "it holds \(visible.count) other \(visible.count == 1 ? "entry" : "entries") (\(visible.prefix(3).joined(separator: ", "))\(visible.count > 3 ? ", …" : ""))"
                throw EncodaError(.inputUnreadable, "INPUT folder \(path) holds no numbered PNG, TIFF or DPX images (\(held)); give a video file, a folder with one image sequence, or a pattern such as \(folder)/frame_%04d.png")
            }
            let list = found.prefix(4).map { "\($0.pattern.printf) (\($0.numbers.count) \($0.numbers.count == 1 ? "image" : "images"))" }
            throw EncodaError(.inputUnreadable, "INPUT folder \(path) holds \(found.count) image sequences: \(list.joined(separator: ", "))\(found.count > 4 ? ", …" : ""); give the one to encode as a pattern, e.g. \(folder)/\(found[0].pattern.printf)")
        }
        if exists { return nil }
        let fileName = (path as NSString).lastPathComponent
        guard let p = parsePattern(fileName) else { return nil }
        let folder = trimmed((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        guard extensions.contains(p.fileExtension) else {
            throw EncodaError(.inputUnsupported, "INPUT \(path) names .\(p.fileExtension) images; encoda reads PNG, TIFF and DPX sequences (.png, .tif, .tiff, .dpx). Convert them first, or give a video file")
        }
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw EncodaError(.inputUnreadable, "INPUT \(path): the folder \(folder) does not exist; check the path")
        }
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else {
            throw EncodaError(.inputUnreadable, "INPUT folder \(folder) cannot be listed; check its permissions")
        }
        let numbers = names.compactMap { p.number(of: $0) }
        guard !numbers.isEmpty else {
            throw EncodaError(.inputUnreadable, "INPUT \(path) matches no file in \(folder) (e.g. \(p.name(1)) or \(p.name(0)) does not exist); check the pattern's prefix and digit count")
        }
        return ImageSequence(folder: folder, name: p, numbers: numbers)
    }

    private static func trimmed(_ folder: String) -> String {
        var f = folder
        while f.count > 1 && f.hasSuffix("/") { f.removeLast() }
        return f
    }

    /// One line for a normal run: "240 frames from frame_0001.png to frame_0240.png".
    public var summary: String {
        "\(count) \(count == 1 ? "frame" : "frames") from \(name.name(first)) to \(name.name(last))"
    }
}

/// A frame rate as a user writes it: `24`, `25`, `23.976` (read as 24000/1001), `29.97`, `24000/1001`.
public enum FrameRateText {
    public static func parse(_ text: String) -> Rational? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let slash = t.firstIndex(of: "/") {
            guard let n = Int(t[..<slash]), let d = Int(t[t.index(after: slash)...]), n > 0, d > 0, n <= 1_000_000, d <= 1_000_000 else { return nil }
            return reduced(n, d)
        }
        guard let v = Double(t), v.isFinite, v > 0, v <= 1000 else { return nil }
        // The NTSC family, written the way people write it.
        for base in [24, 30, 48, 60, 120] where abs(v - Double(base) * 1000 / 1001) < 0.006 { return Rational(base * 1000, 1001) }
        let scaled = (v * 1000).rounded()
        guard abs(scaled - v * 1000) < 1e-6 else { return nil }
        return reduced(Int(scaled), 1000)
    }

    /// "24", "23.976", "12.5".
    public static func format(_ r: Rational) -> String {
        if r.den == 1 { return "\(r.num)" }
        var s = String(format: "%.3f", r.doubleValue)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    private static func reduced(_ n: Int, _ d: Int) -> Rational {
        var a = n, b = d
        while b != 0 { (a, b) = (b, a % b) }
        return Rational(n / a, d / a)
    }
}
