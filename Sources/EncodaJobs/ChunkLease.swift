import EncodaModel
import EncodaSystem
import Foundation

/// What a lease file says about its owner.
public struct LeaseOwner: Codable, Sendable, Hashable {
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    public var worker: WorkerIdentity
    /// When the claim was made, by the file server's clock (absent in older leases).
    public var claimedAt: Double?
    public init(jobID: String, chunk: Int, worker: WorkerIdentity, claimedAt: Double? = nil) {
        formatVersion = 1; self.jobID = jobID; self.chunk = chunk; self.worker = worker; self.claimedAt = claimedAt
    }
}

/// The claim protocol on one chunk.
///
/// - Claim: create `leases/NNNNN.lock` with O_CREAT|O_EXCL (exclusive on the server for NFSv3 and later; the
///   client's negative-lookup cache is bypassed for an exclusive create), naming the owner.
/// - Heartbeat: touch its mtime (set to the server's time).
/// - Stale: its mtime is older than `leaseSeconds` by the server's clock (`ServerClock`), never by this
///   host's clock, so hosts with skewed clocks agree.
/// - Steal: rename the stale file aside to a name only this worker uses (one renamer wins on the server),
///   check that what was moved is still stale and still the owner that was judged, then create a fresh one.
///   A lease renewed in the meantime is put back.
/// - Fencing: before publishing, the owner re-reads the lease (close-to-open gives fresh content) and
///   publishes only if it still names it. A race left over after that wastes work, never corrupts:
///   results are published by link (first wins) and every chunk file has its worker's token in its name.
public struct LeaseBook: Sendable {
    public let directory: WorkDirectory
    public let jobID: String
    public let me: WorkerIdentity
    public let leaseSeconds: Double
    public let clock: ServerClock

    public init(directory: WorkDirectory, jobID: String, me: WorkerIdentity, leaseSeconds: Double) {
        self.directory = directory; self.jobID = jobID; self.me = me; self.leaseSeconds = leaseSeconds
        clock = ServerClock(directory: directory, worker: me)
    }

    /// `clearedForOther`: a stale lease was taken out of the way, but another worker created a lease in the moment
    /// before ours (it claimed a free name, so it logs no takeover: the clearer says whose lease was cleared).
    public enum AcquireResult: Equatable {
        case acquired, heldByOther, stolen(previous: WorkerIdentity), clearedForOther(previous: WorkerIdentity)
    }

    /// Test seam: runs between removing a stale lease and creating ours (nil outside tests).
    public var afterClearingStale: (@Sendable () -> Void)? = nil

    /// Tries to claim `chunk`.
    public func acquire(_ chunk: Int) throws -> AcquireResult {
        let path = directory.lease(chunk)
        if try create(path, chunk) { return .acquired }
        // Someone holds it. Stale by the server's clock?
        guard let a = try? age(path) else { return .heldByOther } // vanished: released just now; try again later
        if a <= leaseSeconds {
            // Fresh by the clock, but a worker on this very machine whose process is gone will never renew it:
            // take it now instead of making a re-run after a crash wait out the lease time.
            if let owner = try? readOwner(path), ProcessLiveness.isProvablyDead(owner.worker, judgedBy: me) {
                return try steal(path, chunk, expected: owner.worker, ownerDead: true)
            }
            return .heldByOther
        }
        // An unreadable lease this old is torn (its writer died between create and write): steal it too.
        let owner = try? readOwner(path)
        return try steal(path, chunk, expected: owner?.worker)
    }

    private func create(_ path: String, _ chunk: Int) throws -> Bool {
        let claimedAt = try? clock.now()
        let data = try JSONCoding.encode(LeaseOwner(jobID: jobID, chunk: chunk, worker: me, claimedAt: claimedAt))
        do {
            try FileSystem.writeDurably(data, to: path, flags: O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC)
        } catch where error.operation == .open {
            if error.errno == .fileExists { return false }
            throw EncodaError(.workDirectory, "cannot create a lease", error, advice: "check TMP")
        } catch {
            try? FileSystem.unlink(path)
            throw EncodaError(.workDirectory, "cannot write a lease", error, advice: "check free space in TMP")
        }
        return true
    }

