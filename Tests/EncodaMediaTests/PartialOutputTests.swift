@testable import EncodaMedia
import EncodaModel
import Foundation
import XCTest

/// `PartialOutput.removeDead`: only a regular file of the partial-output pattern, for this OUTPUT, of this machine and
/// of a process that is gone, is removed; a folder or a symbolic link of that name, a live process's partial
/// and another OUTPUT's are kept.
final class PartialOutputTests: XCTestCase {
    func testOnlyADeadProcesssRegularPartialFileIsRemoved() throws {
        let dir = NSTemporaryDirectory() + "encoda-partial-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/out.mkv"
        let format = try OutputFormat.forPath(output, encoder: .av1)

        // Pids of processes that have exited (and were reaped): no process has them for the moment of this test.
        func deadPID() throws -> pid_t {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/true")
            try p.run()
            p.waitUntilExit()
            return p.processIdentifier
        }
        let fm = FileManager.default
        let deadFile = PartialOutput.name(output: output, host: PartialOutput.host, pid: try deadPID(), format: format)
        let deadFolder = PartialOutput.name(output: output, host: PartialOutput.host, pid: try deadPID(), format: format)
        let deadLink = PartialOutput.name(output: output, host: PartialOutput.host, pid: try deadPID(), format: format)
        let live = PartialOutput.name(output: output, host: PartialOutput.host, pid: getppid(), format: format)
        let other = PartialOutput.name(output: dir + "/other.mkv", host: PartialOutput.host, pid: try deadPID(), format: format)
        for name in [deadFile, live, other, "target"] { XCTAssertTrue(fm.createFile(atPath: dir + "/" + name, contents: Data("x".utf8))) }
        try fm.createDirectory(atPath: dir + "/" + deadFolder, withIntermediateDirectories: false)
        XCTAssertEqual(symlink(dir + "/target", dir + "/" + deadLink), 0)

        XCTAssertEqual(PartialOutput.removeDead(output: output, encoder: .av1), [deadFile])
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir).sorted(), [deadFolder, deadLink, live, other, "target"].sorted())
        XCTAssertEqual(PartialOutput.removeDead(output: output, encoder: .av1), [], "nothing left to remove")
    }
}
