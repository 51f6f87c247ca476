import EncodaModel

/// A worker's choices without its I/O, so that they can be table-tested: which chunks to try to claim, in what
/// order, and what to do with a claim once the lease is won.
///
/// The worker looks at TMP (`JobState`), asks `next` for the candidates, and tries their leases in that order
/// (`LeaseBook.acquire` is the only judge of a lease's staleness: only it reads the server's clock). For each lease
/// won it asks `verdict` which fact to look up next, and looks it up, until the verdict is to encode or to give the
/// lease back. Facts are looked up one at a time, cheapest and most decisive first, so a claim costs as few
/// lookups on the share as the old loop made.
public struct ClaimPolicy: Sendable, Equatable {
    /// The chunks in the order the plan wants them done (`ChunkPlanner.workOrder`).
    public var order: [Chunk]
    /// Relative encode cost of each chunk by id (nil: its frame count).
    public var costs: [Double]?
    /// This worker's place among workers choosing at the same moment (its process id).
    public var seat: Int
    /// Failed attempts (`FailureLedger`) after which a chunk is quarantined instead of encoded again.
    public var maxAttempts: Int

    public init(order: [Chunk], costs: [Double]?, seat: Int, maxAttempts: Int) {
        self.order = order; self.costs = costs; self.seat = seat; self.maxAttempts = maxAttempts
    }

    /// What one look at TMP showed the worker.
    public struct Look: Sendable, Equatable {
        /// Chunks with a result record listed or named by a journal.
        public var published: Set<Int> = []
        public var quarantined: Set<Int> = []
        /// Chunks with a lease file, fresh or stale (telling them apart takes the server's clock).
        public var leased: Set<Int> = []
        /// Chunks that failed in this worker during this run.
        public var failedHere: Set<Int> = []
        /// The first frame of the chunk the encoder could start without seeking (`ChunkEncoding.cheapStart`).
        public var cheapStart: Int? = nil
        public init(published: Set<Int> = [], quarantined: Set<Int> = [], leased: Set<Int> = [], failedHere: Set<Int> = [],
                    cheapStart: Int? = nil) {
            self.published = published; self.quarantined = quarantined; self.leased = leased; self.failedHere = failedHere
            self.cheapStart = cheapStart
        }
    }

    public enum Next: Sendable, Equatable {
        /// Every chunk is published or quarantined: the worker leaves.
        case finished
        /// Nothing is open, but the look came from journals: list results/ afresh and look again before leaving
        /// (a record moved aside since, because it did not check out, makes its chunk open again).
        case lookAgainFresh
        /// Try these chunks' leases in this order.
        case tryClaims([Chunk])
    }

    /// The chunks worth trying, best first: unclaimed chunks, then claimed ones (their leases may be stale), then
    /// the chunks that already failed here (so another worker gets to retry them first). Among the unclaimed, the
    /// one the encoder can start cheaply (`followOn`), else one spread by `seat`, goes first. `confirmed` says
    /// the look already came from a fresh listing of results/.
    public func next(_ look: Look, confirmed: Bool) -> Next {
        let open = order.filter { !look.published.contains($0.id) && !look.quarantined.contains($0.id) }
        if open.isEmpty { return confirmed ? .finished : .lookAgainFresh }
        var free = open.filter { !look.leased.contains($0.id) && !look.failedHere.contains($0.id) }
        let busy = look.leased.count
        if let first = followOn(free: free, busyElsewhere: busy, cheapStart: look.cheapStart) ?? spread(free: free, busyElsewhere: busy) {
            free.removeAll { $0.id == first.id }
            free.insert(first, at: 0)
        }
        let held = open.filter { look.leased.contains($0.id) && !look.failedHere.contains($0.id) }
        let retry = open.filter { look.failedHere.contains($0.id) }
        return .tryClaims(free + held + retry)
    }

    /// The free chunk this worker takes when it has no follow-on: among the first free chunks in work order, one
    /// per worker that may be choosing at the same moment (estimated as those holding leases, and this one), the
    /// one at this worker's place, so workers that look at the same moment spread over different chunks instead
    /// of racing for the first (a lost race costs a claim; a claim won after another worker published the chunk
    /// costs an encode's start). Alone, a worker takes the first. Only chunks costing at least half the first are
    /// spread over: a worker that passed over a much dearer chunk for a cheap one left it for the end, where one
    /// core encoded it while the others idled (a 250-frame chunk taken after three short ones on two workers:
    /// 1.4 s of a 21 s x264 job with one core idle).
    func spread(free: [Chunk], busyElsewhere: Int) -> Chunk? {
        guard let head = free.first else { return nil }
        let alike = free.prefix(min(free.count, busyElsewhere + 1)).filter { 2 * cost($0) >= cost(head) }
        guard alike.count > 1 else { return nil }
        return alike[seat % alike.count]
    }

