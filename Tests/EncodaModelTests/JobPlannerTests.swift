import EncodaModel
import Foundation
import XCTest

/// `JobPlanner`: the decisions stored in job.json, from the request and the analysis, table by table.
final class JobPlannerTests: XCTestCase {
    static func video(_ w: Int = 1920, _ h: Int = 1080, rate: Rational = Rational(25, 1)) -> VideoFacts {
        VideoFacts(width: w, height: h, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 1000), frameRate: rate,
                   sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2, colorMatrix: 2, colorRange: 0,
                   chromaLocation: 0, codecName: "h264", streamIndex: 0)
    }

    /// `frames` frames 40 ms apart (timestamps from 1000), keyframes where given, each packet `size` bytes.
    static func index(frames: Int, keyframes: [Int], sizes: [Int32]? = nil, positions: Bool = false) -> FrameIndex {
        let pts = (0..<frames).map { 1000 + Int64($0) * 40 }
        return FrameIndex(pts: pts, durations: FrameIndex.durations(for: pts, lastDuration: 40), keyframes: keyframes,
                          packetSizes: sizes, keyframePositions: positions ? keyframes.map { Int64($0) * 100 } : nil,
                          positionedByByte: positions)
    }

    static let yuv420p8 = PixelLayout(name: "yuv420p", chroma: .c420, bitDepth: 8, isRGB: false, hasAlpha: false)

    func plan(output: String = "/o/out.mkv", settings: EncodeSettings, requested: PixelFormat? = nil,
              video: VideoFacts = video(), layout: PixelLayout = yuv420p8,
              index: FrameIndex = index(frames: 100, keyframes: [0, 50]),
              chunks: [Chunk] = [Chunk(id: 0, range: FrameRange(0, 100), shotStarts: [0])]) throws -> JobPlan {
        try JobPlanner.plan(.init(output: output, settings: settings, requestedPixelFormat: requested),
                            .init(video: video, layout: layout, index: index, chunks: chunks))
    }

    static func settings(_ encoder: EncoderKind, _ format: PixelFormat = .yuv420p, lossless: Bool = false) -> EncodeSettings {
        EncodeSettings(encoder: encoder, preset: EncodeSettings.defaultPreset(for: encoder), crf: lossless ? 0 : 30,
                       lossless: lossless, pixelFormat: format, encoderParams: "")
    }

    func testContainerFollowsOutputsExtension() throws {
        let table: [(String, EncoderKind, OutputContainer)] = [
            ("out.mkv", .av1, .matroska), ("out.MKV", .h264, .matroska), ("out.mp4", .av1, .mp4), ("out.m4v", .h264, .mp4),
            ("out.webm", .av1, .webm), ("out.ivf", .av1, .ivf), ("out.obu", .av1, .obu), ("out.mov", .h264, .mov),
            ("out.h264", .h264, .h264), ("out.264", .h264, .h264), ("clip_%02d.mkv", .h264, .matroska),
        ]
        for (name, encoder, container) in table {
            XCTAssertEqual(try plan(output: "/o/" + name, settings: Self.settings(encoder)).container, container, name)
        }
        let refused: [(String, EncoderKind)] = [("out.mov", .av1), ("out.webm", .h264), ("out.ivf", .h264), ("out", .av1), ("out.avi", .h264)]
        for (name, encoder) in refused {
            XCTAssertThrowsError(try plan(output: "/o/" + name, settings: Self.settings(encoder)), name) { e in
                XCTAssertEqual((e as? EncodaError)?.code, .outputInvalid, name)
            }
        }
    }

    func testPixelFormatPerEncoderSourceDepthAndRequest() throws {
        func layout(_ name: String, _ chroma: ChromaSampling?, _ depth: Int, rgb: Bool = false, alpha: Bool = false) -> PixelLayout {
            PixelLayout(name: name, chroma: chroma, bitDepth: depth, isRGB: rgb, hasAlpha: alpha)
        }
        let table: [(String, PixelLayout, EncoderKind, Bool, PixelFormat?, PixelFormat)] = [
            ("8-bit 4:2:0 to AV1", Self.yuv420p8, .av1, false, nil, .yuv420p),
            ("10-bit 4:2:0 to AV1", layout("yuv420p10le", .c420, 10), .av1, false, nil, .yuv420p10le),
            ("12-bit 4:2:2 to AV1: 10-bit 4:2:0", layout("yuv422p12le", .c422, 12), .av1, false, nil, .yuv420p10le),
            ("4:4:4 to H.264 without --lossless: 4:2:0", layout("yuv444p", .c444, 8), .h264, false, nil, .yuv420p),
            ("4:2:2 10-bit kept by --lossless", layout("yuv422p10le", .c422, 10), .h264, true, nil, .yuv422p10le),
            ("RGB kept by --lossless", layout("rgb24", .c444, 8, rgb: true), .h264, true, nil, .gbrp),
            ("--pix-fmt yuv444p asked of H.264", Self.yuv420p8, .h264, false, .yuv444p, .yuv444p),
            ("--pix-fmt yuv420p10le asked of AV1", Self.yuv420p8, .av1, false, .yuv420p10le, .yuv420p10le),
            ("greyscale to AV1", layout("gray", nil, 8), .av1, false, nil, .yuv420p),
        ]
        for (what, source, encoder, lossless, requested, expected) in table {
            let s = Self.settings(encoder, expected, lossless: lossless)
            XCTAssertEqual(try plan(settings: s, requested: requested, layout: source).pixelFormat, expected, what)
        }
        // Settings that disagree with the choice are the planner's caller's bug, not the user's.
        XCTAssertThrowsError(try plan(settings: Self.settings(.av1, .yuv420p10le), layout: Self.yuv420p8)) { e in
            XCTAssertEqual((e as? EncodaError)?.code, .internalError)
        }
        // 4:2:2 with alpha cannot be kept losslessly without --pix-fmt.
        XCTAssertThrowsError(try plan(settings: Self.settings(.h264, .yuv422p, lossless: true),
                                      layout: layout("yuva422p", .c422, 8, alpha: true))) { e in
            XCTAssertEqual((e as? EncodaError)?.code, .inputUnsupported)
        }
    }

    func testOutputPictureCropScaleAndRotation() throws {
        func picture(_ edit: (inout EncodeSettings) -> Void, video: VideoFacts = JobPlannerTests.video()) throws -> OutputPicture {
            var s = Self.settings(.h264)
            edit(&s)
            return try plan(settings: s, video: video).picture
        }
        let table: [(String, (inout EncodeSettings) -> Void, Int, Int, Rational, Bool, Int)] = [
            ("as decoded", { _ in }, 1920, 1080, Rational(1, 1), false, 0),
            ("crop letterbox", { $0.crop = CropRect(width: 1920, height: 800, x: 0, y: 140) }, 1920, 800, Rational(1, 1), false, 0),
            ("full-frame crop is no crop", { $0.crop = CropRect(width: 1920, height: 1080, x: 0, y: 0) }, 1920, 1080, Rational(1, 1), false, 0),
            ("scale to 720", { $0.scaleHeight = 720 }, 1280, 720, Rational(1, 1), true, 0),
            ("crop then scale", { $0.crop = CropRect(width: 1440, height: 1080, x: 240, y: 0); $0.scaleHeight = 540 }, 720, 540, Rational(1, 1), true, 0),
            ("quarter turn", { $0.pixelRotation = 90 }, 1080, 1920, Rational(1, 1), false, 90),
            ("half turn", { $0.pixelRotation = 180 }, 1920, 1080, Rational(1, 1), false, 180),
            ("quarter turn then scale the shown height", { $0.pixelRotation = 270; $0.scaleHeight = 1280 }, 720, 1280, Rational(1, 1), true, 270),
        ]
        for (what, edit, w, h, sar, scaled, turn) in table {
            let p = try picture(edit)
            XCTAssertEqual([p.width, p.height, p.rotation], [w, h, turn], what)
            XCTAssertEqual(p.sampleAspectRatio, sar, what)
            XCTAssertEqual(p.scaled, scaled, what)
        }
        // Anamorphic: the SAR absorbs the rounding of the scaled width.
        var anamorphic = Self.video(720, 576)
        anamorphic.sampleAspectRatio = Rational(16, 11)
        let p = try picture({ $0.scaleHeight = 288 }, video: anamorphic)
        XCTAssertEqual([p.width, p.height], [360, 288])
        XCTAssertEqual(p.sampleAspectRatio, Rational(16, 11))
        XCTAssertNil(try picture({ $0.crop = CropRect(width: 1920, height: 1080, x: 0, y: 0) }).crop)
        // encoda never upscales; an odd height is refused.
        for bad in [1440, 721] {
            XCTAssertThrowsError(try picture({ $0.scaleHeight = bad })) { XCTAssertEqual(($0 as? EncodaError)?.code, .usage) }
        }
    }

    func testClaimOrderIsMostExpensiveFirst() throws {
        let chunks = [Chunk(id: 0, range: FrameRange(0, 40), shotStarts: [0]),
                      Chunk(id: 1, range: FrameRange(40, 60), shotStarts: [40]),
                      Chunk(id: 2, range: FrameRange(60, 100), shotStarts: [60])]
        // Chunk 1 is short but busy: its packets are ten times larger.
        let sizes = (0..<100).map { Int32((40..<60).contains($0) ? 10_000 : 1_000) }
        let costed = try plan(settings: Self.settings(.av1), index: Self.index(frames: 100, keyframes: [0], sizes: sizes), chunks: chunks)
        XCTAssertEqual(costed.claimOrder, [1, 0, 2])
        XCTAssertEqual(costed.costs?.count, 3)
        // Without packet sizes: the longest first, the earlier of equals first.
        let counted = try plan(settings: Self.settings(.av1), index: Self.index(frames: 100, keyframes: [0]), chunks: chunks)
        XCTAssertNil(counted.costs)
        XCTAssertEqual(counted.claimOrder, [0, 2, 1])
    }

    func testTwoSecondChunkRule() {
        let rates: [(Rational, Int)] = [(Rational(25, 1), 50), (Rational(24000, 1001), 48), (Rational(60, 1), 120),
                                        (Rational(1, 1), 2), (Rational(1, 10), 1)]
        for (rate, frames) in rates { XCTAssertEqual(JobPlanner.minimumChunkFrames(frameRate: rate), frames, "\(rate)") }
        // Shots of 20 frames at 25 fps are grouped into chunks of at least 50 frames; the short tail joins the last.
        let shots = stride(from: 0, to: 130, by: 20).map { FrameRange($0, min($0 + 20, 130)) }
        let chunks = JobPlanner.chunks(shots: shots, maxFrames: 0, frameRate: Rational(25, 1))
        XCTAssertEqual(chunks.map(\.range), [FrameRange(0, 60), FrameRange(60, 130)])
        XCTAssertEqual(chunks[1].shotStarts, [60, 80, 100, 120])
        // A longest-shot limit below the minimum is raised to it; above it, grouping stops at the limit.
        XCTAssertEqual(JobPlanner.chunks(shots: shots, maxFrames: 10, frameRate: Rational(25, 1)).map(\.range),
                       [FrameRange(0, 40), FrameRange(40, 80), FrameRange(80, 130)])
    }

    func testChunkSlicesHoldWhatTheDecodeReads() throws {
        // Keyframes every 10 frames up to 60, then a gap to 90.
        let index = Self.index(frames: 120, keyframes: [0, 10, 20, 30, 40, 50, 60, 90], positions: true)
        let cases: [(String, FrameRange, Int, [Int])] = [
            ("first chunk", FrameRange(0, 25), 0, [0]),
            ("on a keyframe", FrameRange(30, 45), 29, [0, 10, 20, 30]),
            ("after a keyframe gap", FrameRange(75, 90), 74, [0, 30, 40, 50, 60]),
            ("last chunk", FrameRange(90, 120), 89, [0, 40, 50, 60, 90]),
        ]
        for (what, range, first, keyframes) in cases {
            let slice = FrameIndexSlice.of(index, range: range, reliable: true)
            XCTAssertEqual(slice.first, first, what)
            XCTAssertEqual(slice.end, range.end, what)
            XCTAssertEqual(slice.keyframes, keyframes, what)
            XCTAssertEqual(slice.keyframeTimestamps, keyframes.map { index.pts[$0] }, what)
            XCTAssertEqual(slice.keyframePositions, keyframes.map { Int64($0) * 100 }, what)
            // What the decode reads agrees with the whole index.
            for f in first..<range.end {
                XCTAssertEqual(slice.timestamp(f), index.pts[f], what)
                XCTAssertEqual(slice.position(of: index.pts[f]), f, what)
            }
            XCTAssertEqual(slice.keyframe(atOrBefore: range.start), index.keyframe(atOrBefore: range.start), what)
            // The keyframes tried in turn when the decode does not line up (`ChunkFrameSource.run`): three steps back,
            // then the first.
            var full = index.keyframe(atOrBefore: range.start), part = full
            for step in 1...3 where full > 0 {
                full = index.keyframe(atOrBefore: full - 1); part = slice.keyframe(atOrBefore: part - 1)
                XCTAssertEqual(part, full, "\(what), step \(step)")
                XCTAssertEqual(slice.timestamp(part), index.pts[full], what)
            }
            // By byte: ordinals step back twice, then to the first keyframe.
            let o = slice.keyframeOrdinal(atOrBefore: range.start), fo = index.keyframeOrdinal(atOrBefore: range.start)
            for back in 0...min(2, fo) { XCTAssertEqual(slice.keyframe(ordinal: o - back).frame, index.keyframes[fo - back], what) }
            XCTAssertEqual(slice.keyframe(ordinal: 0).frame, index.keyframes[0], what)
            // A timestamp before the slice is unknown; one after it belongs to a frame after the chunk.
            if first > 0 { XCTAssertNil(slice.position(of: index.pts[first - 1]), what) }
            XCTAssertNil(slice.position(of: index.pts[range.end - 1] - 1), what)
            if range.end < index.frameCount { XCTAssertGreaterThan(slice.position(of: index.pts[range.end])!, range.start, what) }
        }
        // Timestamps that repeat make the slice count frames, as the whole index would.
        var repeated = Self.index(frames: 20, keyframes: [0])
        repeated.pts[5] = repeated.pts[4]
        XCTAssertFalse(FrameIndexSlice.of(repeated, range: FrameRange(10, 20), reliable: repeated.timestampsReliable).timestampsReliable)
        XCTAssertTrue(Self.index(frames: 20, keyframes: [0]).timestampsReliable)
    }

    func testManifestStoresThePlanAndRefusesAnOlderFormat() throws {
        let chunks = [Chunk(id: 0, range: FrameRange(0, 60), shotStarts: [0]), Chunk(id: 1, range: FrameRange(60, 100), shotStarts: [60])]
        var m = JobManifest(jobID: "plantest-0001", createdAt: 0,
                            input: InputReference(absolutePath: "/in.mkv", pathRelativeToWorkDirectory: nil, size: 1, fingerprint: "1-0"),
                            video: Self.video(), frameCount: 100, settings: Self.settings(.h264), scene: SceneSettings(),
                            versions: EncoderVersions(encoda: "t", svtav1: "t", x264: "t", libavcodec: "t"), chunks: chunks)
        m.plan = try plan(settings: m.settings, chunks: chunks)
        try m.validate()
        let decoded = try JSONDecoder().decode(JobManifest.self, from: try JSONEncoder().encode(m))
        XCTAssertEqual(decoded.plan, m.plan)
        XCTAssertEqual(try decoded.requirePlan().slices.map(\.first), [0, 59])

        var old = m
        old.formatVersion = 1
        old.plan = nil
        XCTAssertThrowsError(try old.validate()) { e in
            XCTAssertEqual((e as? EncodaError)?.code, .versionMismatch)
            XCTAssertTrue((e as? EncodaError)?.message.contains("--restart") ?? false, "\(e)")
        }
        var noPlan = m
        noPlan.plan = nil
        XCTAssertThrowsError(try noPlan.requirePlan())
        var mismatched = m
        mismatched.plan?.slices.removeLast()
        XCTAssertThrowsError(try mismatched.validate())
    }
}
