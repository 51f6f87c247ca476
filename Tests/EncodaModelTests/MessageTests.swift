import EncodaModel
import XCTest

/// Option strings passed on to the encoders, and the one-line summary of failed chunks.
final class EncoderParamsTests: XCTestCase {
    private func pairs(_ text: String) throws -> [String] { try EncoderParams.parse(text).map(\.description) }

    func testKeyValueSpellingsAreReadAsBefore() throws {
        XCTAssertEqual(try pairs("film-grain=8:tune=0"), ["film-grain=8", "tune=0"])
        XCTAssertEqual(try pairs("film-grain=8 tune=0\nenable-overlays=1"), ["film-grain=8", "tune=0", "enable-overlays=1"])
        XCTAssertEqual(try pairs("bframes=5:no-mbtree"), ["bframes=5", "no-mbtree=1"])
        XCTAssertEqual(try pairs("--film-grain=8"), ["film-grain=8"])
        XCTAssertEqual(try pairs("crop-rect=1,2,3,4"), ["crop-rect=1,2,3,4"], "commas stay in the value")
        XCTAssertEqual(try pairs(""), [])
    }

    func testAv1anSpellingIsReadAsKeyValue() throws {
        XCTAssertEqual(try pairs("--film-grain 8 --tune 0"), ["film-grain=8", "tune=0"])
        XCTAssertEqual(try pairs("--bframes 5 --no-mbtree --ref 3"), ["bframes=5", "no-mbtree=1", "ref=3"])
        XCTAssertEqual(try pairs("--qm-min -1 --keyint 240"), ["qm-min=-1", "keyint=240"], "a negative number is a value")
        XCTAssertEqual(try pairs("--preset-free-flag"), ["preset-free-flag=1"])
        let p = try EncoderParams.parse("--film-grain 8")
        XCTAssertEqual(p, [EncoderParam(key: "film-grain", value: "8", written: "--film-grain 8")], "the message can show how it was written")
        XCTAssertEqual(EncoderParams.canonical(try EncoderParams.parse("--film-grain 8 --tune 0")), "film-grain=8:tune=0")
    }

    func testValuesWithoutNamesAreRefusedWithTheRightSpelling() {
        XCTAssertThrowsError(try EncoderParams.parse("film-grain 8")) { e in
            let m = (e as? EncodaError)?.message ?? ""
            XCTAssertTrue(m.contains("write film-grain=8"), m)
            XCTAssertEqual((e as? EncodaError)?.code, .usage)
        }
        XCTAssertThrowsError(try EncoderParams.parse("8")) { e in
            XCTAssertTrue(((e as? EncodaError)?.message ?? "").contains("key=value"))
        }
        XCTAssertThrowsError(try EncoderParams.parse("=8")) { e in
            XCTAssertTrue(((e as? EncodaError)?.message ?? "").contains("has no name"))
        }
        XCTAssertThrowsError(try EncoderParams.parse("tune=")) { e in
            XCTAssertTrue(((e as? EncodaError)?.message ?? "").contains("write tune=VALUE"))
        }
        XCTAssertThrowsError(try EncoderParams.parse("b=1:=2", option: "--audio-params")) { e in
            let m = (e as? EncodaError)?.message ?? ""
            XCTAssertTrue(m.hasPrefix("--audio-params"), "names the option given: \(m)")
        }
    }
}

final class FailureSummaryTests: XCTestCase {
    func testTheSameErrorIsToldOnceWithCompactChunkIds() {
        let error = "failed 3 times; last error: SVT-AV1 refused the configuration (EB_ErrorBadParameter, 0x80001005)"
        let failures = Dictionary(uniqueKeysWithValues: (0..<14).map { ($0, error) })
        let line = FailureSummary.line(failures)
        XCTAssertEqual(line, "14 chunks (00000-00013) failed: " + error)
        XCTAssertFalse(line.contains("\n"))
    }

    func testAChunksOwnNameDoesNotSplitTheGroup() {
        let failures = [3: "chunk 00003: encoder failure forced", 4: "chunk 00004: encoder failure forced",
                        9: "chunk 00009: encoder failure forced"]
        XCTAssertEqual(FailureSummary.line(failures), "3 chunks (00003-00004, 00009) failed: the chunk: encoder failure forced")
    }

    func testOtherErrorsAreCountedAfterTheFirst() {
        var failures = Dictionary(uniqueKeysWithValues: (0..<5).map { ($0, "error A") })
        failures[7] = "error B"
        failures[8] = "error C"
        failures[9] = "error B"
        let line = FailureSummary.line(failures)
        XCTAssertEqual(line, "5 chunks (00000-00004) failed: error A; 3 more chunks (00007-00009) failed with 2 other errors, the first: error B")
        XCTAssertEqual(FailureSummary.line([2: "x", 5: "y"]), "1 chunk (00002) failed: x; 1 more chunk (00005) failed with another error: y")
    }

    func testLongListsAndErrorsStayShort() {
        let failures = Dictionary(uniqueKeysWithValues: stride(from: 0, to: 400, by: 2).map { ($0, String(repeating: "e", count: 2000)) })
        let line = FailureSummary.line(failures)
        XCTAssertLessThan(line.count, 600, line)
        XCTAssertTrue(line.hasPrefix("200 chunks (00000, 00002, "), line)
        XCTAssertTrue(line.contains("… (200 in all)"), line)
        XCTAssertEqual(FailureSummary.idList([5, 1, 2, 3, 9]), "00001-00003, 00005, 00009")
    }
}

final class SettingsMessageTests: XCTestCase {
    /// --lossless stands for crf 0, which av1 does not take; the message names --lossless, the option given.
    func testLosslessWithAV1NamesLossless() {
        let s = EncodeSettings(encoder: .av1, preset: "8", crf: 0, lossless: true, pixelFormat: .yuv420p, encoderParams: "")
        XCTAssertThrowsError(try s.validate()) { e in
            let m = (e as? EncodaError)?.message ?? ""
            XCTAssertTrue(m.contains("--lossless needs --encoder h264"), m)
            XCTAssertFalse(m.contains("--crf"), m)
        }
        let crf = EncodeSettings(encoder: .av1, preset: "8", crf: 70, lossless: false, pixelFormat: .yuv420p, encoderParams: "")
        XCTAssertThrowsError(try crf.validate()) { e in
            XCTAssertEqual((e as? EncodaError)?.message, "--crf 70 is out of range for av1; use 1…63")
        }
    }
}
