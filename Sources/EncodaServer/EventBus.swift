import Foundation

/// A change the server saw: a job's state, or its progress while it runs.
public struct ServerEvent: Codable, Sendable, Equatable {
    /// `state` or `progress`.
    public var type: String
    public var job: String
    public var state: String
    public var framesDone: Int?
    public var frames: Int?
    public var percentDone: Double?
    public var fps: Double?
    public var etaSeconds: Double?
    public var workersAlive: Int?
    public var error: String?
}

/// Fans server events out to every subscriber: the `/api/v1/events` streams today, and whatever else wants to
/// hear of state changes (a notifier, metrics). Subscribers that fall behind lose the oldest events, never block.
public final class EventBus: @unchecked Sendable { // `subscribers` guarded by `lock`
    private let lock = NSLock()
    private var subscribers: [UUID: AsyncStream<ServerEvent>.Continuation] = [:]

    public init() {}

    /// A stream of every event published from now on; it ends its subscription when the consumer stops.
    public func subscribe() -> AsyncStream<ServerEvent> {
        let id = UUID()
        return AsyncStream(bufferingPolicy: .bufferingNewest(256)) { c in
            lock.lock(); subscribers[id] = c; lock.unlock()
            c.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock(); self.subscribers[id] = nil; self.lock.unlock()
            }
        }
    }

    public func publish(_ event: ServerEvent) {
        lock.lock(); let all = Array(subscribers.values); lock.unlock()
        for c in all { c.yield(event) }
    }

    var subscriberCount: Int { lock.lock(); defer { lock.unlock() }; return subscribers.count }
}
