import EncodaModel
import EncodaSystem
import Foundation

/// The segments published so far, as one worker follows them: one listing of TMP/analysis/results first, then only
/// the lines the workers' journals (TMP/analysis/journal, `ResultJournal`) gained since, so that a claim costs the
/// same at the first segment and the last. A full listing is made again when the journals brought nothing for
/// `quietSeconds` (a record whose line is missing is found that way) and on `relist()`. The journal is a hint: a
/// claimed segment's record is looked up by name before it is analysed.
///
/// Not Sendable: it is one thread's view (a worker's loop).
public final class SegmentView {
    public let analysis: WorkDirectory
    public let segments: Int
    public var quietSeconds: Double = 10
    private var journal: ResultJournal.Reader
    public private(set) var published: Set<Int> = []
    private var lastNews: Date? = nil

    /// `analysis`: TMP/analysis (`WorkDirectory.analysis`).
    public init(analysis: WorkDirectory, segments: Int) {
        self.analysis = analysis; self.segments = segments
        journal = ResultJournal.Reader(directory: analysis)
    }

    /// Lists the records afresh.
    public func relist() {
        published = analysis.chunkIDs(in: analysis.results, suffix: ".json").filter { $0 < segments }
        lastNews = Date()
    }

    /// Takes in what the journals gained since the last call (a full listing on the first call, or after
    /// `quietSeconds` without news).
    public func refresh() {
        guard let last = lastNews, Date().timeIntervalSince(last) < quietSeconds else {
            _ = journal.news() // what the listing covers
            relist()
            return
        }
        let fresh = journal.news().filter { $0 >= 0 && $0 < segments && !published.contains($0) }
        if !fresh.isEmpty { lastNews = Date(); published.formUnion(fresh) }
    }

    /// Marks segment `id` as published (its record was just seen by this process).
    public func note(_ id: Int) { published.insert(id) }
}
