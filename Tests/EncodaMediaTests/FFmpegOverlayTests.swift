import EncodaFFmpeg
@testable import EncodaMedia
import EncodaModel
import Foundation
import Synchronization
import XCTest

/// The FFmpeg overlay (EncodaFFmpeg) in process, on tiny files ffmpeg makes: a failing libav call surfaces as a
/// `LibavError` with libav's code and the C function's name, never a crash, and every failure path releases what it
/// opened (the process's open file descriptors are counted before and after).
final class FFmpegOverlayTests: XCTestCase {
    private var clips: Clips!

    override func setUpWithError() throws { clips = try Clips() }
    override func tearDownWithError() throws { clips.remove() }

    /// Missing: avformat_open_input fails with ENOENT. Cut to its first two packets (tables, no picture), an MPEG-TS
    /// opens and then fails in avformat_find_stream_info; the context is closed once and the file with it.
    func testTruncatedContainerFailsWithTheLibavCodeAndFunction() throws {
        let before = try openDescriptors()
        let missing = try XCTUnwrap(libavError { _ = try Demuxer(path: clips.dir + "/missing.mkv") })
        XCTAssertEqual(missing.function, "avformat_open_input")
        XCTAssertEqual(missing.code, -ENOENT)
        XCTAssertEqual(missing.text, libavErrorString(-ENOENT))

        let full = try clips.make("full.ts", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=1",
                                              "-c:v", "libx264", "-preset", "ultrafast"])
        let tables = try clips.cut(full, bytes: 376, to: "tables.ts")
        let probe = try XCTUnwrap(libavError { _ = try Demuxer(path: tables) })
        XCTAssertEqual(probe.function, "avformat_find_stream_info")
        XCTAssertLessThan(probe.code, 0)
        XCTAssertEqual(try openDescriptors(), before, "the failed demuxers left a file open")

