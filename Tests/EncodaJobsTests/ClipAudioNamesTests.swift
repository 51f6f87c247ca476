import EncodaJobs
import EncodaModel
import Foundation
import XCTest

/// `--mux` with a timeline keeps each clip's prepared audio in TMP/audio/clip-NNNN: removing TMP's contents by
/// name (`clean`, `--restart`, the end of a job) takes those folders and encoda's files in them, and nothing else.
final class ClipAudioNamesTests: XCTestCase {
    private var root = ""
    private var dir: WorkDirectory { WorkDirectory(root) }

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "encoda-clipaudio-\(UUID().uuidString)"
        try dir.prepare()
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func write(_ path: String) {
        FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
    }

    func testClipFoldersAreNamedFromOneAndRecognised() {
        XCTAssertEqual(OwnNames.clipAudioFolder(0), "clip-0001")
        XCTAssertEqual(OwnNames.clipAudioFolder(12_344), "clip-12345")
        XCTAssertEqual(dir.clipAudio(2), root + "/audio/clip-0003")
        for own in ["clip-0001", "clip-12345"] { XCTAssertTrue(OwnNames.isClipAudioFolder(own), own) }
        for foreign in ["clip-1", "clip-", "clip-00a1", "clips-0001", "clip-0001.bak", "Clip-0001"] {
            XCTAssertFalse(OwnNames.isClipAudioFolder(foreign), foreign)
        }
    }

    func testRemovingTakesClipFoldersAndKeepsAUsersFiles() throws {
        try FileManager.default.createDirectory(atPath: dir.clipAudio(0), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.clipAudio(1), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.audio + "/clip-x", withIntermediateDirectories: true)
        write(dir.clipAudio(0) + "/audio.json")
        write(dir.clipAudio(0) + "/audio-1764650000-4242.packets")
        write(dir.clipAudio(1) + "/audio.json")
        write(dir.clipAudio(1) + "/mine.wav")
        let r = OwnFiles.remove(dir, folders: WorkDirectory.ownFolders, topLevel: OwnNames.topLevel, removeEmptyFolders: true, listForeign: true)
        XCTAssertEqual(r.files, 3)
        XCTAssertEqual(r.failed, [])
        XCTAssertEqual(r.kept.sorted(), ["audio/clip-0002/mine.wav", "audio/clip-x/"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.clipAudio(0)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.clipAudio(1)), ["mine.wav"])
    }
}
