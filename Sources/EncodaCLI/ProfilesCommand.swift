import ArgumentParser
import EncodaModel
import Foundation

/// `encoda profiles [--json]`: the profiles `--profile NAME` can use, with their options and where each is defined.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List the profiles for --profile NAME: their options and where each comes from.",
        discussion: """
        Profiles are read from encoda's built-ins, then /etc/encoda/profiles.yaml, ~/.config/encoda/profiles.yaml, \
        $ENCODA_PROFILES and --profiles FILE (those that exist); a later file adds profiles and replaces one of the \
        same name whole. Every profile is checked as the encode command checks its options.
        """)

    @Option(name: .long, help: "Also read this profiles file, last.") var profiles: String?
    @Flag(name: .long, help: "Print one JSON object: the files read and every profile with its options.") var json = false

    func run() throws {
        let catalog = try ProfileCatalog.load(explicit: profiles)
        for p in catalog.profiles { try ProfileExpansion.check(p) }
        if json {
            let object: [String: Any] = [
                "formatVersion": 1,
                "files": catalog.files,
                "profiles": catalog.profiles.map { p -> [String: Any] in
                    ["name": p.name, "description": p.description, "source": p.source, "arguments": p.arguments,
                     "options": Dictionary(uniqueKeysWithValues: p.options.map { ($0.name, Self.jsonValue($0.value)) })]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let width = catalog.profiles.map(\.name.count).max() ?? 0
        for p in catalog.profiles {
            let name = p.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(name)  \(p.description.isEmpty ? "(no description)" : p.description)")
            print(String(repeating: " ", count: width + 2) + p.options.map { o in o.value.map { "--\(o.name) \(Self.shellWord($0))" } ?? "--\(o.name)" }.joined(separator: " "))
            print(String(repeating: " ", count: width + 2) + "from " + p.source)
        }
        if catalog.files.isEmpty { print("(built-in profiles only: no profiles file found)") }
    }

    /// A flag is `true`; a whole or decimal number is a number; anything else its text.
    static func jsonValue(_ value: String?) -> Any {
        guard let value else { return true }
        if let i = Int(value) { return i }
        if let d = Double(value), d.isFinite, value.first != "." { return d }
        return value
    }

    /// Quoted when the shell would split or expand it.
    static func shellWord(_ s: String) -> String {
        let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "-_.:=,/+@%".contains($0) }
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
