import EncodaJobs
import EncodaModel
import XCTest

/// The worker's choices, row by row, without TMP.
final class ClaimPolicyTests: XCTestCase {
    /// Chunks 0..<n of 10 frames each.
    private func chunks(_ n: Int) -> [Chunk] {
        (0..<n).map { Chunk(id: $0, range: FrameRange($0 * 10, $0 * 10 + 10), shotStarts: [$0 * 10]) }
    }

    private func policy(_ n: Int, costs: [Double]? = nil, seat: Int = 0, maxAttempts: Int = 3) -> ClaimPolicy {
        let c = chunks(n)
        return ClaimPolicy(order: ChunkPlanner.workOrder(c, costs: costs), costs: costs, seat: seat, maxAttempts: maxAttempts)
    }

    private func ids(_ next: ClaimPolicy.Next) -> [Int]? {
        guard case .tryClaims(let c) = next else { return nil }
        return c.map(\.id)
    }

    func testWhichChunksAreTriedAndInWhatOrder() {
        typealias Look = ClaimPolicy.Look
        let rows: [(String, ClaimPolicy, Look, [Int]?)] = [
            ("empty plan", policy(0), Look(), nil),
            ("all published", policy(3), Look(published: [0, 1, 2]), nil),
            ("all quarantined", policy(2), Look(quarantined: [0, 1]), nil),
            ("published or quarantined", policy(3), Look(published: [0, 2], quarantined: [1]), nil),
            ("alone: work order (equal lengths: by id)", policy(3), Look(), [0, 1, 2]),
            ("priority: most expensive first", policy(4, costs: [1, 5, 2, 9]), Look(), [3, 1, 2, 0]),
            ("published and quarantined are not tried", policy(4), Look(published: [1], quarantined: [2]), [0, 3]),
            ("leased (fresh or stale) after the free ones", policy(4, seat: 0), Look(leased: [0, 1]), [2, 3, 0, 1]),
            ("failed here: last, after leased", policy(4), Look(leased: [1], failedHere: [0]), [2, 3, 1, 0]),
            ("failed here and leased: with the retries", policy(3), Look(leased: [0], failedHere: [0]), [1, 2, 0]),
            ("spread: seat 1 of 2 choosers takes the second free", policy(4, seat: 1), Look(leased: [3]), [1, 0, 2, 3]),
            ("spread: seat 5 of 3 choosers (5 % 3 = 2)", policy(5, seat: 5), Look(leased: [3, 4]), [2, 0, 1, 3, 4]),
            ("spread never wider than the free chunks", policy(3, seat: 3), Look(leased: [1, 2]), [0, 1, 2]),
            ("spread passes over no chunk twice as dear", policy(4, costs: [1, 9, 2, 1], seat: 1), Look(leased: [0]), [1, 2, 3, 0]),
            ("spread among the alike only (seat 3 of 2 alike)", policy(5, costs: [1, 9, 2, 8, 3], seat: 3), Look(leased: [0, 2]), [3, 1, 4, 2, 0]),
            ("follow-on: the decoder stands at chunk 2", policy(4), Look(cheapStart: 20), [2, 0, 1, 3]),
            ("follow-on at the head of the order is the order", policy(4), Look(cheapStart: 0), [0, 1, 2, 3]),
            ("follow-on not kept where no free chunk starts", policy(3), Look(leased: [1], cheapStart: 10), [0, 2, 1]),
            ("follow-on refused when it would finish last", policy(3, costs: [10, 9, 1]), Look(leased: [2], cheapStart: 10), [0, 1, 2]),
        ]
        for (name, p, look, expected) in rows {
            XCTAssertEqual(ids(p.next(look, confirmed: true)), expected, name)
            if expected == nil {
                XCTAssertEqual(p.next(look, confirmed: true), .finished, name)
                XCTAssertEqual(p.next(look, confirmed: false), .lookAgainFresh, "\(name): a fresh listing before leaving")
            } else {
                XCTAssertEqual(p.next(look, confirmed: false), p.next(look, confirmed: true), name)
            }
        }
    }

    func testWhatAClaimLooksUpAndWhatItDecides() {
        typealias Claim = ClaimPolicy.Claim
        let p = policy(3, maxAttempts: 3)
        let rows: [(String, Claim, ClaimPolicy.Verdict)] = [
            ("held by another, listed as leased: no race", Claim(lease: .heldByOther, listedLeased: true), .passOn(lostRace: false)),
            ("held by another, unclaimed when listed: a race lost", Claim(lease: .heldByOther, listedLeased: false), .passOn(lostRace: true)),
            ("acquired: first the result", Claim(lease: .acquired, listedLeased: false), .lookUp(.result)),
            ("stale lease taken over: first the result", Claim(lease: .takenOver, listedLeased: true), .lookUp(.result)),
            ("published meanwhile", Claim(lease: .acquired, listedLeased: false, resultExists: true), .giveBack(.published)),
            ("no result: then the quarantine", Claim(lease: .acquired, listedLeased: false, resultExists: false), .lookUp(.quarantine)),
            ("quarantined meanwhile", Claim(lease: .takenOver, listedLeased: true, resultExists: false, quarantined: true), .giveBack(.quarantined)),
            ("not quarantined: then the attempts", Claim(lease: .acquired, listedLeased: false, resultExists: false, quarantined: false), .lookUp(.attempts)),
            ("no attempt yet", Claim(lease: .acquired, listedLeased: false, resultExists: false, quarantined: false, attempts: 0), .encode),
            ("one attempt left", Claim(lease: .acquired, listedLeased: false, resultExists: false, quarantined: false, attempts: 2), .encode),
            ("retry budget spent", Claim(lease: .acquired, listedLeased: false, resultExists: false, quarantined: false, attempts: 3), .giveBack(.attemptsSpent)),
            ("over budget (a lower limit this run)", Claim(lease: .takenOver, listedLeased: true, resultExists: false, quarantined: false, attempts: 7), .giveBack(.attemptsSpent)),
            ("a takeover is not an attempt", Claim(lease: .takenOver, listedLeased: true, resultExists: false, quarantined: false, attempts: 0), .encode),
        ]
        for (name, claim, expected) in rows { XCTAssertEqual(p.verdict(claim), expected, name) }
    }

    func testFollowingTheVerdictsLooksUpEachFactOnceInOrder() {
        let p = policy(1, maxAttempts: 2)
        var claim = ClaimPolicy.Claim(lease: .acquired, listedLeased: false)
        var looked: [ClaimPolicy.Fact] = []
        while case .lookUp(let fact) = p.verdict(claim) {
            looked.append(fact)
            switch fact {
            case .result: claim.resultExists = false
            case .quarantine: claim.quarantined = false
            case .attempts: claim.attempts = 1
            }
        }
        XCTAssertEqual(looked, [.result, .quarantine, .attempts])
        XCTAssertEqual(p.verdict(claim), .encode)
    }

    func testNothingClaimedLeavesOrWaits() {
        XCTAssertEqual(ClaimPolicy.idle(exitWhenIdle: true, alreadyWaiting: false), .leave)
        XCTAssertEqual(ClaimPolicy.idle(exitWhenIdle: true, alreadyWaiting: true), .leave)
        XCTAssertEqual(ClaimPolicy.idle(exitWhenIdle: false, alreadyWaiting: false), .wait(beginning: true))
        XCTAssertEqual(ClaimPolicy.idle(exitWhenIdle: false, alreadyWaiting: true), .wait(beginning: false))
    }
}
