import EncodaFFmpeg
import EncodaModel
import Foundation

/// Decodes one audio stream of INPUT and encodes it once with opus, aac or flac, keeping its channel count and
/// its place on INPUT's clock. By default the whole track is kept: sample 0 of the output is the track's own first
/// sample (before, inside or after the video's span, as `ffmpeg -c copy` keeps it), and a gap (damaged packets)
/// becomes silence. With `--cut-audio-to-video` sample 0 is the video's first instant instead: audio before it is
/// dropped, a late start becomes silence, and the track ends exactly when the video ends.
/// The encoder's priming (libavcodec's `initial_padding`) is left to the muxer: the packets' timestamps start that
/// many samples early, as libavcodec writes them, and the stream carries `initial_padding`.
///
/// Ownership: every libav object is an overlay type that frees itself (decoder, encoder, resampler, FIFO, buffers),
/// so a failure anywhere in `init` or later leaks nothing.
final class AudioTranscoder {
    let sourceIndex: Int
    private let decoder: Decoder
    private let encoder: AudioEncoder
    /// Set up on the first decoded frame, from that frame's format.
    private var resampler: Resampler?
    private let fifo: AudioFifo
    private let inTimeBase: LibavRational
    private let outRate: Int
    private let frameSize: Int
    private let smallLastFrame: Bool
    /// Where sample 0 sits on INPUT's clock, in seconds: the video's first instant when cutting, else set from the
    /// first decoded frame.
    private var startSeconds: Double?
    /// The stream's start time on INPUT's clock, for a first frame without a timestamp.
    private let streamStart: Double
    private let totalSamples: Int64
    /// Kept whole, a track is still read only within `window` seconds of INPUT's clock (a minute either side of the
    /// video): a frame beyond it has a damaged timestamp, and filling the gap to it with silence would be endless.
    static let wholeTrackMargin = 60.0
    private let window: ClosedRange<Double>
    /// Decoded frames left out because their timestamps lie outside `window`.
    private(set) var framesOutsideWindow = 0
    private var pushed: Int64 = 0
    private var encodedSamples: Int64 = 0
    private var started = false
    private let decoded = Frame()
    private let encFrame = Frame()
    private let pkt = Packet()
    private(set) var damagedPackets = 0
    private(set) var packets = 0
    let codecName: String

    /// - Parameters: start/end: the video's first instant and its end, in seconds on INPUT's clock; the track is cut
    ///   and padded to them when `cut` is true (`--cut-audio-to-video`), and kept whole otherwise.
    /// A transcoder of stream `index` of `demuxer`.
    init(demuxer: Demuxer, index: Int, codec: String, bitrate: Int?, params: String,
         start: Double, end: Double, cut: Bool) throws {
        let stream = demuxer.parameters(of: index)
        sourceIndex = index
        codecName = codec
        inTimeBase = stream.timeBase
        // Parsed before anything is allocated, so a bad --audio-params costs nothing to clean up.
        let pairs = try EncoderParams.parse(params, option: "--audio-params").map { ($0.key, $0.value) }
        do {
            decoder = try Decoder(demuxer: demuxer, stream: index, threads: 1)
        } catch {
            switch error.function {
            case "avcodec_find_decoder":
                throw EncodaError(.inputUnsupported, "audio track #\(index) of INPUT cannot be decoded by this libav; use --no-audio")
            case "avcodec_parameters_to_context":
                throw EncodaError(.inputUnsupported, "audio track #\(index) of INPUT has unusable parameters", cause: error.text)
            default:
                throw EncodaError(.inputUnsupported, "the decoder for audio track #\(index) could not be opened", cause: error.text)
            }
        }

        guard let audioCodec = MuxPlanner.encoderName(codec).flatMap({ AudioCodec(encoderNamed: $0) }) else {
            throw EncodaError(.usage, "this libavcodec has no \(codec) encoder; choose another --audio-codec")
        }
        // Sample rate: the source's when the encoder takes it, else the nearest it offers (opus: 48 kHz).
        var rate = decoder.sampleRate
        if let rates = audioCodec.sampleRates, var best = rates.first {
            for r in rates {
                if r == rate { best = r; break }
                if abs(r - rate) < abs(best - rate) || (r > rate && best < rate) { best = r }
            }
            rate = best
        }
        outRate = rate
        // Sample format: the encoder's first, preferring 32-bit for flac from deep sources.
        var fmt = audioCodec.sampleFormats.first ?? .fltp
        if codec == "flac", stream.bitsPerRawSample > 16 || decoder.sampleFormat.bytesPerSample > 2 { fmt = .s32 }
        // Channel layout: the source's when the encoder takes it; else a layout of the same channel count.
        let source = decoder.channelLayout
        var layout = source.isUnspecified ? ChannelLayout(defaultFor: source.channels) : source
        if let list = audioCodec.channelLayouts, !list.contains(layout) {
            guard let sameCount = list.first(where: { $0.channels == layout.channels }) else {
                throw EncodaError(.usage, "the \(codec) encoder cannot take the \(layout.channels)-channel audio of track #\(index) without downmixing; choose --audio-codec flac or a container that holds the original (.mkv)")
            }
            layout = sameCount
        }
        do {
            encoder = try AudioEncoder(audioCodec, sampleFormat: fmt, sampleRate: rate, channelLayout: layout, bitRate: bitrate, options: pairs)
        } catch where error.code == LibavError.optionNotFound {
            throw EncodaError(.usage, "--audio-params has options the \(codec) encoder does not know; see `ffmpeg -h encoder=\(audioCodec.name)`")
        } catch {
            // Name only the options the user gave.
            let given = [bitrate != nil ? "--audio-bitrate" : nil, params.isEmpty ? nil : "--audio-params"].compactMap { $0 }
            let settings = given.isEmpty ? "" : ", " + given.joined(separator: " and ")
            throw EncodaError(.usage, "the \(codec) encoder refused the settings for audio track #\(index) (\(layout.channels) channels, \(rate) Hz\(settings))", cause: error.text)
        }
        frameSize = encoder.frameSize > 0 ? encoder.frameSize : 1024
        smallLastFrame = audioCodec.takesShortLastFrame
        fifo = AudioFifo(format: fmt, channels: layout.channels, capacity: frameSize * 4)
        startSeconds = cut ? start : nil
        streamStart = stream.startTime == noPTS ? 0 : Double(stream.startTime) * Double(inTimeBase.num) / Double(inTimeBase.den)
        totalSamples = cut ? Int64(((end - start) * Double(rate)).rounded()) : Int64.max
        window = (start - Self.wholeTrackMargin)...(max(start, end) + Self.wholeTrackMargin)
    }

