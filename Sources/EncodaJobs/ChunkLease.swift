import EncodaModel
import Foundation

/// What a lease file says about its owner.
public struct LeaseOwner: Codable, Sendable, Hashable {
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    public var worker: WorkerIdentity
    public init(jobID: String, chunk: Int, worker: WorkerIdentity) {
        formatVersion = 1; self.jobID = jobID; self.chunk = chunk; self.worker = worker
    }
}

/// The claim protocol on one chunk: an O_CREAT|O_EXCL lockfile naming its owner, kept alive by touching its
/// mtime; stale when its mtime is older than `leaseSeconds` by the server's clock; stolen by renaming it
/// aside (only one renamer can win) and creating a fresh one.
public struct LeaseBook: Sendable {
    public let directory: WorkDirectory
    public let jobID: String
    public let me: WorkerIdentity
    public let leaseSeconds: Double
    public let clock: ServerClock

    public init(directory: WorkDirectory, jobID: String, me: WorkerIdentity, leaseSeconds: Double) {
        self.directory = directory; self.jobID = jobID; self.me = me; self.leaseSeconds = leaseSeconds
        clock = ServerClock(directory: directory, owner: "\(me.host)-\(me.pid)-\(me.token)")
    }

    public enum AcquireResult: Equatable { case acquired, heldByOther, stolen(previous: WorkerIdentity) }

    /// Tries to claim `chunk`.
    public func acquire(_ chunk: Int) throws -> AcquireResult {
        let path = directory.lease(chunk)
        if try create(path, chunk) { return .acquired }
        // Someone holds it. Stale?
        guard let owner = try? readOwner(path) else {
            // Unreadable or vanished: a fresh lease being written, or a torn file. Judge by age only.
            if let age = try? age(path), age > leaseSeconds { return try steal(path, chunk, expected: nil) }
            return .heldByOther
        }
        guard let a = try? age(path) else { return .heldByOther }
        if a > leaseSeconds { return try steal(path, chunk, expected: owner.worker) }
        return .heldByOther
    }

    private func create(_ path: String, _ chunk: Int) throws -> Bool {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw EncodaError(.workDirectory, "cannot create lease \(path): \(String(cString: strerror(errno)))")
        }
        let data = try JSONCoding.encode(LeaseOwner(jobID: jobID, chunk: chunk, worker: me))
        let ok = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) == $0.count }
        fsync(fd)
        close(fd)
        if !ok { unlink(path); throw EncodaError(.workDirectory, "cannot write lease \(path)") }
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

    private func steal(_ path: String, _ chunk: Int, expected: WorkerIdentity?) throws -> AcquireResult {
        let aside = directory.leases + "/\(Chunk.name(chunk)).stale-\(me.token)"
        guard rename(path, aside) == 0 else { return .heldByOther } // another stealer won the rename
        let taken = try? readOwner(aside)
        if let expected, taken?.worker != expected {
            // We moved a lease that was renewed or re-created after we judged it: put it back if we can.
            if link(aside, path) != 0 { /* a newer lease exists already; ours is just garbage */ }
            unlink(aside)
            return .heldByOther
        }
        unlink(aside)
        if try create(path, chunk) {
            return .stolen(previous: taken?.worker ?? expected ?? WorkerIdentity(host: "?", pid: 0, token: "?"))
        }
        return .heldByOther
    }

    /// Heartbeat: refresh the lease's mtime. Returns false if the lease is gone.
    public func renew(_ chunk: Int) -> Bool { FileTimes.touch(directory.lease(chunk)) }

    /// Fencing: true only if the lease file still names this worker.
    public func stillHeld(_ chunk: Int) -> Bool {
        guard let o = try? readOwner(directory.lease(chunk)) else { return false }
        return o.worker == me && o.jobID == jobID
    }

    /// Gives the lease up, only if it is still ours (moving it aside first, so we never delete another's).
    public func release(_ chunk: Int) {
        let path = directory.lease(chunk)
        let aside = directory.leases + "/\(Chunk.name(chunk)).release-\(me.token)"
        guard rename(path, aside) == 0 else { return }
        if let o = try? readOwner(aside), o.worker != me {
            _ = link(aside, path)
        }
        unlink(aside)
    }
}
