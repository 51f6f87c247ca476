import Dispatch
import Foundation
import Synchronization

/// A thread that calls a beat every `tick` seconds, from `start` until `stop`.
///
/// - `start` returns once the first beat has run, so the caller's next step is never followed at once by a beat
///   that was due before it.
/// - `stop` returns only when the last beat has returned and the thread has ended (it joins), so nothing a beat
///   does can come after it: whoever stops the heartbeat may then remove what the beats write.
/// - No lock is held while a beat runs: a beat may take as long as a slow file server makes it, and `stop` or
///   anything else waits at most for that one beat, never for a lock. A `stop` between beats wakes the thread at
///   once instead of letting it sleep out its tick.
///
/// `stop` may be called from several threads, before `start`, or more than once; it must not be called from the
/// beat itself (it would wait for itself).
public final class Heartbeat: Sendable {
    private enum Phase { case idle, running, stopped }
    private let phase = Mutex(Phase.idle)
    /// Signalled once, by the `stop` that ends a running heartbeat.
    private let wake = DispatchSemaphore(value: 0)
    /// Entered when the thread is made, left when it ends: what `stop` waits on.
    private let thread = DispatchGroup()
    public let tick: Double

    public init(tick: Double) { self.tick = tick }

    /// Starts the thread (once; a heartbeat stopped before it started never starts) and returns after its first beat.
    public func start(_ beat: @escaping @Sendable () -> Void) {
        let starts = phase.withLock { p -> Bool in
            guard p == .idle else { return false }
            p = .running
            return true
        }
        guard starts else { return }
        let firstBeat = DispatchSemaphore(value: 0)
        thread.enter()
        let t = Thread { [self] in
            var signalled = false
            while isRunning {
                beat()
                if !signalled { signalled = true; firstBeat.signal() }
                if wake.wait(timeout: .now() + tick) == .success { break }
            }
            if !signalled { firstBeat.signal() }
            thread.leave()
        }
        t.start()
        firstBeat.wait()
    }

    private var isRunning: Bool { phase.withLock { $0 == .running } }

    /// Stops the beats and waits for the thread to end.
    public func stop() {
        let wakes = phase.withLock { p -> Bool in
            let running = p == .running
            p = .stopped
            return running
        }
        if wakes { wake.signal() }
        thread.wait()
    }
}
