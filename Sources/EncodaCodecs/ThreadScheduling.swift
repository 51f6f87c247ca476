import Foundation
import Glibc

/// The calling thread's scheduling policy and priority, kept across a call into a library that changes them.
///
/// SVT-AV1 1.4.1 run as root switches the thread that calls `svt_av1_enc_init_handle` to SCHED_FIFO at priority 99,
/// and leaves it so. Every thread and process that thread starts afterwards inherits it: encoda's own encoder threads,
/// the worker processes a coordinator starts, and a test's children (a real-time task may not join a CPU-quota
/// cgroup without real-time runtime, and a quota does not limit it). Its `svt_av1_enc_init` also makes every
/// thread it starts SCHED_FIFO 99. A farm shares its machines, so encoda and its encoder threads run at the policy
/// encoda was started with (and `nice`, which a worker override may set, acts only on SCHED_OTHER threads).
struct ThreadScheduling {
    private let policy: Int32
    private let param: sched_param

    /// The calling thread's current policy and priority.
    static func current() -> ThreadScheduling {
        var policy: Int32 = 0
        var param = sched_param()
        _ = pthread_getschedparam(pthread_self(), &policy, &param)
        return ThreadScheduling(policy: policy, param: param)
    }

    /// Puts the calling thread back to this policy and priority, when something changed them.
    func restore() {
        let now = Self.current()
        guard now.policy != policy || now.param.sched_priority != param.sched_priority else { return }
        var p = param
        _ = pthread_setschedparam(pthread_self(), policy, &p)
    }

    /// Puts every thread of this process that runs real-time back to this policy, when this policy is not
    /// real-time itself (encoda never asks for real-time; only a library's own threads can be).
    func restoreRealTimeThreads() {
        guard policy != SCHED_FIFO, policy != SCHED_RR,
              let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return }
        for name in tasks {
            guard let tid = pid_t(name), let now = Self.policy(ofThread: tid), now == SCHED_FIFO || now == SCHED_RR else { continue }
            var p = param
            _ = sched_setscheduler(tid, policy, &p)
        }
    }

    /// The scheduling policy of thread `tid` of this process (field 41 of its stat); nil when it cannot be read.
    static func policy(ofThread tid: pid_t) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name, in parentheses, come fields 3, 4, …: the policy is the 39th of them.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 38 ? Int32(fields[38]) : nil
    }

    /// Runs `body` and puts the calling thread's scheduling back afterwards, whatever `body` did to it.
    static func keeping<T>(_ body: () throws -> T) rethrows -> T {
        let saved = current()
        defer { saved.restore() }
        return try body()
    }
}
