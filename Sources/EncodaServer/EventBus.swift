import Foundation
import Synchronization

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
public final class EventBus: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<ServerEvent>.Continuation]>([:])

    public init() {}

    /// A stream of every event published from now on; it ends its subscription when the consumer stops.
    public func subscribe() -> AsyncStream<ServerEvent> {
        let id = UUID()
        return AsyncStream(bufferingPolicy: .bufferingNewest(256)) { c in
            subscribers.withLock { $0[id] = c }
            c.onTermination = { [weak self] _ in
                self?.subscribers.withLock { $0[id] = nil }
            }
        }
    }

    public func publish(_ event: ServerEvent) {
        let all = subscribers.withLock { Array($0.values) }
        for c in all { c.yield(event) }
    }

    var subscriberCount: Int { subscribers.withLock { $0.count } }
}
