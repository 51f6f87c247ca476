import XCTest
@testable import EncodaModel

/// Reading editorial timelines (OTIO JSON, CMX 3600 EDL) into clips of INPUT's frames, and naming their outputs.
final class TimelineTests: XCTestCase {
    private func rt(_ v: Double, _ r: Double = 24) -> String { #"{"OTIO_SCHEMA": "RationalTime.1", "rate": \#(r), "value": \#(v)}"# }
    private func range(_ d: Double, _ r: Double = 24) -> String {
        #"{"OTIO_SCHEMA": "TimeRange.1", "start_time": \#(rt(1000, r)), "duration": \#(rt(d, r))}"#
    }
    private func item(_ schema: String, _ name: String, _ d: Double, rate: Double = 24) -> String {
        #"{"OTIO_SCHEMA": "\#(schema)", "name": "\#(name)", "metadata": {"x": 1}, "effects": [], "source_range": \#(range(d, rate))}"#
    }
    private func otio(_ tracks: [(String, String, [String])], start: String = "null") -> Data {
        let t = tracks.map { #"{"OTIO_SCHEMA": "Track.1", "name": "\#($0.0)", "kind": "\#($0.1)", "children": [\#($0.2.joined(separator: ","))]}"# }
        return Data(#"{"OTIO_SCHEMA": "Timeline.1", "name": "cut", "global_start_time": \#(start), "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [\#(t.joined(separator: ","))]}}"#.utf8)
    }
    private let fps24 = Rational(24, 1)

    func testOTIOClipsGapsAndATransitionGoingWithTheClipItLeadsInto() throws {
        let transition = #"{"OTIO_SCHEMA": "Transition.1", "name": "dissolve", "in_offset": \#(rt(6)), "out_offset": \#(rt(6))}"#
        let data = otio([("A1", "Audio", [item("Clip.2", "music", 200)]),
                         ("V1", "Video", [item("Clip.2", "A", 36), item("Gap.1", "", 12), item("Clip.1", "B", 24), transition, item("Clip.2", "C", 24)]),
                         ("V2", "Video", [item("Clip.2", "title", 10)])])
        let t = try OTIOReader.read(data, file: "cut.otio")
        let clips = try t.resolve(inputRate: fps24, inputFrames: 96)
        XCTAssertEqual(clips.map(\.name), ["A", "B", "C"])
        // B ends where the dissolve starts, 6 frames before the cut at 72; C holds the dissolve.
        XCTAssertEqual(clips.map(\.range), [FrameRange(0, 36), FrameRange(48, 66), FrameRange(66, 96)])
        let v2 = try OTIOReader.read(data, file: "cut.otio", track: "V2").resolve(inputRate: fps24, inputFrames: 96)
        XCTAssertEqual(v2.map(\.range), [FrameRange(0, 10)])
        XCTAssertThrowsError(try OTIOReader.read(data, file: "cut.otio", track: "V9")) {
            XCTAssertTrue("\($0)".contains("no track named \"V9\"") && "\($0)".contains("\"V2\" (Video)"), "\($0)")
        }
    }

    func testOTIOGlobalStartAndTimelineStart() throws {
        let data = otio([("V1", "Video", [item("Clip.2", "A", 24), item("Clip.2", "B", 24)])], start: rt(86400))
        let t = try OTIOReader.read(data, file: "cut.otio")
        // Frame 0 of INPUT is the timeline's start (01:00:00:00) ...
        XCTAssertEqual(try t.resolve(inputRate: fps24, inputFrames: 48).map(\.range), [FrameRange(0, 24), FrameRange(24, 48)])
        // ... or a render that starts 12 frames earlier.
        let earlier = SMPTETimecode(parsing: "00:59:59:12")
        XCTAssertEqual(try t.resolve(inputRate: fps24, inputFrames: 60, timelineStart: earlier).map(\.range), [FrameRange(12, 36), FrameRange(36, 60)])
    }

    func testRateMismatchLongerTimelineAndEmptyClipAreClearErrorsNamingTheClip() throws {
        let t = try OTIOReader.read(otio([("V1", "Video", [item("Clip.2", "A", 24), item("Clip.2", "Last one", 48)])]), file: "cut.otio")
        XCTAssertThrowsError(try t.resolve(inputRate: Rational(25, 1), inputFrames: 100)) {
            let e = $0 as! EncodaError
            XCTAssertEqual(e.exitStatus, 65)
            XCTAssertTrue(e.message.contains("runs at 24 fps and INPUT at 25 fps"), e.message)
        }
        XCTAssertThrowsError(try t.resolve(inputRate: fps24, inputFrames: 60)) {
            let e = $0 as! EncodaError
            XCTAssertEqual(e.exitStatus, 65)
            XCTAssertTrue(e.message.contains("clip \"Last one\" ends at frame 72 but INPUT holds 60 frames"), e.message)
        }
        let empty = try OTIOReader.read(otio([("V1", "Video", [item("Clip.2", "A", 24), item("Clip.2", "Nothing", 0)])]), file: "cut.otio")
        XCTAssertThrowsError(try empty.resolve(inputRate: fps24, inputFrames: 60)) {
            XCTAssertTrue("\($0)".contains("clip \"Nothing\" holds no frames"), "\($0)")
        }
        XCTAssertThrowsError(try OTIOReader.read(Data("{\"OTIO_SCHEMA\": \"Clip.2\"}".utf8), file: "x.otio")) {
            XCTAssertEqual(($0 as! EncodaError).exitStatus, 64)
        }
    }

    private let edl = """
        TITLE: CUT
        FCM: NON-DROP FRAME

        001  AX       V     C        00:00:10:00 00:00:11:12 01:00:00:00 01:00:01:12
        * FROM CLIP NAME: Shot/1
        002  AX       A     C        00:00:10:00 00:00:14:00 01:00:00:00 01:00:04:00
        * FROM CLIP NAME: music.wav
        003  BL       V     C        00:00:00:00 00:00:00:12 01:00:01:12 01:00:02:00
        004  AX       V     C        00:00:20:00 00:00:21:00 01:00:02:00 01:00:03:00
        * FROM CLIP NAME: Shot:1
        005  AX       V     C        00:00:30:00 00:00:30:00 01:00:03:00 01:00:03:00
        005  AX       V     D    006 00:00:40:00 00:00:40:18 01:00:03:00 01:00:03:18
        * FROM CLIP NAME: Shot:1
        * TO CLIP NAME: Close up
        """

    func testEDLEventsNamesBlackAudioAndADissolve() throws {
        let t = try EDLReader.read(edl, file: "cut.edl")
        XCTAssertEqual(t.clips.map(\.name), ["Shot/1", "Shot:1", "Close up"])
        // Record times are 01:00:00:00-based: frame 0 of INPUT is the first event's record in, or --timeline-start.
        XCTAssertEqual(try t.resolve(inputRate: fps24, inputFrames: 90).map(\.range), [FrameRange(0, 36), FrameRange(48, 72), FrameRange(72, 90)])
        let start = SMPTETimecode(parsing: "00:59:59:00")
        XCTAssertEqual(try t.resolve(inputRate: fps24, inputFrames: 120, timelineStart: start).map(\.range).first, FrameRange(24, 60))
        XCTAssertThrowsError(try t.resolve(inputRate: fps24, inputFrames: 80)) {
            XCTAssertTrue("\($0)".contains("clip \"Close up\" ends at frame 90 but INPUT holds 80 frames"), "\($0)")
        }
        // At 25 fps the same timecode names other frames: 01:00:01:12 is frame 37.
        XCTAssertEqual(try t.resolve(inputRate: Rational(25, 1), inputFrames: 100).map(\.range).first, FrameRange(0, 37))
    }

    func testEDLDropFrame() throws {
        let text = "FCM: DROP FRAME\n001  AX  V  C  00:00:00;00 00:01:00;02 00:00:00;00 00:01:00;02\n* FROM CLIP NAME: long\n"
        let t = try EDLReader.read(text, file: "df.edl")
        // 00:01:00;02 is frame 1800 in drop-frame timecode (labels ;00 and ;01 of minute 1 do not exist).
        XCTAssertEqual(try t.resolve(inputRate: Rational(30000, 1001), inputFrames: 1800).map(\.range), [FrameRange(0, 1800)])
        XCTAssertThrowsError(try t.resolve(inputRate: Rational(25, 1), inputFrames: 2000)) {
            XCTAssertTrue("\($0)".contains("drop-frame"), "\($0)")
        }
        XCTAssertThrowsError(try EDLReader.read("001  AX  V  C  00:00:00:00 00:00:01:00 01:00:00:00\n", file: "bad.edl")) {
            XCTAssertTrue("\($0)".contains("line 1 is not a CMX 3600 event"), "\($0)")
        }
    }

    func testOutputNamesAreSafeDistinctAndIndexed() throws {
        XCTAssertEqual(ClipOutputNames.safe("Shot/1"), "Shot_1")
        XCTAssertEqual(ClipOutputNames.safe("../../etc/passwd"), "etc_passwd")
        XCTAssertEqual(ClipOutputNames.safe("  "), "clip")
        // Letters of any script are kept (as NFC), other symbols are not.
        XCTAssertEqual(ClipOutputNames.safe("Ünïcödé ‹é>"), "Ünïcödé_é")
        XCTAssertEqual(ClipOutputNames.safe("Cafe\u{301} 夜景"), "Café_夜景")
        XCTAssertEqual(ClipOutputNames.distinct(["Étude", "étude"]), ["Étude", "étude_2"])
        XCTAssertEqual(ClipOutputNames.distinct(["Shot/1", "Shot:1", "shot 1", "Shot_1_2"]), ["Shot_1", "Shot_1_2", "shot_1_3", "Shot_1_2_2"])
        let names = (1...10).map { "c\($0)" }
        let paths = ClipOutputNames.paths(pattern: "r/{index}_{clip}.mp4", clipNames: names)
        XCTAssertEqual(paths.first, "r/01_c1.mp4"); XCTAssertEqual(paths.last, "r/10_c10.mp4")
        XCTAssertThrowsError(try ClipOutputNames.check(pattern: "out.mp4", option: "--otio"))
    }
}

extension TimelineTests {
    func testEDLEventsOutOfRecordOrderKeepTheirOrderAndMayNotOverlap() throws {
        let text = "001  A  V  C  00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00\n* FROM CLIP NAME: second\n001  A  V  C  00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
        XCTAssertEqual(try EDLReader.read(text, file: "o.edl").resolve(inputRate: fps24, inputFrames: 48).map(\.range),
                       [FrameRange(24, 48), FrameRange(0, 24)])
        let overlap = "001  A  V  C  00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n* FROM CLIP NAME: one\n002  A  V  C  00:00:00:00 00:00:01:00 01:00:00:12 01:00:01:12\n* FROM CLIP NAME: two\n"
        XCTAssertThrowsError(try EDLReader.read(overlap, file: "o.edl").resolve(inputRate: fps24, inputFrames: 48)) {
            XCTAssertTrue("\($0)".contains("clip \"two\" overlaps clip \"one\""), "\($0)")
        }
    }
}
