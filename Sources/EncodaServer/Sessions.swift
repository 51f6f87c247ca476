import Foundation
import Synchronization

/// Browser sessions: `POST /api/v1/session {token}` trades the bearer token for a random session id sent back as
/// an HttpOnly, SameSite=Strict cookie, accepted instead of the Authorization header. Kept in memory only: a
/// restarted server asks the browser to sign in again.
final class Sessions: Sendable {
    static let cookieName = "encoda_session"
    /// Each open session's expiry time (seconds since 1970).
    private let expiry = Mutex<[String: Double]>([:])
    let lifetime: Double

    init(lifetime: Double) { self.lifetime = lifetime }

    func open() -> String {
        var rng = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        let now = Date().timeIntervalSince1970
        let lifetime = self.lifetime
        expiry.withLock { e in
            e = e.filter { $0.value > now }
            e[id] = now + lifetime
        }
        return id
    }

    func isValid(_ id: String) -> Bool {
        guard let e = expiry.withLock({ $0[id] }) else { return false }
        return e > Date().timeIntervalSince1970
    }
}
