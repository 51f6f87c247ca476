import EncodaModel
import Foundation
import XCTest

/// Image sequences as INPUT: printf patterns read as image2 reads them, a folder's one sequence found by its
/// names, gaps named, frame rates as people write them.
final class ImageSequenceTests: XCTestCase {

    func testPatternsAreReadAsImage2WritesNames() throws {
        let p = try XCTUnwrap(ImageSequence.parsePattern("shot_%06d.dpx"))
        XCTAssertEqual(p, .init(prefix: "shot_", width: 6, suffix: ".dpx"))
        XCTAssertEqual(p.name(86400), "shot_086400.dpx")
        XCTAssertEqual(p.name(1234567), "shot_1234567.dpx", "wider numbers are not cut")
        XCTAssertEqual(p.number(of: "shot_086400.dpx"), 86400)
        XCTAssertEqual(p.number(of: "shot_1234567.dpx"), 1234567)
        XCTAssertNil(p.number(of: "shot_86400.dpx"), "image2 would look for shot_086400.dpx")
        XCTAssertNil(p.number(of: "shot_0086400.dpx"), "a zero image2 would not write")
        XCTAssertNil(p.number(of: "shot_08640a.dpx"))
        XCTAssertEqual(p.fileExtension, "dpx")

        let plain = try XCTUnwrap(ImageSequence.parsePattern("f%d.png"))
        XCTAssertEqual(plain.width, 1)
        XCTAssertEqual(plain.number(of: "f10.png"), 10)
        XCTAssertNil(plain.number(of: "f010.png"))
        XCTAssertEqual(plain.printf, "f%d.png")

        let escaped = try XCTUnwrap(ImageSequence.parsePattern("100%%_%04d.tif"))
        XCTAssertEqual(escaped.prefix, "100%_")
        XCTAssertEqual(escaped.name(7), "100%_0007.tif")
        XCTAssertEqual(escaped.printf, "100%%_%04d.tif", "written back escaped for image2")

        XCTAssertNil(ImageSequence.parsePattern("frame_0001.png"))
        XCTAssertNil(ImageSequence.parsePattern("a_%04d_%04d.png"), "one number per name")
        XCTAssertNil(ImageSequence.parsePattern("a_%s.png"))
        XCTAssertTrue(ImageSequence.isPattern("/x/y/frame_%04d.png"))
        XCTAssertFalse(ImageSequence.isPattern("/x/%04d/clip.mov"), "only the file name is a pattern")
    }

    func testAFolderSequenceIsFoundByItsNames() {
        let names = (1...12).map { String(format: "A001_C002_%04d.dpx", $0) } + [".DS_Store", "notes.txt", "Thumbs.db", "A001_C002.xml"]
        let found = ImageSequence.sequences(among: names.shuffled())
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.pattern.printf, "A001_C002_%04d.dpx", "the last digit run is the frame number")
        XCTAssertEqual(found.first?.numbers, Array(1...12))

        // Unpadded numbering past 9 is one sequence.
        let unpadded = ImageSequence.sequences(among: (8...11).map { "f\($0).png" })
        XCTAssertEqual(unpadded.map(\.pattern.printf), ["f%d.png"])
        XCTAssertEqual(unpadded.first?.numbers, [8, 9, 10, 11])

        // Padded numbering that outgrows its width stays one sequence.
        let outgrown = ImageSequence.sequences(among: ["f_998.png", "f_999.png", "f_1000.png"])
        XCTAssertEqual(outgrown.map(\.pattern.printf), ["f_%03d.png"])

        // Two renders in one folder, and two numberings of one name, are told apart.
        let two = ImageSequence.sequences(among: ["a_0001.png", "a_0002.png", "b_01.tif", "b_02.tif"])
        XCTAssertEqual(two.map(\.pattern.printf), ["a_%04d.png", "b_%02d.tif"])
        let mixed = ImageSequence.sequences(among: ["c_1.png", "c_2.png", "c_01.png"])
        XCTAssertEqual(mixed.count, 2)

        XCTAssertTrue(ImageSequence.sequences(among: ["clip.mov", "still.jpg", "readme"]).isEmpty, "only PNG, TIFF and DPX")
    }

    func testAGapIsNamedWithTheFramesAround() {
        let p = ImageSequence.NamePattern(prefix: "frame_", width: 4, suffix: ".png")
        XCTAssertNoThrow(try ImageSequence(folder: "/s", name: p, numbers: Array(1...240)).checkContiguous())
        let one = ImageSequence(folder: "/s", name: p, numbers: Array(1...100) + Array(102...240))
        XCTAssertThrowsError(try one.checkContiguous()) { e in
            let err = e as! EncodaError
            XCTAssertEqual(err.exitStatus, 65)
            XCTAssertTrue(err.message.contains("frame_0101.png is missing: the sequence jumps from 0100 to 0102"), err.message)
        }
        let many = ImageSequence(folder: "/s", name: p, numbers: [1, 2, 6, 7, 9])
        XCTAssertThrowsError(try many.checkContiguous()) { e in
            let m = (e as! EncodaError).message
            XCTAssertTrue(m.contains("frame_0003.png to frame_0005.png (3 images) are missing: the sequence jumps from 0002 to 0006 (and 1 more gap)"), m)
        }
    }

    func testAnOrdinaryFileIsNoSequence() throws {
        let dir = NSTemporaryDirectory() + "imgseq-unit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/clip.mov", contents: Data([0]))
        FileManager.default.createFile(atPath: dir + "/odd%d.png", contents: Data([0]))
        XCTAssertNil(try ImageSequence.resolve(dir + "/clip.mov"))
        XCTAssertNil(try ImageSequence.resolve(dir + "/odd%d.png"), "a file really named so is that file")
        XCTAssertNil(try ImageSequence.resolve(dir + "/missing.mov"), "left to the media layer to report")
        for n in [3, 1, 2] { FileManager.default.createFile(atPath: dir + "/f_\(n).tiff", contents: Data([0])) }
        let seq = try XCTUnwrap(try ImageSequence.resolve(dir + "/f_%d.tiff"))
        XCTAssertEqual(seq.files, [1, 2, 3].map { dir + "/f_\($0).tiff" })
        XCTAssertEqual(try ImageSequence.resolve(dir + "/")?.pattern, dir + "/f_%d.tiff", "the folder's one sequence")
        XCTAssertThrowsError(try ImageSequence.resolve(dir + "/f_%d.exr")) { XCTAssertEqual(($0 as! EncodaError).exitStatus, 65) }
    }

    func testFrameRatesAsPeopleWriteThem() {
        XCTAssertEqual(FrameRateText.parse("24"), Rational(24, 1))
        XCTAssertEqual(FrameRateText.parse("23.976"), Rational(24000, 1001))
        XCTAssertEqual(FrameRateText.parse("29.97"), Rational(30000, 1001))
        XCTAssertEqual(FrameRateText.parse("59.94"), Rational(60000, 1001))
        XCTAssertEqual(FrameRateText.parse("30000/1001"), Rational(30000, 1001))
        XCTAssertEqual(FrameRateText.parse("50/2"), Rational(25, 1))
        XCTAssertEqual(FrameRateText.parse("12.5"), Rational(25, 2))
        for bad in ["0", "-24", "abc", "24/0", "1/0", "nan", "", "1e9"] { XCTAssertNil(FrameRateText.parse(bad), bad) }
        XCTAssertEqual(FrameRateText.format(Rational(24000, 1001)), "23.976")
        XCTAssertEqual(FrameRateText.format(Rational(25, 1)), "25")
        XCTAssertEqual(FrameRateText.format(Rational(25, 2)), "12.5")
    }
}
