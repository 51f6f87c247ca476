import EncodaModel
import Synchronization

/// A drain request that outlives one `Worker` (a watching worker serves several jobs in turn).
public final class DrainRequest: Sendable {
    private let requested = Mutex(false)
    public init() {}
    /// Requests the drain; `then` runs under the same lock, so nothing `unlessRequested` does can come after it.
    public func request(then: () -> Void = {}) { requested.withLock { $0 = true; then() } }
    /// Runs `body` and returns true unless a drain was requested, atomically with `request`.
    public func unlessRequested(_ body: () -> Void) -> Bool {
        requested.withLock { r in
            if r { return false }
            body()
            return true
        }
    }
    public var isRequested: Bool { requested.withLock { $0 } }
}

public struct WorkerOptions: Sendable {
    /// Lease time and retry limit; take them from the job's plan (`JobManifest.farmSettings`).
    public var farm = FarmSettings()
    public var pollSeconds: Double = 1
    /// Leave when nothing is claimable now instead of waiting for leases held by others to finish or go stale.
    public var exitWhenIdle = false
    public var drain = DrainRequest()
    /// Relative encode cost of each chunk by id (`ChunkPlanner.estimatedCosts`): chunks are taken most expensive
    /// first. Nil: longest first.
    public var chunkCosts: [Double]? = nil
    /// Called once each time the worker starts waiting for claimable work (to give back memory, say).
    public var whenIdle: (@Sendable () -> Void)? = nil
    /// Leave after this many chunks (or segments) were taken on, nil: no limit. A worker following a plan that
    /// streams takes one unit at a time, choosing between analysis and encoding before each.
    public var maxUnits: Int? = nil
    /// The caller keeps the worker record (TMP/workers/T.json) between runs and removes it when it leaves: a worker
    /// following a plan that streams runs one unit at a time, and others must count it while it chooses the next.
    public var keepsWorkerRecord = false
    public init() {}
}

/// Counts that let tests and logs show what happened to the claims of one worker.
public struct WorkerTally: Sendable, Equatable {
    /// Claims won (fresh or stolen) that led to an encode.
    public var claimed = 0
    /// Claims taken over from a stale lease.
    public var stolen = 0
    /// Exclusive creates that another worker won although the chunk was unclaimed when listed: lost races.
    public var racesLost = 0
    /// Encodes whose result was discarded (lease lost, or another result published first).
    public var discarded = 0
    public var failed = 0
}
