import EncodaModel
import Foundation

/// What a worker loop follows of the units published so far: `ResultView` (chunks) or `SegmentView` (analysis
/// segments).
protocol PublishedView: AnyObject {
    var published: Set<Int> { get }
    func refresh()
    func note(_ id: Int)
}

extension ResultView: PublishedView {}
extension SegmentView: PublishedView {}

/// One claim as both worker loops (`Worker` for chunks, `SegmentWorker` for segments) make it: take the lease, then
/// look up what `ClaimPolicy` asks for until it says to go ahead or to give the unit back. Only the folder the units
/// live in and the word the log lines use differ between the two.
struct ClaimSteps {
    /// "chunk" or "segment", in log lines.
    let unit: String
    /// The folder whose results/, journal/, failures/ and quarantine/ the units use.
    let directory: WorkDirectory
    let leases: LeaseBook
    let ledger: FailureLedger
    let journal: ResultJournal
    let identity: WorkerIdentity
    /// Counts one event in the worker's tally.
    let count: (WritableKeyPath<WorkerTally, Int>) -> Void
    let log: (String) -> Void

    /// Tries to claim `c`. True: it is ours to work on; false: try the next.
    func claim(_ c: Chunk, policy: ClaimPolicy, listedLeased: Bool, view: some PublishedView) throws -> Bool {
        var claim = ClaimPolicy.Claim(lease: .acquired, listedLeased: listedLeased)
        switch try leases.acquire(c.id) {
        case .acquired: break
        case .heldByOther: claim.lease = .heldByOther
        case .stolen(let prev):
            // Not a failure of the unit: its owner was killed, frozen or cut off from the share. Counting it would
            // let a few kills quarantine a healthy unit (a crash is counted by whoever saw it).
            claim.lease = .takenOver
            count(\.stolen)
            log("\(unit) \(c.name): took over the stale lease of \(prev.host) pid \(prev.pid)")
        case .clearedForOther(let prev):
            claim.lease = .heldByOther
            log("\(unit) \(c.name): cleared the stale lease of \(prev.host) pid \(prev.pid), but another worker claimed it first")
        }
        while true {
            switch policy.verdict(claim) {
            case .passOn(let lostRace):
                if lostRace { count(\.racesLost) }
                return false
            case .lookUp(.result):
                // A result may have appeared since the journals were read: the claim was made on the server, so a
                // fresh look at this one name settles it (`exists` opens results/ first).
                claim.resultExists = directory.exists(directory.result(c.id), in: directory.results)
            case .lookUp(.quarantine):
                claim.quarantined = ledger.isQuarantined(c.id)
            case .lookUp(.attempts):
                claim.attempts = ledger.count(c.id)
            case .giveBack(.published):
                // The journals are read again, so that the next candidates are not published ones; a record no
                // journal names (its worker was killed before writing the line) gets its line from here.
                leases.release(c.id)
                view.refresh()
                if !view.published.contains(c.id) { try? journal.append(c.id); view.note(c.id) }
                return false
            case .giveBack(.quarantined):
                leases.release(c.id)
                return false
            case .giveBack(.attemptsSpent):
                quarantineIfNeeded(c.id)
                leases.release(c.id)
                return false
            case .encode:
                count(\.claimed)
                return true
            }
        }
    }

    /// Quarantines unit `id` when its failures reached the limit, and says so.
    func quarantineIfNeeded(_ id: Int) {
        if let n = ledger.quarantine(id, by: identity, at: (try? leases.clock.now()) ?? Date().timeIntervalSince1970) {
            log("\(unit) \(Chunk.name(id)): quarantined after \(n) failed attempts")
        }
    }
}
