import EncodaModel
import XCTest

/// The CPUs a scheduler granted: the pure rule and the parsers of the cgroup and mount files, table by table.
final class CPUGrantTests: XCTestCase {
    func testTheSmallestOfCoresAffinityAndEveryQuotaWinsAndAQuotaIsRoundedUp() {
        let q = { (quota: Int64, period: Int64) in CPUGrant.Quota(quota: quota, period: period) }
        let cases: [(online: Int, affinity: Int?, quotas: [CPUGrant.Quota], cpus: Int, by: CPUGrant.Limit)] = [
            (64, nil, [], 64, .onlineCores),
            (64, 64, [], 64, .onlineCores),
            (64, 8, [], 8, .affinity),                          // Slurm task/affinity, taskset, a cpuset
            (64, nil, [q(100_000, 100_000)], 1, .quota),       // systemd CPUQuota=100%, docker --cpus 1
            (64, nil, [q(50_000, 100_000)], 1, .quota),        // Kubernetes limit 500m: never below one
            (64, nil, [q(150_000, 100_000)], 2, .quota),       // 1.5 CPUs: rounded up
            (64, nil, [q(400_000, 100_000), q(200_000, 100_000)], 2, .quota), // a parent's tighter quota counts
            (64, 2, [q(800_000, 100_000)], 2, .affinity),
            (2, nil, [q(800_000, 100_000)], 2, .onlineCores),  // a quota above the machine changes nothing
            (0, nil, [], 1, .onlineCores),
            (64, 0, [q(0, 100_000), q(100_000, 0)], 64, .onlineCores), // nonsense is ignored
        ]
        for c in cases {
            let g = CPUGrant.decide(online: c.online, affinity: c.affinity, quotas: c.quotas)
            XCTAssertEqual(g, CPUGrant(cpus: c.cpus, limitedBy: c.by), "\(c)")
        }
    }

    func testCgroupFilesAreRead() {
        XCTAssertNil(CPUGrant.parseCPUMax("max 100000\n"))
        XCTAssertEqual(CPUGrant.parseCPUMax("150000 100000\n"), CPUGrant.Quota(quota: 150_000, period: 100_000))
        XCTAssertNil(CPUGrant.parseCPUMax(""))
        XCTAssertNil(CPUGrant.parseV1(quota: "-1\n", period: "100000\n"))
        XCTAssertEqual(CPUGrant.parseV1(quota: "50000\n", period: "100000\n"), CPUGrant.Quota(quota: 50_000, period: 100_000))

        let hybrid = "9:name=systemd:/\n4:memory:/x\n2:cpuacct:/\n1:cpu:/encoda-test\n0::/\n"
        XCTAssertEqual(CPUGrant.cgroupPaths(hybrid).v2, "/")
        XCTAssertEqual(CPUGrant.cgroupPaths(hybrid).v1cpu, "/encoda-test")
        let v1Joint = "3:cpu,cpuacct:/slurm/uid_0/job_12/step_batch\n"
        XCTAssertEqual(CPUGrant.cgroupPaths(v1Joint).v1cpu, "/slurm/uid_0/job_12/step_batch")
        XCTAssertNil(CPUGrant.cgroupPaths(v1Joint).v2)
        XCTAssertEqual(CPUGrant.cgroupPaths("0::/system.slice/run-u7.scope\n").v2, "/system.slice/run-u7.scope")

        let mountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        40 31 0:37 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate
        """
        let m = CPUGrant.cgroupMounts(mountinfo)
        XCTAssertEqual(m.v1cpu, CPUGrant.Mount(root: "/", point: "/sys/fs/cgroup/cpu"))
        XCTAssertEqual(m.v2, CPUGrant.Mount(root: "/", point: "/sys/fs/cgroup/unified"))
        XCTAssertEqual(CPUGrant.cgroupMounts("25 1 0:22 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n").v2,
                       CPUGrant.Mount(root: "/kubepods/pod1", point: "/sys/fs/cgroup"))
        XCTAssertEqual(CPUGrant.cgroupMounts("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n").v1cpu?.point,
                       "/sys/fs/cgroup/cpu,cpuacct")

        let root = CPUGrant.Mount(root: "/", point: "/sys/fs/cgroup")
        XCTAssertEqual(CPUGrant.cgroupFolders(mount: root, path: "/a/b"), ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a", "/sys/fs/cgroup"])
        XCTAssertEqual(CPUGrant.cgroupFolders(mount: root, path: "/"), ["/sys/fs/cgroup"])
        let pod = CPUGrant.Mount(root: "/kubepods/pod1", point: "/sys/fs/cgroup")
        XCTAssertEqual(CPUGrant.cgroupFolders(mount: pod, path: "/kubepods/pod1/c1"), ["/sys/fs/cgroup/c1", "/sys/fs/cgroup"])
        XCTAssertEqual(CPUGrant.cgroupFolders(mount: pod, path: "/elsewhere"), ["/sys/fs/cgroup"])
    }
}