    /// The free chunk that starts where the encoder's decoder stands, when taking it ahead of the work order
    /// saves decoding and should not leave this worker busy alone at the end: the other free chunks must hold at
    /// least its cost for each worker that could run beside it (`busyElsewhere` hold leases now; one more may
    /// join). `free` is in work order, so its first chunk is the one the order would take anyway.
    func followOn(free: [Chunk], busyElsewhere: Int, cheapStart: Int?) -> Chunk? {
        guard let start = cheapStart, let i = free.firstIndex(where: { $0.range.start == start }) else { return nil }
        if i == 0 { return free[0] }
        let others = free.enumerated().reduce(0.0) { $0 + ($1.offset == i ? 0 : cost($1.element)) }
        return others >= Double(busyElsewhere + 1) * cost(free[i]) ? free[i] : nil
    }

    func cost(_ c: Chunk) -> Double {
        if let costs, c.id >= 0, c.id < costs.count { return costs[c.id] }
        return Double(c.range.count)
    }

    // MARK: a claim

    /// How the lease try went (`LeaseBook.AcquireResult` without the previous owner).
    public enum Lease: Sendable, Equatable { case acquired, heldByOther, takenOver }

    /// A fact about a claimed chunk the verdict may need, in the order they are looked up.
    public enum Fact: Sendable, Equatable {
        /// Whether its result record exists now (looked up by name on the server).
        case result
        /// Whether it is quarantined now.
        case quarantine
        /// Its failed attempts counted by the ledger.
        case attempts
    }

    /// What is known about one claim so far.
    public struct Claim: Sendable, Equatable {
        public var lease: Lease
        /// The look that chose it listed a lease for it (so losing it was no race).
        public var listedLeased: Bool
        public var resultExists: Bool? = nil
        public var quarantined: Bool? = nil
        public var attempts: Int? = nil
        public init(lease: Lease, listedLeased: Bool, resultExists: Bool? = nil, quarantined: Bool? = nil, attempts: Int? = nil) {
            self.lease = lease; self.listedLeased = listedLeased
            self.resultExists = resultExists; self.quarantined = quarantined; self.attempts = attempts
        }
    }

    public enum GiveBack: Sendable, Equatable {
        /// Its result appeared since the journals were read.
        case published
        case quarantined
        /// It failed `maxAttempts` times: quarantine it (if nobody did yet), then give it back.
        case attemptsSpent
    }

    public enum Verdict: Sendable, Equatable {
        /// Not ours: try the next candidate. `lostRace`: it was unclaimed when listed, another worker won it since.
        case passOn(lostRace: Bool)
        case lookUp(Fact)
        case giveBack(GiveBack)
        case encode
    }

    /// The next step with a claim. A lease taken over from a stale owner is treated as one acquired: a takeover is
    /// not a failure of the chunk (its owner was killed, frozen or cut off), so it never counts as an attempt.
    public func verdict(_ claim: Claim) -> Verdict {
        if claim.lease == .heldByOther { return .passOn(lostRace: !claim.listedLeased) }
        guard let resultExists = claim.resultExists else { return .lookUp(.result) }
        if resultExists { return .giveBack(.published) }
        guard let quarantined = claim.quarantined else { return .lookUp(.quarantine) }
        if quarantined { return .giveBack(.quarantined) }
        guard let attempts = claim.attempts else { return .lookUp(.attempts) }
        return attempts >= maxAttempts ? .giveBack(.attemptsSpent) : .encode
    }

    /// What a worker that found nothing to claim does.
    public enum Idle: Sendable, Equatable {
        case leave
        /// Wait a poll; `beginning`: the wait begins now (time to give back memory and prune debris, once).
        case wait(beginning: Bool)
    }

    public static func idle(exitWhenIdle: Bool, alreadyWaiting: Bool) -> Idle {
        exitWhenIdle ? .leave : .wait(beginning: !alreadyWaiting)
    }
}
