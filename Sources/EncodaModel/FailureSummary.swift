import Foundation

/// Chunk failures told in one line: chunks that failed with the same error are counted together, not repeated.
public enum FailureSummary {
    /// Pure. `failures` maps chunk ids to their error text. Returns e.g.
    /// "14 chunks (00000-00013) failed: <error>", with any other errors counted after the first one
    /// ("; 2 more chunks (00020, 00022) failed with 2 other errors, the first: <error>").
    /// A chunk's own name in its error ("chunk 00003 produced …") is written "the chunk", so that the same
    /// failure of different chunks reads as one. The error shown first is the one of the lowest chunk id.
    public static func line(_ failures: [Int: String], maxErrorLength: Int = 400) -> String {
        guard !failures.isEmpty else { return "no chunk failed" }
        var groups: [(error: String, ids: [Int])] = []
        for id in failures.keys.sorted() {
            let text = generalised(failures[id]!, chunk: id)
            if let g = groups.firstIndex(where: { $0.error == text }) { groups[g].ids.append(id) } else { groups.append((text, [id])) }
        }
        let first = groups[0]
        var s = "\(count(first.ids.count)) (\(idList(first.ids))) failed: \(shorten(first.error, maxErrorLength))"
        if groups.count > 1 {
            let rest = groups.dropFirst()
            let ids = rest.flatMap(\.ids).sorted()
            let kinds = rest.count == 1 ? "another error" : "\(rest.count) other errors, the first"
            s += "; \(ids.count) more \(ids.count == 1 ? "chunk" : "chunks") (\(idList(ids))) failed with \(kinds): \(shorten(rest.first!.error, maxErrorLength / 2))"
        }
        return s
    }

    /// Chunk ids as compact runs, e.g. "00000-00003, 00007, 00009-00010"; after `maxRuns` runs, "… (N in all)".
    public static func idList(_ ids: [Int], maxRuns: Int = 6) -> String {
        let sorted = Array(Set(ids)).sorted()
        var runs: [(Int, Int)] = []
        for id in sorted {
            if let last = runs.last, last.1 + 1 == id { runs[runs.count - 1].1 = id } else { runs.append((id, id)) }
        }
        let text = runs.prefix(maxRuns).map { $0.0 == $0.1 ? Chunk.name($0.0) : "\(Chunk.name($0.0))-\(Chunk.name($0.1))" }
        return text.joined(separator: ", ") + (runs.count > maxRuns ? ", … (\(sorted.count) in all)" : "")
    }

    private static func count(_ n: Int) -> String { n == 1 ? "1 chunk" : "\(n) chunks" }

    private static func generalised(_ error: String, chunk: Int) -> String {
        error.replacingOccurrences(of: "chunk \(Chunk.name(chunk))", with: "the chunk")
    }

    private static func shorten(_ s: String, _ limit: Int) -> String {
        let oneLine = s.split(whereSeparator: \.isNewline).joined(separator: " ")
        return oneLine.count <= limit ? oneLine : String(oneLine.prefix(limit)) + "…"
    }
}
