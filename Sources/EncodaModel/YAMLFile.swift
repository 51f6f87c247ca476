import Foundation
import Yams

/// Reads the small YAML files encoda takes (profiles, worker overrides) as Yams nodes, and words their problems
/// as one line that starts with `FILE:LINE:`, as compilers do, so an editor can jump to it.
public struct YAMLFile {
    /// The file's path as the user named it (or `built-in`).
    public let file: String
    public let root: Node?

    /// Parses `text`; a syntax error is a usage error naming the file and the line.
    public init(text: String, file: String) throws {
        self.file = file
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw EncodaError(.usage, Self.describe(e, file: file))
        }
    }

    /// Reads and parses the file at `path`; a missing or unreadable file is a usage error naming `what` it is.
    public static func read(_ path: String, what: String) throws -> YAMLFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EncodaError(.usage, "\(what) \(path) cannot be read; check the path and its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EncodaError(.usage, "\(what) \(path) is not UTF-8 text")
        }
        return try YAMLFile(text: text, file: path)
    }

    /// `FILE:LINE: ` for a node (`FILE: ` when Yams gives no position).
    public func place(_ node: Node?) -> String {
        guard let m = node?.mark else { return "\(file): " }
        return "\(file):\(m.line): "
    }

    /// A usage error at `node`: `FILE:LINE: message`.
    public func error(_ node: Node?, _ message: String) -> EncodaError {
        EncodaError(.usage, place(node) + message)
    }

    /// The entries of a mapping node with their keys as text, in file order; an error for anything else.
    public func mapping(_ node: Node?, what: String) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard let node, case .mapping(let m) = node else { throw error(node, "\(what) must be a mapping of `key: value` lines") }
        return try m.map { k, v in
            guard case .scalar(let s) = k else { throw error(k, "\(what): a key must be plain text") }
            return (s.string, k, v)
        }
    }

    private static func describe(_ e: YamlError, file: String) -> String {
        let fix = "; fix the YAML (indent with spaces, `key: value`, quote values that hold `:` or `#`)"
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(file):\(mark.line): YAML syntax error at column \(mark.column): \(problem)\(fix)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "\(file):\(context.mark.line): `\(duplicates.sorted().joined(separator: "`, `"))` is given twice in one mapping; keep one"
        case .reader(let problem, _, _, _):
            return "\(file): not readable as YAML text: \(problem)"
        default:
            return "\(file): YAML error: \(e)".replacingOccurrences(of: "\n", with: " ")
        }
    }
}