    /// Parameters for muxing the stored packets later.
    func parameters(packets: Int) -> AudioTrackParameters {
        AudioTrackParameters(sourceIndex: sourceIndex, codec: codecName, sampleRate: outRate, channels: encoder.channelLayout.channels,
                             channelMask: encoder.channelLayout.nativeMask ?? 0, extradata: encoder.extradata, frameSize: frameSize,
                             initialPadding: encoder.initialPadding, bitRate: encoder.bitRate,
                             startPTS: Int64(((startSeconds ?? streamStart) * Double(outRate)).rounded()),
                             packets: packets, samples: totalSamples == Int64.max ? pushed : totalSamples)
    }

    /// Feeds one INPUT packet of this stream. `output` receives encoded packets (pts in 1/rate from sample 0).
    func feed(_ packet: Packet, output: (Packet) throws -> Void) throws {
        // Any refusal counts as a damaged packet (its samples become silence); a full decoder is drained below.
        do { _ = try decoder.send(packet, skippingDamaged: false) } catch { damagedPackets += 1; return }
        try drainDecoder(output)
    }

    /// Flushes everything: decoder, resampler, silence up to the video's end (when cutting), encoder.
    func finish(output: (Packet) throws -> Void) throws {
        _ = try? decoder.send(nil)
        try drainDecoder(output)
        if let resampler {
            // Resampler tail.
            try convert(nil, count: 0, resampler: resampler, startSample: nil, output)
        }
        if totalSamples != Int64.max && pushed < totalSamples { try pushSilence(totalSamples - pushed, output) }
        try encodeFromFifo(final: true, output)
        try? encoder.send(nil)
        try drainEncoder(output)
    }

    private func drainDecoder(_ output: (Packet) throws -> Void) throws {
        while true {
            let r: ReceiveResult
            do { r = try decoder.receive(into: decoded) } catch { damagedPackets += 1; return }
            guard r == .frame else { return }
            try takeFrame(output)
        }
    }

    private func takeFrame(_ output: (Packet) throws -> Void) throws {
        let f = decoded
        let resampler = try self.resampler ?? makeResampler(for: f)
        // Where this frame's first sample belongs, in output samples from sample 0.
        var startSample: Int64? = nil
        let ts = f.timestamp
        let secs = ts == noPTS ? nil : Double(ts) * Double(inTimeBase.num) / Double(inTimeBase.den)
        if totalSamples == Int64.max, let secs, !window.contains(secs) { framesOutsideWindow += 1; return }
        if startSeconds == nil {
            // The whole track is kept: sample 0 is this first frame's first sample, on the output's sample grid.
            startSeconds = ((secs ?? streamStart) * Double(outRate)).rounded() / Double(outRate)
        }
        if let secs { startSample = Int64(((secs - startSeconds!) * Double(outRate)).rounded()) }
        try convert(f, count: f.sampleCount, resampler: resampler, startSample: startSample, output)
    }

