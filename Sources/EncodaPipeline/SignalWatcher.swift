import Dispatch
import Foundation

/// Counts SIGINT/SIGTERM without killing the process, so commands can drain on the first and stop on the second.
final class SignalWatcher: @unchecked Sendable { // count guarded by `lock`; sources live on their own queue
    static let shared = SignalWatcher()
    private let lock = NSLock()
    private var count = 0
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "encoda.signals")
    private var handlers: [(Int) -> Void] = []

    /// - Parameter ignoringInterrupt: SIGINT is ignored, only SIGTERM counts (a worker supervised by a parent
    ///   on this machine: a terminal's Ctrl-C reaches the parent, which forwards it as SIGTERM).
    func install(ignoringInterrupt: Bool = false, onSignal: @escaping (Int) -> Void = { _ in }) {
        lock.lock(); handlers.append(onSignal); let already = !sources.isEmpty; lock.unlock()
        if already { return }
        if ignoringInterrupt { signal(SIGINT, SIG_IGN) }
        for sig in ignoringInterrupt ? [SIGTERM] : [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler { [self] in
                lock.lock(); count += 1; let n = count; let hs = handlers; lock.unlock()
                for h in hs { h(n) }
            }
            s.resume()
            sources.append(s)
        }
    }

    var signals: Int { lock.lock(); defer { lock.unlock() }; return count }
}
