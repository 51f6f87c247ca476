import Foundation
import Yams

/// A worker machine's own settings per profile, from a YAML file on that machine:
///
///     overrides:
///       - match: "*"            # every job, also one made without --profile
///         threads: 4
///       - match: "archive-*"    # fnmatch pattern on the job's profile name
///         threads: 2
///         nice: 10
///         workers: 1
///       - match: "master-*"
///         serve: false
///
/// Entries are matched in file order and for each setting the last matching entry that sets it wins. Only what
/// stays on this machine can be set: encoder `threads`, how many worker processes take the profile's jobs
/// (`workers`), the `nice` level, and whether this machine serves the profile at all (`serve`). Settings that
/// change the encoded bits (crf, preset, encoder, pix-fmt, scale, …) must be the same for every chunk of a job,
/// so they are refused when the file is read.
public struct WorkerOverrides: Sendable {
    public struct Entry: Sendable, Hashable {
        /// 1-based position in the file, for messages.
        public var number: Int
        public var pattern: String
        public var threads: Int?
        public var workers: Int?
        public var nice: Int?
        public var serve: Bool?
    }

    /// What applies to one job on this machine; nil fields: not overridden.
    public struct Resolved: Sendable, Hashable {
        public var threads: Int?
        public var workers: Int?
        public var nice: Int?
        public var serve = true
        /// The matching entries, by number.
        public var entries: [Int] = []
        public init() {}
    }

    /// The file read (nil: no overrides).
    public var file: String?
    public var entries: [Entry]

    public init(file: String? = nil, entries: [Entry] = []) { self.file = file; self.entries = entries }

    /// The settings for a job of profile `profile` (nil: a job made without --profile, which only `*` matches).
    public func resolve(profile: String?) -> Resolved {
        var r = Resolved()
        for e in entries where Self.matches(e.pattern, profile ?? "") {
            r.entries.append(e.number)
            if let v = e.threads { r.threads = v }
            if let v = e.workers { r.workers = v }
            if let v = e.nice { r.nice = v }
            if let v = e.serve { r.serve = v }
        }
        return r
    }

    /// fnmatch(3) without flags: `*`, `?` and `[…]`.
    public static func matches(_ pattern: String, _ name: String) -> Bool { fnmatch(pattern, name, 0) == 0 }

    /// The file `--overrides FILE`, else `$ENCODA_WORKER_OVERRIDES`, else `/etc/encoda/worker.yaml` if it exists;
    /// only the first of them is read. No file: no overrides.
    public static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerOverrides {
        if let path = explicit ?? environment["ENCODA_WORKER_OVERRIDES"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try parse(YAMLFile.read(path, what: "worker overrides file"))
        }
        let system = "/etc/encoda/worker.yaml"
        guard FileManager.default.fileExists(atPath: system) else { return WorkerOverrides() }
        return try parse(YAMLFile.read(system, what: "worker overrides file"))
    }

    /// Why a key of the encode command cannot be overridden on one worker.
    private static func refusal(_ key: String) -> String? {
        switch key {
        case "lease-seconds", "max-attempts":
            return "is recorded in the job's plan so that every worker of the job agrees on it; set it in the profile or on the encode command line"
        case "mux", "no-audio", "audio-codec", "audio-bitrate", "audio-params", "cut-audio-to-video",
             "scene-threshold", "min-scene-length", "max-scene-length":
            return "is decided by the coordinator when it plans the job, not by a worker; set it in the profile"
        default:
            guard EncodeOptionTable.entry(key) != nil else { return nil }
            return "changes the encoded bits, and every chunk of a job must be encoded with the same settings; set it in the profile instead (a worker may override only threads, workers, nice and serve)"
        }
    }

    public static func parse(_ yaml: YAMLFile) throws -> WorkerOverrides {
        var result = WorkerOverrides(file: yaml.file)
        guard let root = yaml.root else { return result }
        for top in try yaml.mapping(root, what: "a worker overrides file") {
            guard top.key == "overrides" else {
                throw yaml.error(top.keyNode, "unknown key `\(top.key)`; a worker overrides file holds one list, `overrides:`, of entries with `match:`")
            }
            if top.value.null != nil { continue }
            guard case .sequence(let list) = top.value else {
                throw yaml.error(top.value, "`overrides:` must be a list of entries, each starting with `- match: PATTERN`")
            }
            for (i, node) in list.enumerated() {
                result.entries.append(try entry(number: i + 1, node, in: yaml))
            }
        }
        return result
    }

    private static func entry(number: Int, _ node: Node, in yaml: YAMLFile) throws -> Entry {
        var e = Entry(number: number, pattern: "")
        let fields = try yaml.mapping(node, what: "entry \(number)")
        let label = "entry \(number)" + (fields.first { $0.key == "match" }.flatMap { $0.value.string }.map { " (match \($0))" } ?? "")
        func int(_ v: Node, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let n = v.int, range.contains(n) else {
                throw yaml.error(v, "\(label): `\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        for (key, keyNode, value) in fields {
            switch key {
            case "match":
                guard case .scalar(let s) = value, !s.string.isEmpty else {
                    throw yaml.error(value, "\(label): `match` takes one profile name or pattern, e.g. \"archive-*\" or \"*\"")
                }
                e.pattern = s.string
            case "threads": e.threads = try int(value, key, 1...256)
            case "workers": e.workers = try int(value, key, 1...1024)
            case "nice": e.nice = try int(value, key, -20...19)
            case "serve":
                guard let b = value.bool else { throw yaml.error(value, "\(label): `serve` is true or false") }
                e.serve = b
            default:
                if let why = refusal(key) { throw yaml.error(keyNode, "\(label): `\(key)` cannot be overridden on a worker: it \(why)") }
                throw yaml.error(keyNode, "\(label): unknown key `\(key)`; an entry takes match, threads, workers, nice and serve")
            }
        }
        guard !e.pattern.isEmpty else { throw yaml.error(node, "\(label): no `match:`; give the profile name or pattern it applies to") }
        return e
    }
}
