import EncodaModel
import Foundation
import XCTest

/// `--start`, `--end`, `--duration`: frame numbers, seconds and SMPTE timecode (drop-frame at 29.97 and 59.94) turned
/// into source frames, end exclusive; out-of-range and reversed ranges refused in the unit the user wrote.
final class TrimTests: XCTestCase {
    private let ntsc = Rational(30000, 1001)

    func testPointsAreParsedInTheirThreeForms() throws {
        XCTAssertEqual(TrimPoint(parsing: "240"), .frame(240))
        XCTAssertEqual(TrimPoint(parsing: "9.6s"), .seconds(9.6))
        XCTAssertEqual(TrimPoint(parsing: "0s"), .seconds(0))
        XCTAssertEqual(TrimPoint(parsing: "00:00:09:15"), .timecode(SMPTETimecode(hours: 0, minutes: 0, seconds: 9, frames: 15, dropFrame: false)))
        XCTAssertEqual(TrimPoint(parsing: "00:01:00;02"), .timecode(SMPTETimecode(hours: 0, minutes: 1, seconds: 0, frames: 2, dropFrame: true)))
        XCTAssertEqual(TrimPoint(parsing: "00;01;00;02"), .timecode(SMPTETimecode(hours: 0, minutes: 1, seconds: 0, frames: 2, dropFrame: true)))
        XCTAssertEqual(TrimPoint(parsing: "00:01:00.02"), .timecode(SMPTETimecode(hours: 0, minutes: 1, seconds: 0, frames: 2, dropFrame: true)))
        for bad in ["", "-5", "9.6", "abc", "1e3s", "00:00:60:00", "00:61:00:00", "00:00:09", "0:0:0:0:0", "00.00.09.15", "-1s"] {
            XCTAssertNil(TrimPoint(parsing: bad), bad)
        }
    }

    func testNonDropTimecodeCountsWholeFramesPerSecond() throws {
        XCTAssertEqual(try SMPTETimecode(parsing: "00:00:09:15")!.frameNumber(rate: Rational(25, 1), option: "--start"), 240)
        XCTAssertEqual(try SMPTETimecode(parsing: "01:00:00:00")!.frameNumber(rate: Rational(24000, 1001), option: "--start"), 86400)
        // Non-drop at 29.97 counts 30 labels a second, as the clock drifts.
        XCTAssertEqual(try SMPTETimecode(parsing: "00:10:00:00")!.frameNumber(rate: ntsc, option: "--start"), 18000)
        XCTAssertThrowsError(try SMPTETimecode(parsing: "00:00:01:25")!.frameNumber(rate: Rational(25, 1), option: "--end")) { e in
            XCTAssertTrue("\(e)".contains("frame 25 does not exist at 25 fps"), "\(e)")
        }
    }

    func testDropFrameTimecodeSkipsTwoLabelsAMinuteExceptEveryTenth() throws {
        func f(_ t: String, _ r: Rational) throws -> Int { try SMPTETimecode(parsing: t)!.frameNumber(rate: r, option: "--start") }
        XCTAssertEqual(try f("00:00:59;29", ntsc), 1799)
        XCTAssertEqual(try f("00:01:00;02", ntsc), 1800)
        XCTAssertEqual(try f("00:10:00;00", ntsc), 17982)
        XCTAssertEqual(try f("00:09:59;29", ntsc), 17981)
        XCTAssertEqual(try f("01:00:00;00", ntsc), 107892)
        XCTAssertEqual(try f("00:01:00;04", Rational(60000, 1001)), 3600, "59.94 skips four labels")
        XCTAssertEqual(try f("00:10:00;00", Rational(60000, 1001)), 35964)
        XCTAssertThrowsError(try f("00:01:00;00", ntsc)) { XCTAssertTrue("\($0)".contains("does not exist in drop-frame"), "\($0)") }
        XCTAssertNoThrow(try f("00:10:00;00", ntsc), "every tenth minute keeps 00 and 01")
        XCTAssertThrowsError(try f("00:00:01;00", Rational(25, 1))) { XCTAssertTrue("\($0)".contains("only at 29.97 and 59.94"), "\($0)") }
        // Labels back from frames: every frame's label names it again.
        for rate in [ntsc, Rational(60000, 1001)] {
            for frame in [0, 1, 1799, 1800, 1801, 17981, 17982, 17983, 107892, 123456] {
                let label = SMPTETimecode.label(frame: frame, rate: rate, dropFrame: true)
                XCTAssertEqual(try label.frameNumber(rate: rate, option: "--start"), frame, "\(label) at \(rate)")
            }
        }
        XCTAssertEqual(SMPTETimecode.label(frame: 1800, rate: ntsc, dropFrame: true).description, "00:01:00;02")
        XCTAssertEqual(SMPTETimecode.label(frame: 240, rate: Rational(25, 1), dropFrame: false).description, "00:00:09:15")
    }

