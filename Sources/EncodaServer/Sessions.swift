import Foundation

/// Browser sessions: `POST /api/v1/session {token}` trades the bearer token for a random session id sent back as
/// an HttpOnly, SameSite=Strict cookie, accepted instead of the Authorization header. Kept in memory only: a
/// restarted server asks the browser to sign in again.
final class Sessions: @unchecked Sendable { // `expiry` guarded by `lock`
    static let cookieName = "encoda_session"
    private let lock = NSLock()
    private var expiry: [String: Double] = [:]
    let lifetime: Double

    init(lifetime: Double) { self.lifetime = lifetime }

    func open() -> String {
        var rng = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        let now = Date().timeIntervalSince1970
        lock.lock(); defer { lock.unlock() }
        expiry = expiry.filter { $0.value > now }
        expiry[id] = now + lifetime
        return id
    }

    func isValid(_ id: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let e = expiry[id] else { return false }
        return e > Date().timeIntervalSince1970
    }
}
