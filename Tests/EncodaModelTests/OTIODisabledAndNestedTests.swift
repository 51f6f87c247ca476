import XCTest
@testable import EncodaModel

/// OTIO items an editor switched off (`enabled: false`) are gaps, and a nested stack shows its topmost video track,
/// cut to the stack's own source_range, at the stack's place on the track.
final class OTIODisabledAndNestedTests: XCTestCase {
    private func rt(_ v: Double) -> String { #"{"OTIO_SCHEMA": "RationalTime.1", "rate": 24, "value": \#(v)}"# }
    private func range(_ start: Double, _ d: Double) -> String {
        #"{"OTIO_SCHEMA": "TimeRange.1", "start_time": \#(rt(start)), "duration": \#(rt(d))}"#
    }
    private func clip(_ name: String, _ d: Double, enabled: Bool = true) -> String {
        #"{"OTIO_SCHEMA": "Clip.2", "name": "\#(name)", "enabled": \#(enabled), "source_range": \#(range(1000, d))}"#
    }
    private func track(_ name: String, _ items: [String]) -> String {
        #"{"OTIO_SCHEMA": "Track.1", "name": "\#(name)", "kind": "Video", "children": [\#(items.joined(separator: ","))]}"#
    }
    private func timeline(_ items: [String]) -> Data {
        Data(#"{"OTIO_SCHEMA": "Timeline.1", "global_start_time": \#(rt(0)), "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [\#(track("V1", items))]}}"#.utf8)
    }
    private let fps24 = Rational(24, 1)

    func testADisabledClipIsAGap() throws {
        let t = try OTIOReader.read(timeline([clip("A", 24), clip("muted", 12, enabled: false), clip("B", 24)]), file: "cut.otio")
        let clips = try t.resolve(inputRate: fps24, inputFrames: 60)
        XCTAssertEqual(clips.map(\.name), ["A", "B"])
        XCTAssertEqual(clips.map(\.range), [FrameRange(0, 24), FrameRange(36, 60)])
    }

    func testANestedStackShowsItsTopVideoTrackWithinItsRange() throws {
        // Inside the stack: V1 (under) and V2 (on top: inner1 0–20, gap 20–30, inner2 30–50). The stack shows its
        // frames 10–40 at timeline frames 24–54: inner1's 10–20, then inner2's 30–40.
        let nested = #"{"OTIO_SCHEMA": "Stack.1", "name": "nest", "source_range": \#(range(10, 30)), "children": [\#(track("V1", [clip("under", 50)])), \#(track("V2", [clip("inner1", 20), #"{"OTIO_SCHEMA": "Gap.1", "source_range": \#(range(0, 10))}"#, clip("inner2", 20)]))]}"#
        let t = try OTIOReader.read(timeline([clip("A", 24), nested, clip("B", 6)]), file: "cut.otio")
        let clips = try t.resolve(inputRate: fps24, inputFrames: 60)
        XCTAssertEqual(clips.map(\.name), ["A", "inner1", "inner2", "B"])
        XCTAssertEqual(clips.map(\.range), [FrameRange(0, 24), FrameRange(24, 34), FrameRange(44, 54), FrameRange(54, 60)])
        // Switched off, the whole stack is a gap.
        let off = nested.replacingOccurrences(of: #""name": "nest","#, with: #""name": "nest", "enabled": false,"#)
        let gap = try OTIOReader.read(timeline([clip("A", 24), off, clip("B", 6)]), file: "cut.otio").resolve(inputRate: fps24, inputFrames: 60)
        XCTAssertEqual(gap.map(\.range), [FrameRange(0, 24), FrameRange(54, 60)])
        // A track that starts with a nested stack, in a timeline without a start time, takes the rate of its clips.
        // Without a source_range the stack is as long as its longest track (50 frames) and shows all of it.
        let whole = nested.replacingOccurrences(of: #""source_range": \#(range(10, 30)), "#, with: "")
        let first = String(decoding: timeline([whole]), as: UTF8.self).replacingOccurrences(of: #""global_start_time": \#(rt(0)), "#, with: "")
        let t2 = try OTIOReader.read(Data(first.utf8), file: "cut.otio")
        XCTAssertEqual(t2.rate, 24)
        XCTAssertEqual(try t2.resolve(inputRate: fps24, inputFrames: 50).map(\.range), [FrameRange(0, 20), FrameRange(30, 50)])
    }
    /// A clip with no source_range is as long as its media's available range: Clip.1's `media_reference`, or
    /// Clip.2's active entry of `media_references` (as OpenTimelineIO 0.15 and later write it).
    func testAClipWithoutSourceRangeTakesItsMediasAvailableRange() throws {
        let media = #"{"OTIO_SCHEMA": "ExternalReference.1", "target_url": "file:///shots/b.mov", "available_range": \#(range(0, 12))}"#
        let clip2 = #"{"OTIO_SCHEMA": "Clip.2", "name": "B", "media_references": {"DEFAULT_MEDIA": \#(media)}, "active_media_reference_key": "DEFAULT_MEDIA"}"#
        let clip1 = #"{"OTIO_SCHEMA": "Clip.1", "name": "C", "media_reference": \#(media)}"#
        let t = try OTIOReader.read(timeline([clip("A", 24), clip2, clip1]), file: "cut.otio")
        let clips = try t.resolve(inputRate: fps24, inputFrames: 60)
        XCTAssertEqual(clips.map(\.name), ["A", "B", "C"])
        XCTAssertEqual(clips.map(\.range), [FrameRange(0, 24), FrameRange(24, 36), FrameRange(36, 48)])
        // Another active key: that media's range.
        let other = clip2.replacingOccurrences(of: #""active_media_reference_key": "DEFAULT_MEDIA""#, with: #""active_media_reference_key": "proxy""#)
            .replacingOccurrences(of: #"{"DEFAULT_MEDIA": "#, with: #"{"DEFAULT_MEDIA": {"OTIO_SCHEMA": "MissingReference.1"}, "proxy": "#)
        let p = try OTIOReader.read(timeline([other]), file: "cut.otio").resolve(inputRate: fps24, inputFrames: 60)
        XCTAssertEqual(p.map(\.range), [FrameRange(0, 12)])
    }
}