    /// 10 frames at 25 fps, the third one late (variable frame rate): times 0, .04, .12, .16 … in a 1/1000 time base.
    private let vfr = FrameIndex(pts: [1000, 1040, 1120, 1160, 1200, 1240, 1280, 1320, 1360, 1400],
                                 durations: [40, 80, 40, 40, 40, 40, 40, 40, 40, 40], keyframes: [0])

    private func resolve(_ start: String?, _ end: String?, duration: String? = nil, index: FrameIndex? = nil, rate: Rational = Rational(25, 1)) throws -> FrameRange {
        try TrimRequest(start: start, end: end, duration: duration)!.resolve(index: index ?? vfr, timeBase: Rational(1, 1000), rate: rate)
    }

    func testSecondsMapToTheFirstFrameAtOrAfterThemThroughTheIndex() throws {
        XCTAssertEqual(try resolve("0.08s", nil), FrameRange(2, 10), "no frame at 0.08 s: the next one, at 0.12 s")
        XCTAssertEqual(try resolve("0.12s", "0.2s"), FrameRange(2, 4))
        XCTAssertEqual(try resolve("2", "5"), FrameRange(2, 5))
        XCTAssertEqual(try resolve(nil, "0.44s"), FrameRange(0, 10), "the end at INPUT's length keeps the last frame")
        XCTAssertEqual(try resolve("3", nil, duration: "4"), FrameRange(3, 7))
        XCTAssertEqual(try resolve("0.12s", nil, duration: "0.08s"), FrameRange(2, 4))
        XCTAssertEqual(try resolve("00:00:00:02", "00:00:00:05"), FrameRange(2, 5))
        XCTAssertNil(try TrimRequest(start: nil, end: nil, duration: nil))
    }

    func testRangesBeyondInputOrReversedAreUsageErrorsInTheUnitGiven() throws {
        func message(_ start: String?, _ end: String?, duration: String? = nil) -> String {
            do { _ = try resolve(start, end, duration: duration); return "no error" } catch let e as EncodaError {
                XCTAssertEqual(e.exitStatus, 64); return e.message
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message("10", nil).contains("INPUT has 10 frames (0–9)"), message("10", nil))
        XCTAssertTrue(message(nil, "11").contains("INPUT has 10 frames"), message(nil, "11"))
        XCTAssertTrue(message("1s", nil).contains("INPUT is 0.44 s long"), message("1s", nil))
        // Inside INPUT's length but after its last frame began: where that frame is.
        XCTAssertTrue(message("0.43s", nil).contains("is after INPUT's last frame, which starts at"), message("0.43s", nil))
        XCTAssertTrue(message("0.43s", nil).contains("INPUT is 0.44 s long"), message("0.43s", nil))
        XCTAssertTrue(message(nil, "00:00:01:00").contains("INPUT is 00:00:00:10 long"), message(nil, "00:00:01:00"))
        XCTAssertTrue(message("5", nil, duration: "6").contains("INPUT has 10 frames"), message("5", nil, duration: "6"))
        XCTAssertTrue(message("5", "5").contains("empty or reversed"))
        XCTAssertTrue(message("0.2s", "3").contains("frame 3 is not after frame 4"), message("0.2s", "3"))
        // Reversed in one unit, or --end with --duration: refused before INPUT is read.
        XCTAssertThrowsError(try TrimRequest(start: "20", end: "10", duration: nil))
        XCTAssertThrowsError(try TrimRequest(start: "2s", end: "1.5s", duration: nil))
        XCTAssertThrowsError(try TrimRequest(start: "00:00:02:00", end: "00:00:01:00", duration: nil))
        XCTAssertThrowsError(try TrimRequest(start: nil, end: "10", duration: "3"))
        XCTAssertThrowsError(try TrimRequest(start: nil, end: nil, duration: "0"))
        XCTAssertThrowsError(try TrimRequest(start: "ten", end: nil, duration: nil)) { XCTAssertTrue("\($0)".contains("not a frame number")) }
    }

    func testDropFrameLengthIsSaidInDropFrameTimecode() throws {
        let n = 1900
        let index = FrameIndex(pts: (0..<n).map { Int64($0 * 1001) }, durations: Array(repeating: 1001, count: n), keyframes: [0])
        do {
            _ = try TrimRequest(start: nil, end: "00:02:00;04", duration: nil)!.resolve(index: index, timeBase: Rational(1, 30000), rate: ntsc)
            XCTFail("beyond the end")
        } catch let e as EncodaError {
            XCTAssertTrue(e.message.contains("INPUT is 00:01:03;12 long (1900 frames at 29.97 fps)"), e.message)
        }
        XCTAssertEqual(try TrimRequest(start: "00:01:00;02", end: nil, duration: nil)!.resolve(index: index, timeBase: Rational(1, 30000), rate: ntsc),
                       FrameRange(1800, 1900))
    }
}
