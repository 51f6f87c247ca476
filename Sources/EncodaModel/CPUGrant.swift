import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CPUs this process may use: what a scheduler (Slurm, Kubernetes, OpenCue, a container runtime) granted it,
/// not the host's core count. It is the smallest of the online cores, the affinity mask (`sched_getaffinity`:
/// Slurm's task/affinity, `taskset`, a cpuset) and the CPU quota of every cgroup from this process's up to the
/// root (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`: a Kubernetes CPU limit,
/// `podman --cpus`, systemd's CPUQuota). A fractional quota is rounded up (1.5 CPUs: 2 threads), so the quota is
/// used in full; the encoders are throughput work, for which being throttled now and then costs nothing.
/// Every default that counts cores (worker processes, encoder threads, decode threads) takes it from here.
public struct CPUGrant: Sendable, Equatable, CustomStringConvertible {
    public enum Limit: String, Sendable { case onlineCores = "online cores", affinity = "affinity mask", quota = "cgroup CPU quota" }

    /// A cgroup's CPU bandwidth: `quota` microseconds of CPU time per `period`.
    public struct Quota: Sendable, Equatable {
        public var quota: Int64
        public var period: Int64
        public init(quota: Int64, period: Int64) { self.quota = quota; self.period = period }
        /// Whole CPUs, rounded up, at least 1.
        public var cpus: Int { max(1, Int((quota + period - 1) / period)) }
    }

    public var cpus: Int
    /// What set `cpus` (the first of online cores, affinity mask, quota that reaches the smallest count).
    public var limitedBy: Limit

    public init(cpus: Int, limitedBy: Limit) { self.cpus = cpus; self.limitedBy = limitedBy }

    /// "2, by affinity mask".
    public var description: String { "\(cpus), by \(limitedBy.rawValue)" }

    /// The grant of this process, read once (cgroup files and the affinity mask are not expected to change
    /// under a running encoda).
    public static let current: CPUGrant = read()

    /// The pure rule: the smallest of the online cores, the affinity mask's CPUs and each quota's CPUs.
    public static func decide(online: Int, affinity: Int?, quotas: [Quota]) -> CPUGrant {
        var grant = CPUGrant(cpus: max(1, online), limitedBy: .onlineCores)
        if let affinity, affinity >= 1, affinity < grant.cpus { grant = CPUGrant(cpus: affinity, limitedBy: .affinity) }
        for q in quotas where q.quota > 0 && q.period > 0 && q.cpus < grant.cpus {
            grant = CPUGrant(cpus: q.cpus, limitedBy: .quota)
        }
        return grant
    }

    // MARK: Reading the files (each parser is pure and table-tested)

    /// cgroup v2 `cpu.max`: "max 100000" (no limit) or "QUOTA PERIOD".
    public static func parseCPUMax(_ text: String) -> Quota? {
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard f.count == 2, let q = Int64(f[0]), let p = Int64(f[1]), q > 0, p > 0 else { return nil }
        return Quota(quota: q, period: p)
    }

    /// cgroup v1 `cpu.cfs_quota_us` ("-1": no limit) and `cpu.cfs_period_us`.
    public static func parseV1(quota: String, period: String) -> Quota? {
        guard let q = Int64(quota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let p = Int64(period.trimmingCharacters(in: .whitespacesAndNewlines)), q > 0, p > 0 else { return nil }
        return Quota(quota: q, period: p)
    }

    /// This process's cgroup paths from `/proc/self/cgroup`: the v2 one ("0::/path") and the v1 one of the `cpu`
    /// controller ("N:cpu,cpuacct:/path").
    public static func cgroupPaths(_ procSelfCgroup: String) -> (v2: String?, v1cpu: String?) {
        var v2: String? = nil, v1: String? = nil
        for line in procSelfCgroup.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            if f[0] == "0" && f[1].isEmpty { v2 = String(f[2]) }
            else if f[1].split(separator: ",").contains("cpu") { v1 = String(f[2]) }
        }
        return (v2, v1)
    }

    /// A cgroup file system as mounted: the cgroup path it shows at `point` (`root`, "/" unless a namespace or a
    /// bind mount shows a subtree).
    public struct Mount: Sendable, Equatable {
        public var root: String
        public var point: String
        public init(root: String, point: String) { self.root = root; self.point = point }
    }

    /// The cgroup2 mount and the v1 mount of the `cpu` controller, from `/proc/self/mountinfo`.
    public static func cgroupMounts(_ mountinfo: String) -> (v2: Mount?, v1cpu: Mount?) {
        var v2: Mount? = nil, v1: Mount? = nil
        for line in mountinfo.split(separator: "\n") {
            // "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let m = Mount(root: unescape(String(left[3])), point: unescape(String(left[4])))
            if right[0] == "cgroup2" && v2 == nil { v2 = m }
            if right[0] == "cgroup" && v1 == nil && right[2].split(separator: ",").contains("cpu") { v1 = m }
        }
        return (v2, v1)
    }

    /// The folders whose quota applies to a process in cgroup `path`: its own and each parent's up to the mount
    /// point, leaf first. A path outside what the mount shows (a namespace without its own cgroup view) gives
    /// the mount point alone.
    public static func cgroupFolders(mount: Mount, path: String) -> [String] {
        var rel = path
        if mount.root != "/" {
            guard rel == mount.root || rel.hasPrefix(mount.root + "/") else { return [mount.point] }
            rel = String(rel.dropFirst(mount.root.count))
        }
        var parts = rel.split(separator: "/").map(String.init)
        var folders: [String] = []
        while true {
            folders.append(parts.isEmpty ? mount.point : mount.point + "/" + parts.joined(separator: "/"))
            if parts.isEmpty { break }
            parts.removeLast()
        }
        return folders
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    private static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        return s.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }

    // MARK: This process

    static func read() -> CPUGrant {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return decide(online: online > 0 ? online : ProcessInfo.processInfo.activeProcessorCount,
                      affinity: affinityCount(), quotas: quotas())
    }

    private static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// Quotas of this process's cgroup and its parents, v2 and v1 alike (a hybrid host can have both).
    static func quotas() -> [Quota] {
        guard let cg = text("/proc/self/cgroup"), let mi = text("/proc/self/mountinfo") else { return [] }
        let paths = cgroupPaths(cg), mounts = cgroupMounts(mi)
        var found: [Quota] = []
        if let m = mounts.v2, let p = paths.v2 {
            for dir in cgroupFolders(mount: m, path: p) {
                if let t = text(dir + "/cpu.max"), let q = parseCPUMax(t) { found.append(q) }
            }
        }
        if let m = mounts.v1cpu, let p = paths.v1cpu {
            for dir in cgroupFolders(mount: m, path: p) {
                if let q = text(dir + "/cpu.cfs_quota_us"), let per = text(dir + "/cpu.cfs_period_us"),
                   let quota = parseV1(quota: q, period: per) { found.append(quota) }
            }
        }
        return found
    }

    /// CPUs in this process's affinity mask. `sched_getaffinity` is a GNU extension the Glibc module does not
    /// export, so it is looked up by name.
    static func affinityCount() -> Int? {
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(sym, to: GetAffinity.self)
        var mask = [UInt8](repeating: 0, count: 1024) // 8192 CPUs
        let r = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        guard r == 0 else { return nil }
        let n = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return n > 0 ? n : nil
    }
}