    public func readOwner(_ path: String) throws -> LeaseOwner {
        try JSONCoding.read(LeaseOwner.self, from: path, what: "lease")
    }

    /// Seconds since the lease's last heartbeat, by the server's clock.
    public func age(_ path: String) throws -> Double {
        let m = try FileTimes.mtime(path)
        return try clock.now() - m
    }

    private func steal(_ path: String, _ chunk: Int, expected: WorkerIdentity?, ownerDead: Bool = false) throws -> AcquireResult {
        let aside = directory.leases + "/\(Chunk.name(chunk)).stale-\(me.token)"
        guard (try? FileSystem.rename(path, to: aside)) != nil else { return .heldByOther } // another stealer won
        let taken = try? readOwner(aside)
        let stillStale = ownerDead
            ? taken.map { ProcessLiveness.isProvablyDead($0.worker, judgedBy: me) } ?? false
            : ((try? age(aside)) ?? .infinity) > leaseSeconds
        if taken?.worker != expected || !stillStale {
            // What we moved was renewed, or replaced by a newer claim, after we judged it: put it back. If a
            // new lease exists already the link fails (EEXIST) and the moved one is garbage either way.
            _ = try? FileSystem.linkUnlessTaken(aside, to: path)
            try? FileSystem.unlink(aside)
            return .heldByOther
        }
        try? FileSystem.unlink(aside)
        afterClearingStale?()
        let previous = taken?.worker ?? WorkerIdentity(host: "unknown", pid: 0, token: "torn-lease")
        return try create(path, chunk) ? .stolen(previous: previous) : .clearedForOther(previous: previous)
    }

    /// Heartbeat: refresh the lease's mtime. Returns false if the lease is gone.
    /// Only a lease that still names this worker is renewed (checked through the same open file).
    public func renew(_ chunk: Int) -> Bool {
        FileTimes.touch(directory.lease(chunk)) { data in
            guard let o = try? JSONDecoder().decode(LeaseOwner.self, from: data) else { return false }
            return o.worker == me && o.jobID == jobID && o.chunk == chunk
        }
    }

    /// Fencing: true only if the lease file still names this worker.
    public func stillHeld(_ chunk: Int) -> Bool {
        guard let o = try? readOwner(directory.lease(chunk)) else { return false }
        return o.worker == me && o.jobID == jobID && o.chunk == chunk
    }

    /// Gives the lease up, only if it is still ours (moving it aside first, so we never delete another's).
    public func release(_ chunk: Int) { release(chunk, ifHeldBy: me) }

    /// Gives the lease up only if it still names `owner`: ours, or that of a local worker this process started and
    /// saw die (a coordinator clearing its killed workers' claims). Moved aside first under this book's name, and put
    /// back when it names someone else by then.
    public func release(_ chunk: Int, ifHeldBy owner: WorkerIdentity) {
        let path = directory.lease(chunk)
        let aside = directory.leases + "/\(Chunk.name(chunk)).release-\(me.token)"
        guard (try? FileSystem.rename(path, to: aside)) != nil else { return }
        if let o = try? readOwner(aside), o.worker != owner {
            _ = try? FileSystem.linkUnlessTaken(aside, to: path)
        }
        try? FileSystem.unlink(aside)
    }
}

/// Whether a worker's process is certainly gone. Only answerable for a worker of the same boot and PID
/// namespace as the judge (same machine, not another container sharing its host name); everything else is
/// left to the lease clock.
public enum ProcessLiveness {
    /// Boot id and PID namespace of this process: "BOOTID/pid:[NNN]".
    public static let currentLocality: String = {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown-boot"
        let ns = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? "unknown-ns"
        return boot + "/" + ns
    }()

    public static func isProvablyDead(_ owner: WorkerIdentity, judgedBy me: WorkerIdentity) -> Bool {
        guard let theirs = owner.locality, let mine = me.locality, theirs == mine, owner.host == me.host,
              owner.pid > 1 else { return false }
        if kill(owner.pid, 0) == 0 { return false }
        return errno == ESRCH
    }
}
