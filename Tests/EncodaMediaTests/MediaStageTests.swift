import EncodaFFmpeg
@testable import EncodaMedia
import EncodaModel
import Foundation
import XCTest

/// The Media stages in process, on tiny files made by ffmpeg in each test: damaged and empty containers open or
/// fail with an `EncodaError` (never a crash: a crash here kills the test process), an audio encoder that refuses
/// its settings fails cleanly, and a muxer writes its trailer only when finished. What encoda wrote is read back
/// with ffprobe.
final class MediaStageTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "encoda-media-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// An MPEG-TS cut to its first two packets (376 bytes: tables, no picture) opens but cannot be probed: the
    /// Demuxer throws, closing its context once (it used to be closed twice, a SIGSEGV). Cut mid-file, it opens and
    /// reads to its end; the scene pass decodes exactly the frames that survive, as ffprobe counts them.
    func testTruncatedTransportStreamFailsOrOpensWithoutACrash() throws {
        let full = try make("full.ts", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2",
                                        "-c:v", "libx264", "-preset", "ultrafast", "-g", "10"])
        let probeOnly = try cut(full, bytes: 376, to: "tables.ts")
        let error = try XCTUnwrap(thrownEncodaError { _ = try Demuxer.input(probeOnly) })
        XCTAssertEqual(error.code, .inputUnreadable)
        XCTAssertTrue(error.message.contains("could not be probed"), error.message)

        let half = try cut(full, bytes: fileSize(full) / 2, to: "half.ts")
        let d = try Demuxer.input(half)
        let packets = try readAll(d)
        XCTAssertGreaterThan(packets, 0)
        let decodable = try ffprobeFrames(half)
        XCTAssertGreaterThan(decodable, 0)
        XCTAssertLessThan(decodable, 50)
        let pass = try ScenePass.run(input: half, encoder: .h264, threads: 1)
        XCTAssertEqual(pass.index.pts.count, decodable, "the scene pass decodes the frames ffprobe counts")
    }

    /// An MP4 cut mid-file: with its index at the end (libav's default) there is no index, and opening fails with
    /// an EncodaError; with the index first (faststart) it opens, and the scene pass refuses the frames the index
    /// promises but the file does not hold.
    func testTruncatedMP4FailsWithAnEncodaError() throws {
        let source = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2", "-c:v", "libx264", "-preset", "ultrafast"]
        let indexLast = try make("last.mp4", source)
        let cutLast = try cut(indexLast, bytes: fileSize(indexLast) / 2, to: "last-half.mp4")
        XCTAssertEqual(try XCTUnwrap(thrownEncodaError { _ = try Demuxer.input(cutLast) }).code, .inputUnreadable)

        let indexFirst = try make("first.mp4", source + ["-movflags", "+faststart"])
        let cutFirst = try cut(indexFirst, bytes: fileSize(indexFirst) / 2, to: "first-half.mp4")
        let d = try Demuxer.input(cutFirst)
        XCTAssertNotNil(d.videoStreamIndex())
        let error = try XCTUnwrap(thrownEncodaError { _ = try ScenePass.run(input: cutFirst, encoder: .h264, threads: 1) })
        XCTAssertEqual(error.code, .inputDamaged)
        XCTAssertTrue(error.message.contains("lists 50 video frames"), error.message)
    }

    /// A file with a video stream and no frame (a YUV4MPEG header alone) opens, holds no packet, and the scene pass
    /// refuses it as damaged or empty (exit status 65), not with a crash or an empty plan.
    func testZeroFrameFileIsRefusedAsEmpty() throws {
        let empty = try make("empty.y4m", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "0",
                                           "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe"])
        XCTAssertEqual(try ffprobeFrames(empty), 0)
        let d = try Demuxer.input(empty)
        XCTAssertNotNil(d.videoStreamIndex())
        XCTAssertEqual(try readAll(d), 0)
        let error = try XCTUnwrap(thrownEncodaError { _ = try ScenePass.run(input: empty, encoder: .h264, threads: 1) })
        XCTAssertEqual(error.code, .inputDamaged)
        XCTAssertEqual(error.exitStatus, 65)
        XCTAssertTrue(error.message.contains("no frame of it decodes"), error.message)
    }

    /// The audio encoder refusing its settings (a FLAC compression level beyond 12, an option FLAC does not have)
    /// is a usage error naming the option, raised after both codec contexts were allocated and opened: they are
    /// freed once, by `CodecContext` (see the report of the valgrind run). A good setting still transcodes.
    func testAudioEncoderRefusingItsSettingsFailsCleanly() throws {
        let wav = try make("tone.wav", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1", "-ac", "2"])
        let d = try Demuxer.input(wav)
        let si = try XCTUnwrap((0..<d.streamCount).first { d.parameters(of: $0).mediaType == .audio })
        func transcoder(_ params: String) throws -> AudioTranscoder {
            try AudioTranscoder(demuxer: d, index: si, codec: "flac", bitrate: nil, params: params,
                                start: 0, end: 1, cut: true)
        }
        let refused = try XCTUnwrap(thrownEncodaError { _ = try transcoder("compression_level=99") })
        XCTAssertEqual(refused.code, .usage)
        XCTAssertTrue(refused.message.contains("refused the settings for audio track #0 (2 channels, 48000 Hz, --audio-params)"), refused.message)
        let unknown = try XCTUnwrap(thrownEncodaError { _ = try transcoder("no_such_option=1") })
        XCTAssertEqual(unknown.code, .usage)
        XCTAssertTrue(unknown.message.contains("options the flac encoder does not know"), unknown.message)

        let good = try transcoder("compression_level=5")
        var packets = 0
        let p = Packet()
        while try d.read(into: p) {
            if p.streamIndex == si { try good.feed(p) { _ in packets += 1 } }
        }
        try good.finish { _ in packets += 1 }
        XCTAssertEqual(good.parameters(packets: packets).samples, 48000)
        XCTAssertGreaterThan(packets, 0)
    }

    /// A muxer writes the trailer only in `finish()`: finished, ffprobe reads every frame; dropped unfinished (a
    /// failed join), its deinit only frees, so an MP4 has no index (`moov`) and no reader can open it.
    func testMuxerWritesItsTrailerOnlyWhenFinished() throws {
        let source = try make("source.mkv", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "12",
                                             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        let finished = dir + "/finished.mp4", dropped = dir + "/dropped.mp4"
        try remux(source, to: finished, finish: true)
        XCTAssertEqual(try ffprobeFrames(finished), 12)
        try remux(source, to: dropped, finish: false)
        XCTAssertGreaterThan(try fileSize(dropped), 0, "the packets were written")
        let probe = try Clips.run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", dropped])
        XCTAssertNotEqual(probe.status, 0, "an unfinished MP4 must have no trailer: \(probe.output)")
        XCTAssertTrue(probe.output.contains("moov atom not found"), probe.output)
    }

    // MARK: helpers

    /// Copies `source`'s video packets into `path` through `OutputMuxer`, finishing it or dropping it unfinished.
    private func remux(_ source: String, to path: String, finish: Bool) throws {
        let (d, facts) = try InputProbe.open(source)
        let extradata = d.parameters(of: facts.streamIndex).extradata
        var muxer: OutputMuxer? = try OutputMuxer(path: path, format: OutputFormat.forPath(path, encoder: .h264), encoder: .h264, video: facts,
                                      pixelFormat: .yuv420p, extradata: extradata)
        let p = Packet()
        while try d.read(into: p) {
            guard p.streamIndex == facts.streamIndex else { continue }
            try p.withBytes { try muxer!.write(data: $0, pts: p.pts, dts: p.dts, duration: p.duration, isKey: p.isKeyframe) }
        }
        if finish { try muxer!.finish() }
        muxer = nil
    }

    private func make(_ name: String, _ args: [String]) throws -> String {
        let path = dir + "/" + name
        let r = try Clips.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + args + [path])
        guard r.status == 0 else { throw NSError(domain: "ffmpeg", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.output]) }
        return path
    }

    private func cut(_ path: String, bytes: Int, to name: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let out = dir + "/" + name
        try data.prefix(bytes).write(to: URL(fileURLWithPath: out))
        return out
    }

    private func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// Frames of the first video stream that ffprobe decodes (an MPEG-TS lists its stream twice: under its program
    /// and alone; the first line is taken).
    private func ffprobeFrames(_ path: String) throws -> Int {
        let r = try Clips.run("ffprobe", ["-v", "quiet", "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames",
                                    "-of", "default=nw=1:nk=1", path])
        return r.output.split(separator: "\n").first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
    }

    private func readAll(_ d: Demuxer) throws -> Int {
        let p = Packet()
        var n = 0
        while try d.read(into: p) { n += 1 }
        return n
    }

    private func thrownEncodaError(_ body: () throws -> Void) -> EncodaError? {
        do { try body() } catch let e as EncodaError { return e } catch { XCTFail("not an EncodaError: \(error)") ; return nil }
        XCTFail("no error thrown")
        return nil
    }

}
