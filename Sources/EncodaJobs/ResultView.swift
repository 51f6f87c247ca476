import EncodaModel
import EncodaSystem
import Foundation

/// The results of a job as one process follows them while it runs: one listing of `results/` first (which also
/// covers a job made before journals, or records whose journal line is missing), then only the lines the
/// workers' journals gained since (`ResultJournal`). What a poll or a claim costs so stays the same however many
/// chunks are done; a record, immutable once published, is read at most once.
///
/// - `readsRecords` (the coordinator): every newly published record is read and checked against the plan once
///   (`done`); one that does not check out is moved aside, as `JobState.scan` does.
/// - Without it (a worker): the journal's word is taken, which only keeps the worker from claiming a published
///   chunk; the worker checks its claimed chunk's name itself before encoding it.
///
/// A full listing is made again when the journals brought nothing for `quietSeconds` (a record whose line is
/// missing is found that way) and on `relist()`.
///
/// Not Sendable: it is one thread's view (a worker's loop, the coordinator's polls).
public final class ResultView {
    public let directory: WorkDirectory
    /// The plan this view follows; a plan that streams grows through `grow`.
    public private(set) var manifest: JobManifest
    public let readsRecords: Bool
    public var quietSeconds: Double = 10
    private var journal: ResultJournal.Reader
    /// Chunks with a result name seen (listed, or named by a journal).
    public private(set) var published: Set<Int> = []
    /// Records read and checked (with `readsRecords` every published one; else those the listings read).
    public private(set) var done: [Int: ChunkResult] = [:]
    /// With `readsRecords`: named by a journal, not read yet.
    private var unread: Set<Int> = []
    private var lastNews: Date? = nil
    /// Named by a journal but past the chunks of the plan this view holds yet (a plan that streams: another
    /// process read more of it); taken in once the plan reaches them.
    private var ahead: Set<Int> = []

    public init(directory: WorkDirectory, manifest: JobManifest, readsRecords: Bool) {
        self.directory = directory; self.manifest = manifest; self.readsRecords = readsRecords
        journal = ResultJournal.Reader(directory: directory)
    }

    /// Lists `results/` (checking records not read before, moving aside those that do not check out).
    public func relist() {
        let s = JobState.scan(directory, manifest: manifest, known: done, resultsOnly: true)
        published = s.published
        done = s.done // a worker's too: the next listing reads no record twice
        unread.subtract(s.done.keys)
        ahead = ahead.filter { $0 >= manifest.chunks.count }
        lastNews = Date()
    }

    /// Takes in what the journals gained since the last call (a full listing on the first call, or after
    /// `quietSeconds` without news).
    public func refresh() {
        guard let last = lastNews, Date().timeIntervalSince(last) < quietSeconds else {
            // What the listing covers, but for chunks past the plan this view holds yet.
            ahead.formUnion(journal.news().filter { $0 >= manifest.chunks.count })
            relist()
            return
        }
        let count = manifest.chunks.count
        let news = journal.news().filter { $0 >= 0 } + ahead.filter { $0 < count }
        ahead = ahead.union(news.filter { $0 >= count }).filter { $0 >= count }
        let fresh = news.filter { $0 < count && (readsRecords ? done[$0] == nil : !published.contains($0)) }
        if !fresh.isEmpty { lastNews = Date() }
        guard readsRecords else { published.formUnion(fresh); return }
        unread.formUnion(fresh)
        published.formUnion(fresh)
        guard !unread.isEmpty else { return }
        // Open results/ once, so that the names the journals gave are looked up fresh (see `WorkDirectory.exists`).
        if let fd = try? FileSystem.open(directory.results, O_RDONLY | O_DIRECTORY | O_CLOEXEC) { FileSystem.close(fd) }
        for id in unread.sorted() {
            switch JobState.check(directory, manifest: manifest, id: id, readOnly: false) {
            case .done(let r): done[id] = r; published.insert(id); unread.remove(id)
            case .invalid: published.remove(id); unread.remove(id)
            case .unreadable: break // named but not readable yet: next time
            }
        }
    }

    /// Follows `manifest`, the same job's plan with more chunks (a plan that streams); the chunks the journals
    /// named before it reached them are taken in at the next `refresh`.
    public func grow(_ manifest: JobManifest) {
        precondition(manifest.jobID == self.manifest.jobID && manifest.chunks.count >= self.manifest.chunks.count)
        self.manifest = manifest
    }

    /// Marks chunk `id` as published (its name was just seen by this process).
    public func note(_ id: Int) { published.insert(id) }

    /// Forgets chunk `id` (its record was moved aside: the chunk is encoded again).
    public func forget(_ id: Int) { published.remove(id); done[id] = nil; unread.remove(id) }
}
