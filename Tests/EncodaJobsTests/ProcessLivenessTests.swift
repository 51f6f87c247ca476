import EncodaJobs
import EncodaModel
import Foundation
import XCTest

/// A lease held by a process that is certainly gone (same machine, same PID namespace) can be taken at once;
/// anything that cannot be proven dead is left to the lease clock.
final class ProcessLivenessTests: XCTestCase {
    private let locality = ProcessLiveness.currentLocality
    private func me() -> WorkerIdentity { WorkerIdentity(host: "h", pid: getpid(), token: "me", locality: locality) }

    func testExitedLocalProcessIsProvablyDead() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let gone = WorkerIdentity(host: "h", pid: p.processIdentifier, token: "gone", locality: locality)
        XCTAssertTrue(ProcessLiveness.isProvablyDead(gone, judgedBy: me()))
    }

    func testLiveOrForeignProcessesAreNotJudged() {
        let alive = WorkerIdentity(host: "h", pid: getppid(), token: "parent", locality: locality)
        XCTAssertFalse(ProcessLiveness.isProvablyDead(alive, judgedBy: me()))
        // Same pid number, but another machine or container: never judged from here.
        let otherHost = WorkerIdentity(host: "other", pid: 999_999, token: "x", locality: locality)
        XCTAssertFalse(ProcessLiveness.isProvablyDead(otherHost, judgedBy: me()))
        let otherNamespace = WorkerIdentity(host: "h", pid: 999_999, token: "x", locality: "other-boot/pid:[1]")
        XCTAssertFalse(ProcessLiveness.isProvablyDead(otherNamespace, judgedBy: me()))
        let oldRecord = WorkerIdentity(host: "h", pid: 999_999, token: "x")
        XCTAssertFalse(ProcessLiveness.isProvablyDead(oldRecord, judgedBy: me()))
    }
}
