import Foundation
import Yams

/// The profiles a command can use: encoda's built-in ones, then those of each profiles file found, a later
/// file adding profiles and replacing a profile of the same name whole (its options are not merged with the
/// replaced one's). Files, lowest first: `/etc/encoda/profiles.yaml`, `~/.config/encoda/profiles.yaml`,
/// `$ENCODA_PROFILES`, `--profiles FILE`. The two default places may be absent; a file named by the variable or
/// the option must exist.
public struct ProfileCatalog: Sendable {
    /// Built-ins first (in their order, replaced in place), then the files' new profiles in file order.
    public private(set) var profiles: [Profile]
    /// The files read, lowest first.
    public private(set) var files: [String]

    public init(profiles: [Profile], files: [String] = []) { self.profiles = profiles; self.files = files }

    /// The file layout, in the order a profile in a later file replaces one in an earlier file.
    public static func searchPath(explicit: String?, environment: [String: String]) -> [(path: String, required: Bool)] {
        var list: [(String, Bool)] = [("/etc/encoda/profiles.yaml", false)]
        if let home = environment["HOME"], !home.isEmpty { list.append((home + "/.config/encoda/profiles.yaml", false)) }
        if let env = environment["ENCODA_PROFILES"], !env.isEmpty { list.append((env, true)) }
        if let explicit { list.append((explicit, true)) }
        return list
    }

    /// Built-ins plus every file of `searchPath` that exists (or must).
    public static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProfileCatalog {
        var catalog = builtIn
        for (path, required) in searchPath(explicit: explicit, environment: environment) {
            if !required && !FileManager.default.fileExists(atPath: path) { continue }
            catalog.add(try parse(YAMLFile.read(path, what: "profiles file")), file: path)
        }
        return catalog
    }

    public mutating func add(_ more: [Profile], file: String) {
        for p in more {
            if let i = profiles.firstIndex(where: { $0.name == p.name }) { profiles[i] = p } else { profiles.append(p) }
        }
        files.append(file)
    }

    /// The profile called `name`; a usage error listing the names there are.
    public func profile(named name: String) throws -> Profile {
        if let p = profiles.first(where: { $0.name == name }) { return p }
        let read = files.isEmpty ? "built-in profiles only; no profiles file found" : "profiles from built-ins and \(files.joined(separator: ", "))"
        throw EncodaError(.usage, "--profile \(name): no such profile (\(read)); known: \(profiles.map(\.name).joined(separator: ", ")). `encoda profiles` lists them")
    }

    /// Parses a profiles file:
    ///
    ///     profiles:
    ///       edit-proxy:
    ///         description: H.264 720p edit proxy
    ///         encoder: h264
    ///         scale: 720
    ///
    /// Keys are the encode command's long options without dashes; a flag takes `true` or `false`. Anything else —
    /// an unknown key, an option that belongs to one run (`restart`, `start`), a list where one value belongs — is a
    /// usage error naming the file, line, profile and key.
    public static func parse(_ yaml: YAMLFile) throws -> [Profile] {
        guard let root = yaml.root else { return [] } // an empty file defines nothing
        var found: [Profile] = []
        for top in try yaml.mapping(root, what: "a profiles file") {
            guard top.key == "profiles" else {
                throw yaml.error(top.keyNode, "unknown key `\(top.key)`; a profiles file holds one mapping, `profiles:`, of profile names to options")
            }
            if top.value.null != nil { continue } // `profiles:` with none yet
            for entry in try yaml.mapping(top.value, what: "`profiles:`") {
                guard Profile.isValidName(entry.key) else {
                    throw yaml.error(entry.keyNode, "profile name `\(entry.key)`: use letters, digits, `-`, `_` and `.` (not first), at most 64")
                }
                found.append(try profile(entry.key, entry.value, in: yaml))
            }
        }
        return found
    }

    private static func profile(_ name: String, _ node: Node, in yaml: YAMLFile) throws -> Profile {
        var description = ""
        var options: [Profile.Option] = []
        for (key, keyNode, value) in try yaml.mapping(node, what: "profile \(name)") {
            let at = "profile \(name): "
            if key == "description" {
                guard case .scalar(let s) = value else { throw yaml.error(value, at + "`description` must be one line of text") }
                description = s.string
                continue
            }
            guard let entry = EncodeOptionTable.entry(key) else {
                let known = EncodeOptionTable.entries.filter(\.inProfiles).map(\.name).joined(separator: ", ")
                throw yaml.error(keyNode, at + "unknown option `\(key)`; a profile takes `description` and the encode command's long options without dashes: \(known)")
            }
            guard entry.inProfiles else {
                throw yaml.error(keyNode, at + "`\(key)` belongs to one run or one INPUT, not to a profile; give --\(key) on the command line")
            }
            guard case .scalar(let s) = value, value.null == nil else {
                throw yaml.error(value, at + "`\(key)` needs one value, e.g. `\(key): \(entry.takesValue ? "…" : "true")`")
            }
            if entry.takesValue {
                guard !s.string.isEmpty || key == "encoder-params" || key == "audio-params" else {
                    throw yaml.error(value, at + "`\(key)` needs a value")
                }
                options.append(.init(name: key, value: s.string))
            } else {
                guard let on = value.bool else {
                    throw yaml.error(value, at + "`\(key)` is a flag; write `\(key): true` or `\(key): false`")
                }
                if on { options.append(.init(name: key, value: nil)) }
            }
        }
        return Profile(name: name, description: description, options: options, source: yaml.file)
    }

    /// encoda's own profiles (also shipped as `profiles/profiles.yaml`, the example to copy and change).
    public static let builtIn: ProfileCatalog = {
        // The text is fixed and checked by the tests; a failure here is a programming error.
        let parsed = try! parse(YAMLFile(text: builtInYAML, file: "built-in"))
        return ProfileCatalog(profiles: parsed)
    }()

    public static let builtInYAML = """
    # encoda profiles: `encoda INPUT OUTPUT TMP --profile NAME`. Keys are the encode command's long options
    # without dashes (flags take true or false); options given on the command line win over the profile's.
    profiles:
      edit-proxy:
        description: H.264 720p edit proxy, 8-bit 4:2:0, quick to encode and light to play
        encoder: h264
        preset: veryfast
        crf: 23
        scale: 720
        pix-fmt: yuv420p
      review:
        description: H.264 1080p for review, 8-bit 4:2:0, with INPUT's audio as AAC
        encoder: h264
        preset: slow
        crf: 20
        scale: 1080
        pix-fmt: yuv420p
        mux: true
        audio-codec: aac
      archive-av1:
        description: 10-bit AV1 archive at high quality, keeping INPUT's audio, subtitles and chapters
        encoder: av1
        preset: 4
        crf: 20
        pix-fmt: yuv420p10le
        mux: true
      master-lossless:
        description: mathematically lossless H.264 in INPUT's own chroma and bit depth, with everything INPUT carries
        encoder: h264
        lossless: true
        mux: true

    """
}
