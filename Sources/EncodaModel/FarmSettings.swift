/// Protocol parameters every worker of a job must agree on, so they are recorded in the plan rather than
/// given to each worker: a lease judged stale by one worker must have been renewed often enough by another.
public struct FarmSettings: Codable, Sendable, Hashable {
    /// Seconds without a heartbeat (by the file server's clock) after which a claim counts as abandoned.
    public var leaseSeconds: Double
    /// Failed attempts after which a chunk is quarantined instead of retried.
    public var maxAttempts: Int

    public static let defaultLeaseSeconds = 60.0
    public static let defaultMaxAttempts = 3
    /// The lease must stay well above the NFS attribute cache (~3 s, up to 60 s for files that rarely change,
    /// but a lease's mtime changes every heartbeat) and the heartbeat interval (a sixth of the lease).
    public static let leaseRange = 10.0...86_400.0
    public static let attemptsRange = 1...100

    public init(leaseSeconds: Double = defaultLeaseSeconds, maxAttempts: Int = defaultMaxAttempts) {
        self.leaseSeconds = leaseSeconds; self.maxAttempts = maxAttempts
    }

    public func validate() throws {
        guard leaseSeconds.isFinite, Self.leaseRange.contains(leaseSeconds) else {
            throw EncodaError(.usage, "lease time \(leaseSeconds) s is out of range; use \(Int(Self.leaseRange.lowerBound))…\(Int(Self.leaseRange.upperBound)) seconds")
        }
        guard Self.attemptsRange.contains(maxAttempts) else {
            throw EncodaError(.usage, "max attempts \(maxAttempts) is out of range; use \(Self.attemptsRange.lowerBound)…\(Self.attemptsRange.upperBound)")
        }
    }

    /// How often a worker renews its lease: six heartbeats fit in one lease time.
    public var heartbeatSeconds: Double { leaseSeconds / 6 }
}