    /// The resampler from the first decoded frame's format to the encoder's, kept for every later frame.
    private func makeResampler(for frame: Frame) throws -> Resampler {
        let made: Resampler
        do {
            made = try Resampler(converting: frame, to: encoder.sampleFormat, sampleRate: encoder.sampleRate, channelLayout: encoder.channelLayout)
        } catch where error.function == "swr_init" {
            throw EncodaError(.inputUnsupported, "audio track #\(sourceIndex) cannot be converted for the \(codecName) encoder", cause: error.text)
        } catch {
            throw EncodaError(.internalError, "setting up audio conversion failed", cause: error.text)
        }
        resampler = made
        return made
    }

    /// Resamples `frame` (nil: the resampler's tail) and appends it at its place on the timeline.
    private func convert(_ frame: Frame?, count: Int, resampler: Resampler, startSample: Int64?,
                         _ output: (Packet) throws -> Void) throws {
        let capacity = resampler.outputSamples(forInput: count) + 32
        guard capacity > 0 else { return }
        let buffer = try samples(capacity: capacity)
        let produced: Int
        do { produced = try resampler.convert(frame, into: buffer) } catch {
            throw EncodaError(.inputDamaged, "converting audio track #\(sourceIndex) failed", cause: error.text)
        }
        var n = Int64(produced)
        var offset: Int64 = 0
        if let start = startSample {
            let delay = resampler.delay(rate: outRate)
            let place = start - delay
            let tolerance = Int64(outRate / 10)
            if !started || place - pushed > tolerance {
                if place > pushed { try pushSilence(place - pushed, output) }   // late start or a gap
            }
            if place < pushed && (!started || pushed - place > tolerance) { offset = min(n, pushed - place) } // before the start / overlap
        }
        n -= offset
        n = min(n, totalSamples - pushed)
        if n > 0 {
            try buffered(buffer, from: Int(offset), count: Int(n))
            pushed += n
        }
        // Started once something is on the timeline: a frame wholly before the cut is dropped, and the next one
        // must still be cut to the sample, not kept whole because it overlaps by less than the tolerance.
        if pushed > 0 { started = true }
        try encodeFromFifo(final: false, output)
    }

    /// Appends `count` samples of silence, a second at a time, encoding as it goes (a long gap needs no big buffer).
    private func pushSilence(_ count: Int64, _ output: (Packet) throws -> Void) throws {
        var left = min(count, totalSamples - pushed)
        while left > 0 {
            let n = min(left, Int64(outRate))
            let silence = try samples(capacity: Int(n))
            silence.silence(Int(n))
            try buffered(silence, from: 0, count: Int(n))
            pushed += n
            left -= n
            try encodeFromFifo(final: false, output)
        }
    }

    /// An empty buffer of `capacity` samples in the encoder's format and channels.
    private func samples(capacity: Int) throws -> AudioSamples {
        do { return try AudioSamples(format: encoder.sampleFormat, channels: encoder.channelLayout.channels, capacity: capacity) } catch {
            throw EncodaError(.internalError, "allocating audio buffers failed", cause: error.text)
        }
    }

    /// Appends `count` samples of `samples` from sample `offset` on to the FIFO.
    private func buffered(_ samples: borrowing AudioSamples, from offset: Int, count: Int) throws {
        do { try fifo.write(samples, from: offset, count: count) } catch {
            throw EncodaError(.internalError, "buffering audio failed", cause: error.text)
        }
    }

    private func encodeFromFifo(final: Bool, _ output: (Packet) throws -> Void) throws {
        while fifo.count >= frameSize || (final && fifo.count > 0) {
            let n = min(frameSize, fifo.count)
            encFrame.unref()
            let size = smallLastFrame ? n : frameSize
            try check(.internalError, "allocating an audio frame failed") {
                try encFrame.allocateAudio(samples: size, format: encoder.sampleFormat, sampleRate: encoder.sampleRate,
                                           channelLayout: encoder.channelLayout)
            }
            if n < size { encFrame.silenceAudio() }
            try check(.internalError, "reading buffered audio failed") { try fifo.read(into: encFrame, count: n) }
            encFrame.pts = encodedSamples
            encodedSamples += Int64(n)
            try check(.encoder, "the \(codecName) encoder failed on audio track #\(sourceIndex)") { try encoder.send(encFrame) }
            try drainEncoder(output)
        }
    }

    private func drainEncoder(_ output: (Packet) throws -> Void) throws {
        while try check(.encoder, "the \(codecName) encoder failed on audio track #\(sourceIndex)", { try encoder.receive(into: pkt) }) {
            packets += 1
            try output(pkt)
        }
    }
}
