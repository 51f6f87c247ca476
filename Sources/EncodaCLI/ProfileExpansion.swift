import ArgumentParser
import EncodaModel
import Foundation
import Synchronization

/// `--profile NAME` and `--profiles FILE` of `encoda INPUT OUTPUT TMP`.
struct ProfileOptions: ParsableArguments {
    @Option(name: .long, help: "Start from this profile's options (`encoda profiles` lists them); options given on the command line win. Choosing another --encoder than the profile's also drops its preset, crf, lossless and encoder-params.")
    var profile: String?
    @Option(name: .long, help: "A profiles file read after /etc/encoda/profiles.yaml, ~/.config/encoda/profiles.yaml and $ENCODA_PROFILES; its profiles add to and replace (by name) those.")
    var profiles: String?

    func validate() throws {
        if profiles != nil && profile == nil { throw ValidationError("--profiles FILE names where profiles come from; add --profile NAME") }
        if let p = profile, !Profile.isValidName(p) { throw ValidationError("--profile \(p) is not a profile name (letters, digits, -, _ and .)") }
    }

    /// Says which options the profile gave (one line). `--profile` reaches the command only through
    /// `ProfileExpansion.expand`; a command parsed without it would silently ignore the profile, so that is refused.
    func announce(quiet: Bool) throws {
        guard let name = profile else { return }
        guard let applied = ProfileExpansion.applied, applied.profile.name == name else {
            throw EncodaError(.internalError, "--profile \(name) was not expanded; parse the command line through ProfileExpansion.expand")
        }
        if quiet { return }
        let from = applied.profile.source == "built-in" ? "built-in" : "from \(applied.profile.source)"
        let added = applied.arguments.isEmpty ? "every option given on the command line" : applied.arguments.joined(separator: " ")
        Diagnostics.note("profile \(name) (\(from)): \(added)")
    }

    /// The profile that gave `--scale` (not the command line), whose scale is then a ceiling (see
    /// `JobSetup.picture(settings:request:cache:quiet:)`); nil when the command line gave it or no profile did.
    func scaleSource(scale: Int?) -> String? {
        guard let scale, let applied = ProfileExpansion.applied, profile == applied.profile.name,
              applied.arguments.contains("--scale=\(scale)") else { return nil }
        return applied.profile.name
    }
}

/// Turns `--profile NAME` on an encode command line into the profile's options, before the command is parsed:
/// the profile's options are added for every option the command line does not give itself (see
/// `Profile.arguments(under:givenEncoder:)`), and `--profile NAME` stays, so the job records it. The command
/// line is read, not the parsed command, because only the words tell an option given from a default.
enum ProfileExpansion {
    struct Applied: Sendable {
        var profile: Profile
        var arguments: [String]
    }
    private static let last = Mutex<Applied?>(nil)
    /// The profile the last expansion applied and the arguments it added.
    static var applied: Applied? { last.withLock { $0 } }

    /// `args` without the program name. Other subcommands than `encode`, and an encode without --profile, pass unchanged.
    static func expand(_ args: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        var head: [String] = []
        var rest = args[...]
        if let first = rest.first, !first.hasPrefix("-") {
            let others = EncodaCommand.configuration.subcommands.map { $0.configuration.commandName ?? "" }.filter { $0 != "encode" }
            if others.contains(first) || first == "help" { return args }
            if first == "encode" { head = [first]; rest = rest.dropFirst() }
        }
        let words = scan(Array(rest))
        guard let name = words.values["profile"] else { return args }
        let catalog = try ProfileCatalog.load(explicit: words.values["profiles"], environment: environment)
        let profile = try catalog.profile(named: name)
        try check(profile)
        let added = profile.arguments(under: words.given, givenEncoder: words.values["encoder"])
        last.withLock { $0 = Applied(profile: profile, arguments: added) }
        let words_ = Array(rest)
        let cut = words.terminator ?? words_.count
        return head + words_[..<cut] + added + words_[cut...]
    }

    /// The long options a command line gives (names without dashes), the last value of each, and where a `--`
    /// ends the options.
    static func scan(_ words: [String]) -> (given: Set<String>, values: [String: String], terminator: Int?) {
        var given = Set<String>(), values: [String: String] = [:]
        var i = 0
        while i < words.count {
            let w = words[i]
            if w == "--" { return (given, values, i) }
            if w.hasPrefix("--") {
                let body = w.dropFirst(2)
                let name = String(body.split(separator: "=", maxSplits: 1).first ?? "")
                given.insert(name)
                if let eq = body.firstIndex(of: "=") {
                    values[name] = String(body[body.index(after: eq)...])
                } else if EncodeOptionTable.entry(name)?.takesValue == true, i + 1 < words.count {
                    values[name] = words[i + 1]
                    i += 1
                }
            } else if w == "-y" {
                given.insert("overwrite")
            }
            i += 1
        }
        return (given, values, nil)
    }

    /// The profile's values checked as the encode command checks its options, so a bad value is named with its
    /// profile and file before any work ("profile edit-proxy (FILE): --crf 99 is out of range for h264; …").
    static func check(_ profile: Profile) throws {
        let at = "profile \(profile.name) (\(profile.source == "built-in" ? "built-in" : profile.source))"
        do {
            let c = try EncodeCommand.parse(["INPUT", "OUTPUT.mkv", "TMP"] + profile.arguments)
            _ = try c.encoderOptions.settings(source: PixelFormat.yuv420p.layout)
            try c.pictureOptions.check()
            _ = try c.muxOptions.settings()
            _ = try c.sceneOptions.settings()
            _ = try c.farmOptions.settings()
            if let w = c.workers, w < 0 || w > 1024 { throw EncodaError(.usage, "--workers must be between 0 and 1024") }
            if let t = c.threads, t < 1 || t > 256 { throw EncodaError(.usage, "--threads must be between 1 and 256") }
        } catch let e as EncodaError {
            throw EncodaError(.usage, "\(at): \(e.message)")
        } catch {
            let text = EncodeCommand.message(for: error).replacingOccurrences(of: "\n", with: " ")
            throw EncodaError(.usage, "\(at): \(text)")
        }
    }
}
