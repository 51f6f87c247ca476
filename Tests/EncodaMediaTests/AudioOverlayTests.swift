import EncodaFFmpeg
import Foundation
import XCTest

/// The overlay's audio types (EncodaFFmpeg) in process, on a tone ffmpeg makes: an encoder refusing its settings
/// fails with a `LibavError` naming the C function, channel layouts say what libav says, and a decode → resample →
/// FIFO → encode round trip gives every sample and the tone back.
final class AudioOverlayTests: XCTestCase {
    private var clips: Clips!

    override func setUpWithError() throws { clips = try Clips() }
    override func tearDownWithError() throws { clips.remove() }

    /// FLAC has no compression level 99: avcodec_open2 refuses it with EINVAL. An option FLAC does not have at all
    /// lets the encoder open, and is refused as `optionNotFound`, naming avcodec_open2 too. A good level opens.
    func testEncoderRefusingItsOptionsFailsWithTheLibavCodeAndFunction() throws {
        let flac = try XCTUnwrap(AudioCodec(encoderNamed: "flac"))
        XCTAssertEqual(flac.name, "flac")
        XCTAssertTrue(flac.takesShortLastFrame)
        func open(_ options: [(String, String)]) throws -> AudioEncoder {
            try AudioEncoder(flac, sampleFormat: .s16, sampleRate: 48000, channelLayout: ChannelLayout(defaultFor: 2),
                             bitRate: nil, options: options)
        }
        let refused = try XCTUnwrap(libavError { _ = try open([("compression_level", "99")]) })
        XCTAssertEqual(refused.function, "avcodec_open2")
        XCTAssertEqual(refused.code, -EINVAL)
        let unknown = try XCTUnwrap(libavError { _ = try open([("no_such_option", "1")]) })
        XCTAssertEqual(unknown.function, "avcodec_open2")
        XCTAssertEqual(unknown.code, LibavError.optionNotFound)
        XCTAssertEqual(unknown.text, "Option not found")
        let good = try open([("compression_level", "5")])
        XCTAssertGreaterThan(good.frameSize, 0)
        XCTAssertEqual(good.sampleRate, 48000)
        XCTAssertEqual(good.sampleFormat, .s16)
        XCTAssertEqual(good.channelLayout.description, "stereo")
    }

    /// Layouts compare as libav compares them: by channels and positions, an unspecified one only by its count.
    func testChannelLayoutsAreLibavsDefaultsAndCompareByPosition() throws {
        let surround = ChannelLayout(defaultFor: 6)
        XCTAssertEqual(surround.description, "5.1")
        XCTAssertEqual(surround.nativeMask, 0x3F)   // FL FR FC LFE BL BR: libav's "5.1" (its side variant is "5.1(side)")
        XCTAssertEqual(surround, ChannelLayout(defaultFor: 6))
        XCTAssertNotEqual(surround, ChannelLayout(defaultFor: 2))
        // libavcodec's own opus encoder takes mono and stereo only; libopus lists no layout (any is offered to it).
        let nativeOpus = try XCTUnwrap(AudioCodec(encoderNamed: "opus"))
        XCTAssertEqual(try XCTUnwrap(nativeOpus.channelLayouts).map(\.description), ["mono", "stereo"])
        XCTAssertTrue(try XCTUnwrap(nativeOpus.channelLayouts).contains(ChannelLayout(defaultFor: 2)))
        XCTAssertFalse(try XCTUnwrap(nativeOpus.channelLayouts).contains(surround))
        let libopus = try XCTUnwrap(AudioCodec(encoderNamed: "libopus"))
        XCTAssertNil(libopus.channelLayouts)
        XCTAssertEqual(libopus.sampleRates?.first, 48000)
        let aac = try XCTUnwrap(AudioCodec(encoderNamed: "aac"))
        XCTAssertNil(aac.channelLayouts)
        XCTAssertEqual(aac.sampleFormats.first, .fltp)
        // libav has no default for 9 channels: only the count is known, and no position.
        let nine = ChannelLayout(defaultFor: 9)
        XCTAssertTrue(nine.isUnspecified)
        XCTAssertEqual(nine.channels, 9)
        XCTAssertNil(nine.nativeMask)
    }

