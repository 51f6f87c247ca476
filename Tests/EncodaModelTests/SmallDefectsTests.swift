import EncodaModel
import Foundation
import XCTest

/// Pure logic behind the Trust issue's small defects: Av1an scenes files with zone overrides, the notes on what
/// OUTPUT leaves out, and no upscaling.
final class SmallDefectsModelTests: XCTestCase {

    // MARK: Av1an scenes

    func testAv1anZoneOverridesAndSplitScenesAreReadAndCounted() throws {
        let json = #"""
            {"frames":300,"scenes":[
              {"start_frame":0,"end_frame":120,"zone_overrides":{"encoder":"aom","passes":2,"video_params":["--cq-level=20"],"photon_noise":4,"extra_splits_len":60,"min_scene_len":12}},
              {"start_frame":120,"end_frame":200,"zone_overrides":null},
              {"start_frame":200,"end_frame":300}],
             "split_scenes":[{"start_frame":0,"end_frame":60,"zone_overrides":null},{"start_frame":60,"end_frame":120,"zone_overrides":null},
              {"start_frame":120,"end_frame":200,"zone_overrides":null},{"start_frame":200,"end_frame":300,"zone_overrides":null}]}
            """#
        let scenes = try JSONDecoder().decode(Av1anScenes.self, from: Data(json.utf8))
        XCTAssertEqual(scenes.scenesWithZoneOverrides, 1)
        XCTAssertEqual(scenes.split_scenes?.count, 4)
        // The cuts come from "scenes"; Av1an's own splits are not cuts.
        XCTAssertEqual(try scenes.cuts(frameCount: 300), [120, 200])
    }

    func testExportWritesSplitScenesOnlyWhenGiven() throws {
        let shots = [FrameRange(0, 100), FrameRange(100, 250)]
        let split = [FrameRange(0, 50), FrameRange(50, 100), FrameRange(100, 250)]
        let with = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Av1anScenes(shots: shots, splitShots: split, frames: 250))) as! [String: Any]
        XCTAssertEqual((with["split_scenes"] as? [Any])?.count, 3)
        XCTAssertTrue((with["scenes"] as! [[String: Any]]).allSatisfy { $0["zone_overrides"] is NSNull })
        let without = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Av1anScenes(shots: shots, frames: 250))) as! [String: Any]
        XCTAssertNil(without["split_scenes"])
        // What encoda writes, encoda reads back to the same cuts.
        let back = try JSONDecoder().decode(Av1anScenes.self, from: JSONEncoder().encode(Av1anScenes(shots: shots, splitShots: split, frames: 250)))
        XCTAssertEqual(try back.cuts(frameCount: 250), [100])
        XCTAssertEqual(back.scenesWithZoneOverrides, 0)
    }

    // MARK: what OUTPUT leaves out

    private func stream(_ i: Int, _ kind: MuxStream.Kind, _ codec: String, _ action: StreamAction, detail: String = "") -> MuxStream {
        MuxStream(index: i, kind: kind, codec: codec, language: nil, title: nil, detail: detail, action: action)
    }

    func testNotesNameWhatTheContainerCannotHold() {
        let drop = StreamAction.drop(reason: "x")
        let plan = MuxPlan(streams: [stream(1, .audio, "aac", .copy), stream(2, .subtitle, "ass", drop), stream(3, .subtitle, "subrip", drop),
                                     stream(4, .subtitle, "mov_text", .copy), stream(5, .attachment, "ttf", drop)], chapters: 2, muxer: "mp4")
        XCTAssertEqual(plan.leftOutNotes(muxed: true, outputExtension: "mp4", holdsOtherStreams: true),
                       ["OUTPUT .mp4 cannot hold the 2 subtitle streams (ASS, SubRip) and 1 font attachment of INPUT; they are left out (use .mkv to keep them)"])
        let one = MuxPlan(streams: [stream(1, .subtitle, "ass", drop)], chapters: 0, muxer: "mov")
        XCTAssertEqual(one.leftOutNotes(muxed: true, outputExtension: "mov", holdsOtherStreams: true),
                       ["OUTPUT .mov cannot hold the ASS subtitle stream of INPUT; it is left out (use .mkv to keep it)"])
        let fonts = MuxPlan(streams: [stream(1, .attachment, "ttf", drop), stream(2, .attachment, "otf", drop)], chapters: 0, muxer: "webm")
        XCTAssertEqual(fonts.leftOutNotes(muxed: true, outputExtension: "webm", holdsOtherStreams: true),
                       ["OUTPUT .webm cannot hold the 2 font attachments of INPUT; they are left out (use .mkv to keep them)"])
        let carried = MuxPlan(streams: [stream(1, .audio, "aac", .copy), stream(2, .subtitle, "ass", .copy)], chapters: 3, muxer: "matroska")
        XCTAssertEqual(carried.leftOutNotes(muxed: true, outputExtension: "mkv", holdsOtherStreams: true), [])
        // --no-audio was asked for: not mentioned.
        let noAudio = MuxPlan(streams: [stream(1, .audio, "aac", .drop(reason: "--no-audio"))], chapters: 0, muxer: "matroska")
        XCTAssertEqual(noAudio.leftOutNotes(muxed: true, outputExtension: "mkv", holdsOtherStreams: true), [])
    }

    func testNotesWithoutMuxAndForOtherVideoAndDataStreams() {
        let off = StreamAction.drop(reason: "no --mux")
        let video = StreamAction.drop(reason: "encoda writes one video stream")
        let plan = MuxPlan(streams: [stream(1, .video, "mjpeg", video, detail: "cover picture"), stream(2, .audio, "aac", off),
                                     stream(3, .subtitle, "ass", off), stream(4, .data, "none", .drop(reason: "data stream"))],
                           chapters: 1, muxer: "mp4")
        XCTAssertEqual(plan.leftOutNotes(muxed: false, outputExtension: "mp4", holdsOtherStreams: true), [
            "INPUT's cover picture (#1, mjpeg) is not encoded; encoda encodes the first video stream only",
            "INPUT's data stream (#4, none) is left out; encoda does not carry data streams (timecode, metadata tracks)",
            "INPUT has 1 audio stream, 1 subtitle stream and 1 chapter; add --mux to carry them",
        ])
        let audioOnly = MuxPlan(streams: [stream(1, .audio, "flac", off)], chapters: 0, muxer: "ivf")
        XCTAssertEqual(audioOnly.leftOutNotes(muxed: false, outputExtension: "ivf", holdsOtherStreams: false),
                       ["INPUT has 1 audio stream; a .ivf OUTPUT holds only the video stream, so it is left out (write .mkv with --mux to carry it)"])
        let twoVideos = MuxPlan(streams: [stream(1, .video, "h264", video, detail: "second video stream"),
                                          stream(2, .video, "png", video, detail: "cover picture")], chapters: 0, muxer: "matroska")
        XCTAssertEqual(twoVideos.leftOutNotes(muxed: true, outputExtension: "mkv", holdsOtherStreams: true),
                       ["INPUT's 2 other video streams (#1 h264, #2 png cover picture) are not encoded; encoda encodes the first video stream only"])
        XCTAssertEqual(MuxPlan(streams: [], chapters: 0, muxer: "mp4").leftOutNotes(muxed: false, outputExtension: "mp4", holdsOtherStreams: true), [])
    }

    // MARK: no upscaling

    func testScaleNeverUpscales() throws {
        let video = VideoFacts(width: 1920, height: 1080, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 25), frameRate: Rational(25, 1),
                               sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2, colorMatrix: 2, colorRange: 0,
                               chromaLocation: 0, codecName: "h264", streamIndex: 0)
        var s = EncodeSettings(encoder: .h264, preset: "ultrafast", crf: 23, lossless: false, pixelFormat: .yuv420p, encoderParams: "")
        s.scaleHeight = 2160
        XCTAssertThrowsError(try OutputPicture.make(source: video, settings: s)) { e in
            XCTAssertEqual((e as? EncodaError)?.message,
                           "--scale 2160 is larger than INPUT's 1080 lines; encoda does not upscale: give --scale 1080 or less, or leave --scale out")
        }
        s.scaleHeight = 1080
        XCTAssertFalse(try OutputPicture.make(source: video, settings: s).scaled, "the source's own height is no scaling")
        s.scaleHeight = 720
        XCTAssertEqual(try OutputPicture.make(source: video, settings: s).height, 720)
        // After a crop, the cropped height is the limit.
        s.crop = CropRect(width: 1920, height: 800, x: 0, y: 140)
        s.scaleHeight = 1080
        XCTAssertThrowsError(try OutputPicture.make(source: video, settings: s)) { e in
            XCTAssertTrue((e as? EncodaError)?.message.contains("the 800 lines of the cropped picture") == true, "\(e)")
        }
        s.scaleHeight = 800
        XCTAssertFalse(try OutputPicture.make(source: video, settings: s).scaled)
    }
}
