import EncodaSystem
import Foundation
import SystemPackage
import XCTest

/// The funnel's removals and its first-writer-wins link: which errno each one takes as an answer (ENOENT: already
/// gone; EEXIST: the name is taken) and that every other failure names the operation, the path and the errno.
final class FileSystemRemovalTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "encoda-removal-\(UUID().uuidString)"
        try FileSystem.mkdir(root)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func file(_ name: String, _ text: String = "") throws -> String {
        let path = root + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func exists(_ path: String) -> Bool { (try? FileSystem.stat(path, followLink: false)) != nil }

    func testRmdirRemovesOnlyAnEmptyFolder() throws {
        let empty = root + "/empty", full = root + "/full"
        try FileSystem.mkdir(empty)
        try FileSystem.mkdir(full)
        _ = try file("full/user-file")
        try FileSystem.rmdir(empty)
        XCTAssertFalse(exists(empty))
        XCTAssertThrowsError(try FileSystem.rmdir(full)) { error in
            let e = error as! FileSystemError
            XCTAssertEqual(e.operation, .rmdir)
            XCTAssertEqual(e.errno, .directoryNotEmpty)
            XCTAssertEqual("\(e)", "rmdir \(full): Directory not empty")
        }
        XCTAssertTrue(exists(full + "/user-file"))
        XCTAssertThrowsError(try FileSystem.rmdir(empty)) { XCTAssertEqual("\($0)", "rmdir \(empty): No such file or directory") }
    }

    func testUnlinkIfPresentTakesAMissingNameAsDoneAndThrowsTheRest() throws {
        let path = try file("x")
        XCTAssertTrue(try FileSystem.unlinkIfPresent(path))
        XCTAssertFalse(exists(path))
        XCTAssertFalse(try FileSystem.unlinkIfPresent(path), "gone already: nothing to do, no error")
        let folder = root + "/folder"
        try FileSystem.mkdir(folder)
        XCTAssertThrowsError(try FileSystem.unlinkIfPresent(folder)) { error in
            let e = error as! FileSystemError
            XCTAssertEqual(e.operation, .unlink)
            XCTAssertEqual(e.path, folder)
            XCTAssertEqual(e.errno, .isDirectory)
        }
        XCTAssertTrue(exists(folder))
    }

    func testUnlinkEntryRemovesOnlyWhatItAcceptsAndNeverALinksTarget() throws {
        let plain = try file("plain", "12345")
        let removed = try FileSystem.unlinkEntry(plain, if: { $0.isRegularFile })
        XCTAssertEqual(removed?.st_size, 5, "the removed entry's attributes, for a tally")
        XCTAssertFalse(exists(plain))
        XCTAssertNil(try FileSystem.unlinkEntry(plain, if: { _ in true }), "gone: nil, no error")

        let folder = root + "/folder"
        try FileSystem.mkdir(folder)
        XCTAssertNil(try FileSystem.unlinkEntry(folder, if: { !$0.isFolder }))
        XCTAssertTrue(exists(folder))

        // A symbolic link is judged and removed as itself: its target stays.
        let target = try file("target", "kept")
        let link = root + "/link"
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertNil(try FileSystem.unlinkEntry(link, if: { $0.isRegularFile }), "a link is not a regular file")
        XCTAssertTrue(exists(link))
        XCTAssertNotNil(try FileSystem.unlinkEntry(link, if: { !$0.isFolder }))
        XCTAssertFalse(exists(link))
        XCTAssertEqual(FileManager.default.contents(atPath: target), Data("kept".utf8))

        // Any other failure is thrown with the operation and the path.
        XCTAssertThrowsError(try FileSystem.unlinkEntry(target + "/inside", if: { _ in true })) { error in
            XCTAssertEqual("\(error)", "stat \(target)/inside: Not a directory")
        }
    }

    func testLinkUnlessTakenLetsTheFirstNameWin() throws {
        let first = try file("first", "one"), second = try file("second", "two")
        let name = root + "/name"
        XCTAssertTrue(try FileSystem.linkUnlessTaken(first, to: name))
        XCTAssertEqual(try FileSystem.stat(name).st_ino, try FileSystem.stat(first).st_ino)
        XCTAssertFalse(try FileSystem.linkUnlessTaken(second, to: name), "taken: EEXIST is the answer, not a failure")
        XCTAssertEqual(FileManager.default.contents(atPath: name), Data("one".utf8))
        let missing = root + "/missing"
        XCTAssertThrowsError(try FileSystem.linkUnlessTaken(missing, to: root + "/other")) { error in
            let e = error as! FileSystemError
            XCTAssertEqual(e.operation, .link)
            XCTAssertEqual(e.errno, .noSuchFileOrDirectory)
            XCTAssertEqual("\(e)", "link \(missing) → \(root)/other: No such file or directory")
        }
    }

    func testAnErrnosReasonIsTheCLibrarysText() {
        XCTAssertEqual(FileSystemError.reason(.noSpace), "No space left on device")
        XCTAssertEqual(FileSystemError(.write, "/x", errno: .noSpace).reason, FileSystemError.reason(.noSpace))
    }
}
