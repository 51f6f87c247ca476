import ArgumentParser
import EncodaModel
import EncodaServer
import Foundation

/// `encoda serve`'s check of a job's options before the job exists: the options are read as `encoda INPUT OUTPUT
/// TMP OPTIONS…` would read them (the profile looked up and expanded, the command line parsed, `checkOptions`),
/// so that a request the coordinator would refuse is refused with a 400 instead of becoming a failed job.
enum JobOptionCheck {
    /// The first problem, with the option it is about (`--profile` for the profile's lookup and its values, the
    /// first of the command's options the message names otherwise, `OUTPUT` for OUTPUT's container), or nil.
    static func check(_ options: [String], output: String) -> OptionProblem? {
        let words = ["INPUT", output, "TMP"] + options
        let expanded: [String]
        do { expanded = try ProfileExpansion.expand(words) } catch {
            return OptionProblem(option: "--profile", message: text(error))
        }
        let command: EncodeCommand
        do { command = try EncodeCommand.parse(expanded) } catch {
            return OptionProblem(option: firstOption(in: text(error), of: options), message: text(error))
        }
        do {
            _ = try OutputFormat.forPath(output, encoder: command.encoderOptions.encoder)
        } catch {
            return OptionProblem(option: "OUTPUT", message: text(error))
        }
        do { try command.checkOptions() } catch {
            return OptionProblem(option: firstOption(in: text(error), of: options), message: text(error))
        }
        return nil
    }

    private static func text(_ error: Error) -> String {
        let t = (error as? EncodaError)?.message ?? EncodeCommand.message(for: error)
        return t.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// The first `--name` in `message` that `options` gives (a profile's options are not the request's fault).
    private static func firstOption(in message: String, of options: [String]) -> String? {
        let given = Set(options.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "" })
        var rest = message[...]
        while let r = rest.range(of: #"--[a-z][a-z0-9-]*"#, options: .regularExpression) {
            if given.contains(String(rest[r])) { return String(rest[r]) }
            rest = rest[r.upperBound...]
        }
        return nil
    }
}