        // Through EncodaMedia the same failure reads as INPUT's, with libav's text as the cause.
        let media = try XCTUnwrap(encodaError { _ = try Demuxer.input(tables) })
        XCTAssertEqual(media.code, .inputUnreadable)
        XCTAssertEqual(media.cause, probe.text)
    }

    /// A video stream without a frame (a YUV4MPEG header alone): the demuxer reads no packet, the decoder opens,
    /// drains at once to the end of the stream, and a frame is never filled.
    func testZeroFrameFileDrainsToTheEndWithoutAFrame() throws {
        let empty = try clips.make("empty.y4m", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "0",
                                                 "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe"])
        let before = try openDescriptors()
        do {
            let d = try Demuxer(path: empty)
            let vi = try XCTUnwrap(d.videoStreamIndex())
            let parameters = d.parameters(of: vi)
            XCTAssertEqual(parameters.mediaType, .video)
            XCTAssertEqual(parameters.width, 160)
            XCTAssertEqual(parameters.pixelFormat, .yuv420p)
            XCTAssertFalse(try d.read(into: Packet()))
            let decoder = try Decoder(demuxer: d, stream: vi, threads: 1)
            let frame = Frame()
            XCTAssertTrue(try decoder.send(nil))
            XCTAssertEqual(try decoder.receive(into: frame), .endOfStream)
            XCTAssertFalse(frame.hasBuffers)
        }
        XCTAssertEqual(try openDescriptors(), before)
    }

    /// An audio encoder refusing its settings (FLAC has no compression level 99) fails in avcodec_open2 after both
    /// codec contexts were made; the transcoder reports libav's text and frees them once, leaving nothing open.
    func testAudioTranscodeRefusedFailsCleanly() throws {
        let wav = try clips.make("tone.wav", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1", "-ac", "2"])
        let d = try Demuxer(path: wav)
        let si = try XCTUnwrap((0..<d.streamCount).first { d.parameters(of: $0).mediaType == .audio })
        XCTAssertEqual(d.parameters(of: si).channels, 2)
        XCTAssertEqual(d.parameters(of: si).sampleRate, 48000)
        let before = try openDescriptors()
        for _ in 0..<3 {
            let refused = try XCTUnwrap(encodaError {
                _ = try AudioTranscoder(demuxer: d, index: si, codec: "flac", bitrate: nil, params: "compression_level=99",
                                        start: 0, end: 1, cut: true)
            })
            XCTAssertEqual(refused.code, .usage)
            XCTAssertEqual(refused.cause, libavErrorString(-EINVAL), refused.description)
        }
        XCTAssertEqual(try openDescriptors(), before)
    }

    /// A muxer whose output device is full: packets fit libavformat's buffer, so the failure comes in `finish()`,
    /// when the trailer is flushed; it is an OUTPUT error with libav's ENOSPC text, and the file is closed.
    func testMuxerWhoseFinishFailsReportsItAndClosesTheFile() throws {
        let source = try clips.make("source.mkv", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "3",
                                                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        let (d, facts) = try InputProbe.open(source)
        let before = try openDescriptors()
        do {
            let muxer = try OutputMuxer(path: "/dev/full", format: OutputFormat.forPath("out.mkv", encoder: .h264), encoder: .h264,
                                  video: facts, pixelFormat: .yuv420p, extradata: d.parameters(of: facts.streamIndex).extradata)
            let p = Packet()
            while try d.read(into: p) {
                guard p.streamIndex == facts.streamIndex else { continue }
                try p.withBytes { try muxer.write(data: $0, pts: p.pts, dts: p.dts, duration: p.duration, isKey: p.isKeyframe) }
            }
            let failed = try XCTUnwrap(encodaError { try muxer.finish() })
            XCTAssertEqual(failed.code, .outputInvalid)
            XCTAssertEqual(failed.cause, libavErrorString(-ENOSPC), failed.description)
        }
        XCTAssertEqual(try openDescriptors(), before, "the muxer left /dev/full open")
    }

    /// Tags, chapters and a display matrix go through the overlay's Muxer into a file and come back through its
    /// Demuxer as they were written (tags in order, chapters with their tags and times, the rotation).
    func testMuxerWritesTagsChaptersAndDisplayMatrixTheDemuxerReadsBack() throws {
        let source = try clips.make("tagged.mkv", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "3",
                                                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        let d = try Demuxer(path: source)
        let vi = try XCTUnwrap(d.videoStreamIndex())
        let par = d.parameters(of: vi)
        var side = LibavSideData()
        let quarterTurn: [Int32] = [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30]
        side.displayMatrix = quarterTurn
        let out = clips.dir + "/out.mp4"
        let muxer = try Muxer(path: out, muxer: "mp4", video: OutputVideoParameters(
            codec: .h264, width: par.width, height: par.height, pixelFormat: par.pixelFormat, profile: nil,
            sampleAspectRatio: LibavRational(1, 1), colorPrimaries: 2, colorTransfer: 2, colorMatrix: 2, colorRange: 0, chromaLocation: 0,
            fieldOrder: .progressive, extradata: par.extradata, timeBase: par.timeBase, frameRate: LibavRational(25, 1),
            sideData: side, tags: [("language", "fra")]))
        muxer.addFileTags([LibavTag(key: "ARTIST", value: "Someone")])
        muxer.setChapters([LibavChapter(id: 1, timeBase: LibavRational(1, 1000), start: 0, end: 40, tags: [LibavTag(key: "title", value: "First")]),
                           LibavChapter(id: 2, timeBase: LibavRational(1, 1000), start: 40, end: 120, tags: [LibavTag(key: "title", value: "Second")])])
        try muxer.start(options: [])
        let p = Packet()
        while try d.read(into: p) {
            guard p.streamIndex == vi else { continue }
            try p.withBytes { try muxer.writeVideo($0, pts: p.pts, dts: p.dts, duration: p.duration, isKeyframe: p.isKeyframe, interleaved: false) }
        }
        try muxer.finish()

        let back = try Demuxer(path: out)
        let bv = try XCTUnwrap(back.videoStreamIndex())
        XCTAssertEqual(back.metadata(of: bv, "LANGUAGE"), "fra", "tags are looked up case-insensitively")
        XCTAssertEqual(back.fileMetadata("artist"), "Someone")
        XCTAssertEqual(back.chapterCount, 2)
        let chapters = back.chapters
        XCTAssertEqual(chapters.map { $0.tags.first { $0.key.lowercased() == "title" }?.value }, ["First", "Second"])
        XCTAssertEqual(chapters.map { LibavRational.rescale($0.start, from: $0.timeBase, to: LibavRational(1, 1000)) }, [0, 40])
        let matrix = try XCTUnwrap(back.sideData(of: bv).displayMatrix)
        let turn = LibavSideData.rotation(ofDisplayMatrix: quarterTurn)
        XCTAssertEqual(abs(turn), 90, accuracy: 0.01)
        XCTAssertEqual(LibavSideData.rotation(ofDisplayMatrix: matrix), turn, accuracy: 0.01)
    }

    /// libav's log goes to the routed closure, line by line at the level asked for, and `quiet()` stops it.
    func testLibavLogIsRoutedThroughOneClosure() throws {
        let full = try clips.make("index-last.mp4", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=1",
                                                     "-c:v", "libx264", "-preset", "ultrafast"])
        let cut = try clips.cut(full, bytes: try clips.size(full) / 2, to: "cut.mp4")
        let lines = LogLines()
        LibavLog.route(level: .error) { level, line in lines.list.withLock { $0.append((level, line)) } }
        defer { LibavLog.quiet() }
        XCTAssertNotNil(libavError { _ = try Demuxer(path: cut) })
        let logged = lines.list.withLock { $0 }
        XCTAssertTrue(logged.contains { $0.1.contains("moov atom not found") }, "\(logged)")
        XCTAssertTrue(logged.allSatisfy { $0.0 <= .error && !$0.1.hasSuffix("\n") }, "\(logged)")

        LibavLog.quiet()
        let count = logged.count
        _ = libavError { _ = try Demuxer(path: cut) }
        XCTAssertEqual(lines.list.withLock { $0.count }, count, "quiet() must silence libav")
    }

    // MARK: helpers

    private func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }

    private func libavError(_ body: () throws -> Void) -> LibavError? {
        do { try body() } catch let e as LibavError { return e } catch { XCTFail("not a LibavError: \(error)"); return nil }
        XCTFail("no error thrown")
        return nil
    }

    private func encodaError(_ body: () throws -> Void) -> EncodaError? {
        do { try body() } catch let e as EncodaError { return e } catch { XCTFail("not an EncodaError: \(error)"); return nil }
        XCTFail("no error thrown")
        return nil
    }
}

/// The lines a routed libav log delivered, from whatever thread logged them.
private final class LogLines: Sendable {
    let list = Mutex<[(LibavLog.Level, String)]>([])
}
