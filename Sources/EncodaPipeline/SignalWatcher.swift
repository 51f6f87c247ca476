import Dispatch
import Foundation
import Synchronization

/// Counts SIGINT/SIGTERM without killing the process, so commands can drain on the first and stop on the second.
final class SignalWatcher: Sendable {
    static let shared = SignalWatcher()
    private struct State {
        var count = 0
        var sources: [DispatchSourceSignal] = []
        var handlers: [@Sendable (Int) -> Void] = []
    }
    private let state = Mutex(State())
    /// The signal sources' handlers run here, one at a time.
    private let queue = DispatchQueue(label: "encoda.signals")

    /// - Parameter ignoringInterrupt: SIGINT is ignored, only SIGTERM counts (a worker supervised by a parent
    ///   on this machine: a terminal's Ctrl-C reaches the parent, which forwards it as SIGTERM).
    func install(ignoringInterrupt: Bool = false, onSignal: @escaping @Sendable (Int) -> Void = { _ in }) {
        state.withLock { s in
            s.handlers.append(onSignal)
            guard s.sources.isEmpty else { return }
            // The sources are made under the lock, so that they belong to it.
            if ignoringInterrupt { signal(SIGINT, SIG_IGN) }
            for sig in ignoringInterrupt ? [SIGTERM] : [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { [self] in
                    // The handlers run outside the lock: one may install another.
                    let (n, hs) = state.withLock { st in
                        st.count += 1
                        return (st.count, st.handlers)
                    }
                    for h in hs { h(n) }
                }
                source.resume()
                s.sources.append(source)
            }
        }
    }

    var signals: Int { state.withLock { $0.count } }
}
