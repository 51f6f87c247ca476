/// A named set of the encode command's long options (`encoder: h264`, `crf: 20`, `mux: true`), with a
/// description and where it was defined. `encoda INPUT OUTPUT TMP --profile NAME` starts from it; options given
/// on the command line win.
public struct Profile: Sendable, Hashable, Codable {
    /// One option as the command line spells it: `name` without dashes; `value` nil for a flag that is on.
    public struct Option: Sendable, Hashable, Codable {
        public var name: String
        public var value: String?
        public init(name: String, value: String?) { self.name = name; self.value = value }
    }

    public var name: String
    public var description: String
    /// In the order the file lists them.
    public var options: [Option]
    /// `built-in`, or the file that defined it.
    public var source: String

    public init(name: String, description: String, options: [Option], source: String) {
        self.name = name; self.description = description; self.options = options; self.source = source
    }

    public func value(_ name: String) -> String? { options.first { $0.name == name }?.value }
    public func sets(_ name: String) -> Bool { options.contains { $0.name == name } }

    /// The options as command-line arguments (`--crf=20`, `--mux`); `=` keeps a value that begins with a dash
    /// (`--encoder-params=--film-grain 8`) a value.
    public var arguments: [String] { options.map { o in o.value.map { "--\(o.name)=\($0)" } ?? "--\(o.name)" } }

    /// The encoder the profile encodes with (the command's default when it names none).
    public var encoder: String { value("encoder") ?? EncoderKind.av1.rawValue }

    /// The profile's arguments to add to a command line that gives `given` options itself (names without dashes;
    /// `givenEncoder` the value of its --encoder): an option given wins, so the profile's is left out, and so is
    /// one the given option excludes (`--crf` drops the profile's `lossless`). Choosing another encoder than the
    /// profile's also drops the profile's encoder-specific options (preset, crf, lossless, encoder-params).
    public func arguments(under given: Set<String>, givenEncoder: String?) -> [String] {
        let otherEncoder = givenEncoder.map { $0 != encoder } ?? false
        let kept = options.filter { o in
            if given.contains(o.name) { return false }
            if given.contains(where: { EncodeOptionTable.excludedBy[$0]?.contains(o.name) ?? false }) { return false }
            if otherEncoder && EncodeOptionTable.encoderSpecific.contains(o.name) { return false }
            return true
        }
        return Profile(name: name, description: description, options: kept, source: source).arguments
    }

    /// Letters, digits, `-`, `_` and `.`: a name that is safe in a file name, a URL and a shell.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.first != "." && name.first != "-"
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}
