@testable import EncodaMedia
import EncodaModel
import Foundation
import XCTest

/// Segmented analysis against the whole-file pass, in process on clips ffmpeg makes: each clip's segments are analysed
/// alone (`SegmentAnalyser`, from the preview's facts and each segment's slice of the packet index, as a worker
/// gets them), assembled in reverse order (`SegmentAssembly`), and compared with `ScenePass.run(input:encoder:)`:
/// the changes bit for bit, the frame index, the video facts (interlacing included) and the cuts, for segments of
/// one GOP, of two or three GOPs, and the whole file as one.
final class SegmentedAnalysisTests: XCTestCase {
    private var clips: Clips!

    override func setUpWithError() throws { clips = try Clips() }
    override func tearDownWithError() throws { clips.remove() }

    private let settings = SceneSettings()

    /// The three segmentings of `index`: one GOP each (the planner with many workers), two and three GOPs in turn,
    /// and the whole file.
    private func segmentings(_ index: FrameIndex) -> [(name: String, segments: [AnalysisSegment])] {
        let n = index.frameCount
        let gops = zip(index.keyframes, index.keyframes.dropFirst() + [n]).map { FrameRange($0, $1) }
        var grouped: [AnalysisSegment] = []
        var i = 0, take = 2
        while i < gops.count {
            let j = min(gops.count, i + take)
            grouped.append(AnalysisSegment(id: grouped.count, frames: FrameRange(gops[i].start, gops[j - 1].end)))
            i = j
            take = 5 - take
        }
        return [("1 GOP", AnalysisSegmentPlanner.segments(index: index, workers: 10_000)), ("2-3 GOPs", grouped),
                ("whole file", [AnalysisSegment(id: 0, frames: FrameRange(0, n))])]
    }

    /// Analyses `segments` of `clip` as workers would, in reverse order.
    private func measure(_ clip: String, _ preview: ScenePass.Preview, _ segments: [AnalysisSegment], threads: Int) throws -> [SegmentMeasurements] {
        let reliable = preview.index.timestampsReliable
        return try segments.reversed().map { s in
            try SegmentAnalyser.analyse(input: clip, video: preview.video, segment: s,
                                        index: s.indexSlice(of: preview.index, reliable: reliable), threads: threads)
        }
    }

    /// Asserts that every segmenting of `clip` assembles into the whole pass's cache; returns the whole pass, the
    /// preview and the segmentings (for the caller's own checks).
    @discardableResult
    private func assertEquivalent(_ clip: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> (whole: ScenePass.Output, preview: ScenePass.Preview, segmentings: [(name: String, segments: [AnalysisSegment])]) {
        let whole = try ScenePass.run(input: clip, encoder: .h264, threads: 1)
        let wholeCuts = CutDetector.cuts(changes: whole.changes, settings: settings)
        let (found, reason) = try ScenePass.preview(input: clip, encoder: .h264)
        let preview = try XCTUnwrap(found, "no packet index: \(reason ?? "")", file: file, line: line)
        let name = (clip as NSString).lastPathComponent
        let cases = segmentings(preview.index)
        for (k, (what, segments)) in cases.enumerated() {
            // One decoder thread for some (frames nothing refers to are then skipped before the segment), two for others.
            let measured = try measure(clip, preview, segments, threads: k % 2 + 1)
            let cache = try SegmentAssembly.cache(input: clip, preview: preview, segments: measured, fingerprint: "f", settings: settings)
            let differing = zip(cache.changes, whole.changes).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
            XCTAssertEqual(cache.changes.count, whole.changes.count, "\(name), \(what)", file: file, line: line)
            XCTAssertNil(differing, "\(name), \(what): change of frame \(differing?.offset ?? -1) differs", file: file, line: line)
            XCTAssertEqual(cache.index, whole.index, "\(name), \(what)", file: file, line: line)
            XCTAssertEqual(cache.video, whole.video, "\(name), \(what)", file: file, line: line)
            XCTAssertEqual(cache.cuts, wholeCuts, "\(name), \(what)", file: file, line: line)
            XCTAssertNil(cache.analysed, file: file, line: line)
            XCTAssertNoThrow(try cache.validate(), file: file, line: line)
            let decoded = measured.reduce(0) { $0 + $1.framesDecoded }
            print(String(format: "segmented analysis %@, %@: %d segments, %d frames decoded for %d (%.2f×)", name, what,
                         segments.count, decoded, whole.index.frameCount, Double(decoded) / Double(whole.index.frameCount)))
        }
        return (whole, preview, cases)
    }

    /// H.264 with B-frames (presentation order differs from decode order) and several GOPs.
    func testBFramesManyGOPs() throws {
        let clip = try clips.make("bframes.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "200",
                                                  "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "40", "-keyint_min", "40",
                                                  "-sc_threshold", "0", "-pix_fmt", "yuv420p"])
        let r = try assertEquivalent(clip)
        XCTAssertEqual(r.preview.index.keyframes, [0, 40, 80, 120, 160])
        XCTAssertEqual(r.segmentings[0].segments.count, 5)
    }