    /// One second of a 440 Hz stereo tone at 48 kHz, decoded, resampled to 44.1 kHz, queued in a FIFO, encoded as
    /// FLAC in frames of the encoder's size (a short last one), and decoded again: exactly 44100 samples per
    /// channel come back, and the tone's 880 zero crossings.
    func testDecodeResampleEncodeRoundTripKeepsEverySample() throws {
        let wav = try clips.make("tone.wav", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1", "-ac", "2"])
        let d = try Demuxer(path: wav)
        let si = try XCTUnwrap((0..<d.streamCount).first { d.parameters(of: $0).mediaType == .audio })
        let decoder = try Decoder(demuxer: d, stream: si, threads: 1)
        XCTAssertEqual(decoder.sampleRate, 48000)
        XCTAssertEqual(decoder.sampleFormat, .s16)
        // A plain WAV names no channel positions: the count alone, which no default layout equals.
        XCTAssertTrue(decoder.channelLayout.isUnspecified)
        XCTAssertEqual(decoder.channelLayout.channels, 2)
        XCTAssertNotEqual(decoder.channelLayout, ChannelLayout(defaultFor: 2))

        let flac = try XCTUnwrap(AudioCodec(encoderNamed: "flac"))
        let encoder = try AudioEncoder(flac, sampleFormat: .s16, sampleRate: 44100, channelLayout: ChannelLayout(defaultFor: 2),
                                       bitRate: nil, options: [])
        let frameSize = encoder.frameSize
        XCTAssertGreaterThan(frameSize, 0)
        let fifo = AudioFifo(format: .s16, channels: 2, capacity: frameSize)
        var resampler: Resampler?
        var encoded: [[UInt8]] = []
        var queued = 0
        let frame = Frame(), out = Frame(), packet = Packet()

        func encode(final: Bool) throws {
            while fifo.count >= frameSize || (final && fifo.count > 0) {
                let n = min(frameSize, fifo.count)
                out.unref()
                try out.allocateAudio(samples: n, format: .s16, sampleRate: 44100, channelLayout: encoder.channelLayout)
                try fifo.read(into: out, count: n)
                out.pts = Int64(queued)
                queued += n
                try encoder.send(out)
                while try encoder.receive(into: packet) { encoded.append(packet.withBytes { Array($0) }) }
            }
        }
        func resample(_ source: Frame?, count: Int) throws {
            guard let r = resampler else { return }
            let buffer = try AudioSamples(format: .s16, channels: 2, capacity: r.outputSamples(forInput: count))
            let n = try r.convert(source, into: buffer)
            try fifo.write(buffer, count: n)
            try encode(final: false)
        }

        let p = Packet()
        while try d.read(into: p) {
            guard p.streamIndex == si else { continue }
            _ = try decoder.send(p)
            while try decoder.receive(into: frame) == .frame {
                if resampler == nil {
                    resampler = try Resampler(converting: frame, to: .s16, sampleRate: 44100, channelLayout: encoder.channelLayout)
                }
                try resample(frame, count: frame.sampleCount)
            }
        }
        try resample(nil, count: 0)   // what the resampler still holds
        try encode(final: true)
        try encoder.send(nil)
        while try encoder.receive(into: packet) { encoded.append(packet.withBytes { Array($0) }) }
        XCTAssertEqual(queued, 44100)

        let back = try Decoder(codec: "flac", extradata: encoder.extradata)
        var samples = 0, crossings = 0, last: Int16 = 0
        // The flushed encoder's last packet is empty: it carries only the final STREAMINFO, as side data.
        for bytes in encoded where !bytes.isEmpty {
            try bytes.withUnsafeBytes { try packet.fill(copying: $0, pts: noPTS, dts: noPTS, isKeyframe: true) }
            _ = try back.send(packet)
            while try back.receive(into: frame) == .frame {
                let left = try XCTUnwrap(frame.withPlanes(1) { p, _ in
                    p[0].withMemoryRebound(to: Int16.self, capacity: 2 * frame.sampleCount) { s in
                        (0..<frame.sampleCount).map { s[2 * $0] }   // interleaved: left, right, left, ...
                    }
                })
                for v in left where v != 0 {
                    if (v > 0) != (last > 0) && last != 0 { crossings += 1 }
                    last = v
                }
                samples += frame.sampleCount
            }
        }
        _ = try back.send(nil)
        while try back.receive(into: frame) == .frame { samples += frame.sampleCount }
        XCTAssertEqual(samples, 44100)
        XCTAssertEqual(Double(crossings), 880, accuracy: 2)
    }

    private func libavError(_ body: () throws -> Void) -> LibavError? {
        do { try body() } catch let e as LibavError { return e } catch { XCTFail("not a LibavError: \(error)"); return nil }
        XCTFail("no error thrown")
        return nil
    }
}
