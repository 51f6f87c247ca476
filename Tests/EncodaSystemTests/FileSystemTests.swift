import EncodaModel
import EncodaSystem
import Foundation
import SystemPackage
import XCTest

/// The funnel's errors name the operation, the path and the errno; AtomicFile's write → fsync → rename path.
final class FileSystemTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "encoda-system-\(UUID().uuidString)"
        try FileSystem.mkdir(root)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func testARenameIntoAMissingFolderSaysWhatWhereAndWhy() throws {
        let a = root + "/a", b = root + "/missing/b"
        try Data("x".utf8).write(to: URL(fileURLWithPath: a))
        XCTAssertThrowsError(try FileSystem.rename(a, to: b)) { error in
            let e = error as! FileSystemError
            XCTAssertEqual(e.operation, .rename)
            XCTAssertEqual(e.errno, .noSuchFileOrDirectory)
            XCTAssertEqual("\(e)", "rename \(a) → \(b): No such file or directory")
        }
        XCTAssertThrowsError(try FileSystem.open(root + "/nothing", O_RDONLY)) { error in
            XCTAssertEqual("\(error)", "open \(root)/nothing: No such file or directory")
        }
        let wrapped = EncodaError(.workDirectory, "cannot publish", FileSystemError(.link, a, to: b, errno: .fileExists), advice: "check TMP")
        XCTAssertEqual(wrapped.message, "cannot publish: link \(a) → \(b): File exists; check TMP")
    }

    func testListingStatAndUnlink() throws {
        for n in ["x", "y"] { try Data().write(to: URL(fileURLWithPath: root + "/" + n)) }
        XCTAssertEqual(try FileSystem.list(root).sorted(), ["x", "y"])
        XCTAssertEqual(try FileSystem.stat(root + "/x").st_size, 0)
        try FileSystem.unlink(root + "/x")
        XCTAssertThrowsError(try FileSystem.unlink(root + "/x")) { XCTAssertEqual(($0 as! FileSystemError).errno, .noSuchFileOrDirectory) }
        XCTAssertThrowsError(try FileSystem.list(root + "/y")) { XCTAssertEqual("\($0)", "list \(root)/y: Not a directory") }
        XCTAssertThrowsError(try FileSystem.mkdir(root)) { XCTAssertEqual(($0 as! FileSystemError).errno, .fileExists) }
    }

    func testAtomicWritesLeaveAWholeFileAndNoTemporaryName() throws {
        let staging = root + "/staging", path = root + "/record.json"
        try FileSystem.mkdir(staging)
        try AtomicFile.write(Data("one".utf8), to: path, staging: staging)
        try AtomicFile.write(Data("two".utf8), to: path, staging: staging)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("two".utf8))
        XCTAssertEqual(try FileSystem.list(staging), [])

        // The first writer wins; the same bytes again (an NFS retransmission) count as ours.
        let first = root + "/first.json"
        XCTAssertTrue(try AtomicFile.publishExclusive(Data("a".utf8), to: first, staging: staging))
        XCTAssertTrue(try AtomicFile.publishExclusive(Data("a".utf8), to: first, staging: staging))
        XCTAssertFalse(try AtomicFile.publishExclusive(Data("b".utf8), to: first, staging: staging))
        XCTAssertEqual(FileManager.default.contents(atPath: first), Data("a".utf8))
        XCTAssertEqual(try FileSystem.list(staging), [])

        // A named temporary beside the file (a stale one from a killed writer is replaced).
        let audio = root + "/audio.json", temp = audio + ".123.tmp"
        try Data("stale and longer".utf8).write(to: URL(fileURLWithPath: temp))
        try AtomicFile.write(Data("new".utf8), to: audio, temp: temp)
        XCTAssertEqual(FileManager.default.contents(atPath: audio), Data("new".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp))

        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: root + "/missing/r.json", staging: staging)) { error in
            let e = error as! EncodaError
            XCTAssertEqual(e.code, .workDirectory)
            XCTAssertTrue(e.message.hasPrefix("cannot publish \(root)/missing/r.json: rename \(staging)/"), e.message)
            XCTAssertTrue(e.message.hasSuffix(".tmp → \(root)/missing/r.json: No such file or directory"), e.message)
        }
        XCTAssertEqual(try FileSystem.list(staging), [], "a temporary that could not be published is removed")
    }

    func testJSONReadErrorsNameTheFile() throws {
        XCTAssertThrowsError(try JSONCoding.read([Int].self, from: root + "/none.json", what: "lease")) { error in
            let e = error as! EncodaError
            XCTAssertEqual(e.code, .stateCorrupt)
            XCTAssertEqual(e.message, "cannot read lease: open \(root)/none.json: No such file or directory")
        }
        try Data("[1,2]".utf8).write(to: URL(fileURLWithPath: root + "/ok.json"))
        XCTAssertEqual(try JSONCoding.read([Int].self, from: root + "/ok.json", what: "lease"), [1, 2])
    }

    /// On a full file system (a 64 KiB tmpfs) a durable write fails with ENOSPC, the error names the file, and
    /// AtomicFile removes its temporary and says to free space.
    func testAFullFileSystemIsReportedWithTheFileAndTheReason() throws {
        let mount = root + "/small"
        try FileSystem.mkdir(mount)
        let mounted = Process.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount])
        guard mounted == 0 else { throw XCTSkip("cannot mount a tmpfs here (mount exited \(mounted))") }
        defer { _ = Process.run("/usr/bin/umount", [mount]) }

        let big = Data(repeating: 1, count: 256 * 1024)
        let path = mount + "/big"
        XCTAssertThrowsError(try FileSystem.writeDurably(big, to: path, flags: O_CREAT | O_WRONLY)) { error in
            let e = error as! FileSystemError
            XCTAssertEqual(e.errno, .noSpace)
            XCTAssertEqual(e.path, path)
            XCTAssertEqual("\(e)", "\(e.operation.rawValue) \(path): No space left on device")
        }
        try FileSystem.unlink(path)

        let staging = mount + "/staging"
        try FileSystem.mkdir(staging)
        XCTAssertThrowsError(try AtomicFile.write(big, to: mount + "/r.json", staging: staging)) { error in
            let e = error as! EncodaError
            XCTAssertEqual(e.code, .workDirectory)
            XCTAssertTrue(e.message.contains("No space left on device; check free space in TMP"), e.message)
        }
        XCTAssertEqual(try FileSystem.list(staging), [], "the torn temporary is removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: mount + "/r.json"))
    }
}

private extension Process {
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