    /// Open GOPs (x264 open-gop): B-frames after a recovery-point I-frame refer to the GOP before, so a segment
    /// start needs the decode from the keyframe before its frame before, exactly as planned.
    func testOpenGOPH264() throws {
        let clip = try clips.make("open.mkv", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "180",
                                               "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "30", "-keyint_min", "30",
                                               "-sc_threshold", "0", "-x264-params", "open-gop=1", "-pix_fmt", "yuv420p"])
        let r = try assertEquivalent(clip)
        XCTAssertGreaterThan(r.preview.index.keyframes.count, 3)
    }

    /// Shots with cuts at known frames, a GOP of 25: the cut at 50 falls exactly on a segment's first frame (in the
    /// one-GOP and the grouped segmentings), and the shot 50…199 spans several segments.
    func testCutsOnASegmentStartAndAShotAcrossSegments() throws {
        let graph = "testsrc2=s=320x240:r=25,trim=end_frame=50[a];" +
            "mandelbrot=s=320x240:r=25,trim=end_frame=150[b];" +
            "rgbtestsrc=s=320x240:r=25,hue=H=2*PI*t,trim=end_frame=37[c];" +
            "testsrc=s=320x240:r=25,trim=end_frame=63[d];[a][b][c][d]concat=n=4:v=1:a=0,format=yuv420p[v]"
        let clip = try clips.make("cuts.mp4", ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast",
                                               "-bf", "2", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0"])
        let r = try assertEquivalent(clip)
        let cuts = CutDetector.cuts(changes: r.whole.changes, settings: settings)
        XCTAssertEqual(cuts, [50, 200, 237], "the shots as made")
        for (what, segments) in r.segmentings.prefix(2) {
            XCTAssertTrue(segments.contains { $0.frames.start == 50 }, "\(what): a segment starts at the cut")
            XCTAssertGreaterThanOrEqual(segments.filter { $0.frames.start > 50 && $0.frames.start < 200 }.count, 2,
                                        "\(what): the shot 50…199 spans several segments")
        }
    }

    /// Interlaced MPEG-2 in MPEG-TS, top field first: the assembled facts say so, as the whole pass does.
    func testInterlacedMPEG2TransportStream() throws {
        let clip = try clips.make("tff.ts", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=50", "-vf", "interlace=scan=tff,format=yuv420p",
                                             "-frames:v", "120", "-flags", "+ildct+ilme", "-c:v", "mpeg2video", "-q:v", "3",
                                             "-top", "1", "-g", "12", "-bf", "2", "-f", "mpegts"])
        let r = try assertEquivalent(clip)
        XCTAssertEqual(r.whole.video.interlacing, Interlacing(topFieldFirst: true, flaggedPerFrame: true))
    }

    /// Interlaced H.264 (MBAFF), top field first, in MP4.
    func testInterlacedH264() throws {
        let clip = try clips.make("tff.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=50", "-vf", "interlace=scan=tff,format=yuv420p",
                                              "-frames:v", "120", "-flags", "+ildct+ilme", "-c:v", "libx264", "-preset", "veryfast",
                                              "-x264-params", "tff=1", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0"])
        let r = try assertEquivalent(clip)
        XCTAssertEqual(r.whole.video.interlacing?.topFieldFirst, true)
    }

    /// 10-bit 4:2:0 H.264: the luma goes through libswscale to the analysis plane.
    func testTenBit() throws {
        let clip = try clips.make("ten.mkv", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "150",
                                              "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p10le", "-g", "30",
                                              "-keyint_min", "30", "-sc_threshold", "0"])
        let r = try assertEquivalent(clip)
        XCTAssertEqual(r.whole.video.pixelFormat, "yuv420p10le")
    }

    /// A set that does not tile INPUT's frames, a timestamp unlike the index's, or a record without its frame facts
    /// is refused.
    func testAssemblyRefusesGapsOverlapsAndForeignTimestamps() throws {
        let clip = try clips.make("small.mp4", ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=25", "-frames:v", "60",
                                                "-c:v", "libx264", "-preset", "veryfast", "-g", "20", "-keyint_min", "20", "-sc_threshold", "0"])
        let preview = try XCTUnwrap(try ScenePass.preview(input: clip, encoder: .h264).preview)
        let segments = AnalysisSegmentPlanner.segments(index: preview.index, workers: 100)
        XCTAssertEqual(segments.map(\.frames), [FrameRange(0, 20), FrameRange(20, 40), FrameRange(40, 60)])
        let measured = try measure(clip, preview, segments, threads: 1).reversed().map { $0 }
        func refusal(_ set: [SegmentMeasurements]) -> EncodaError? {
            do {
                _ = try SegmentAssembly.cache(input: clip, preview: preview, segments: set, fingerprint: "f", settings: settings)
                return nil
            } catch let e as EncodaError { return e } catch { return nil }
        }
        XCTAssertNil(refusal(measured))
        let gap = try XCTUnwrap(refusal([measured[0], measured[2]]))
        XCTAssertEqual(gap.code, .stateCorrupt)
        XCTAssertTrue(gap.message.contains("frames [20, 40) of INPUT were not analysed"), gap.message)
        let end = try XCTUnwrap(refusal([measured[0], measured[1]]))
        XCTAssertTrue(end.message.contains("frames [40, 60) of INPUT were not analysed"), end.message)
        let twice = try XCTUnwrap(refusal(measured + [measured[1]]))
        XCTAssertTrue(twice.message.contains("two analysis segments hold frames [20, 40)"), twice.message)
        var foreign = measured
        foreign[1].pts[3] += 1
        let stamp = try XCTUnwrap(refusal(foreign))
        XCTAssertEqual(stamp.code, .inputDamaged)
        XCTAssertTrue(stamp.message.contains("INPUT frame 23 decoded with timestamp"), stamp.message)
        var bare = measured
        bare[2].frameFacts = nil
        XCTAssertTrue(try XCTUnwrap(refusal(bare)).message.contains("lacks its frame facts"))
        var short = measured
        short[0].changes.removeLast()
        XCTAssertTrue(try XCTUnwrap(refusal(short)).message.contains("it is damaged"))
    }

    /// Two TS files made by `args(part, timestamp offset)` joined byte for byte; the second part's timestamps follow
    /// the first's (`offset` seconds later), so that the packets number the frames.
    private func joined(offset: String = "2", _ args: (Int, String) -> [String]) throws -> String {
        let a = try clips.make("a.ts", args(0, "0")), b = try clips.make("b.ts", args(1, offset))
        let path = clips.dir + "/joined.ts"
        var data = try Data(contentsOf: URL(fileURLWithPath: a))
        data.append(try Data(contentsOf: URL(fileURLWithPath: b)))
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The whole pass refuses `clip` with a message containing `expected`; the assembly of its one-GOP segments refuses
    /// it with the same error.
    private func assertRefusedAsByAWholePass(_ clip: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var wholeError: EncodaError?
        do { _ = try ScenePass.run(input: clip, encoder: .h264, threads: 1) } catch let e as EncodaError { wholeError = e }
        let refusal = try XCTUnwrap(wholeError, "the whole pass refuses it", file: file, line: line)
        XCTAssertTrue(refusal.message.contains(expected), refusal.message, file: file, line: line)
        let (found, reason) = try ScenePass.preview(input: clip, encoder: .h264)
        let preview = try XCTUnwrap(found, "no packet index: \(reason ?? "")", file: file, line: line)
        let measured = try measure(clip, preview, AnalysisSegmentPlanner.segments(index: preview.index, workers: 100), threads: 1)
        var assemblyError: EncodaError?
        do {
            _ = try SegmentAssembly.cache(input: clip, preview: preview, segments: measured, fingerprint: "f", settings: settings)
        } catch let e as EncodaError { assemblyError = e }
        XCTAssertEqual(assemblyError?.code, refusal.code, file: file, line: line)
        XCTAssertEqual(assemblyError?.message, refusal.message, file: file, line: line)
    }

    /// A picture that changes between two segments is refused by the assembly with the whole pass's message.
    func testPictureChangeAcrossSegmentsIsRefusedAsByAWholePass() throws {
        let clip = try joined { part, offset in
            ["-f", "lavfi", "-i", "testsrc2=s=\(part == 0 ? "320x180" : "480x360"):r=25", "-frames:v", "50", "-c:v", "libx264",
             "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-output_ts_offset", offset, "-f", "mpegts"]
        }
        try assertRefusedAsByAWholePass(clip, "changes at frame 50 (2.000 s): its picture changes from 320x180 yuv420p to 480x360 yuv420p")
    }

    /// Top field first, then bottom field first in a later segment: refused at the first bottom-first frame, naming
    /// the first interlaced one, as the whole pass does.
    func testFieldOrderChangeAcrossSegmentsIsRefusedAsByAWholePass() throws {
        let clip = try joined(offset: "3") { part, offset in
            ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=50", "-vf", "interlace=scan=\(part == 0 ? "tff" : "bff"),format=yuv420p",
             "-frames:v", "50", "-flags", "+ildct+ilme", "-c:v", "mpeg2video", "-q:v", "3", "-top", part == 0 ? "1" : "0",
             "-g", "10", "-bf", "0", "-output_ts_offset", offset, "-f", "mpegts"]
        }
        try assertRefusedAsByAWholePass(clip, "it mixes field orders: frame 0 (0.000 s) is interlaced top field first, frame 50 bottom field first")
    }

    /// A rough measure, run only with ENCODA_SEGMENT_BENCH=1 (it makes a 1080p clip): wall time of the whole pass
    /// and of the planner's segments analysed serially in process, and the frames decoded, for two GOP lengths.
    /// Asserts the equivalence too.
    func testMeasure1080p() throws {
        guard ProcessInfo.processInfo.environment["ENCODA_SEGMENT_BENCH"] == "1" else { throw XCTSkip("ENCODA_SEGMENT_BENCH=1 runs it") }
        for gop in [250, 50] {
            let clip = try clips.make("hd-\(gop).mp4", ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25", "-frames:v", "1000",
                                                        "-c:v", "libx264", "-preset", "veryfast", "-g", "\(gop)", "-pix_fmt", "yuv420p"])
            var t = Date()
            let whole = try ScenePass.run(input: clip, encoder: .h264)
            let wholeSeconds = Date().timeIntervalSince(t)
            t = Date()
            let preview = try XCTUnwrap(try ScenePass.preview(input: clip, encoder: .h264).preview)
            let previewSeconds = Date().timeIntervalSince(t)
            for workers in [1, 4] {
                let segments = AnalysisSegmentPlanner.segments(index: preview.index, workers: workers)
                for threads in [0, 1] {
                    t = Date()
                    let measured = try measure(clip, preview, segments, threads: threads)
                    let cache = try SegmentAssembly.cache(input: clip, preview: preview, segments: measured, fingerprint: "f", settings: settings)
                    let seconds = Date().timeIntervalSince(t)
                    XCTAssertEqual(cache.changes, whole.changes)
                    XCTAssertEqual(cache.index, whole.index)
                    let decoded = measured.reduce(0) { $0 + $1.framesDecoded }
                    print(String(format: "1080p GOP %d, %d worker(s) → %d segments, %d decoder thread(s): whole pass %.2f s; preview %.2f s + segments %.2f s (%.2f× the whole pass); decoded %d for %d frames (%.2f×)",
                                 gop, workers, segments.count, threads == 0 ? CPUGrant.current.cpus : threads, wholeSeconds, previewSeconds, seconds,
                                 (previewSeconds + seconds) / wholeSeconds, decoded, whole.index.frameCount, Double(decoded) / Double(whole.index.frameCount)))
                }
            }
        }
    }
}
