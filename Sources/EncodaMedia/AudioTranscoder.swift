import CFFmpeg
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
/// The corresponding C types are `AVCodecContext`, `SwrContext` and `AVAudioFifo`.
///
/// Ownership: the codec contexts are `CodecContext`s, freed by their own deinit on every path; the resampler and
/// the FIFO are freed only by `deinit` (each is stored only once it is set up, and nothing after the FIFO throws).
final class AudioTranscoder {
    let sourceIndex: Int
    private let decoder: CodecContext
    private let encoder: CodecContext
    private var dec: UnsafeMutablePointer<AVCodecContext> { decoder.context }
    private var enc: UnsafeMutablePointer<AVCodecContext> { encoder.context }
    private var swr: OpaquePointer?
    /// `swr` is initialised (set up on the first decoded frame; a refused one is kept only to be freed).
    private var swrReady = false
    private let fifo: OpaquePointer
    private let inTimeBase: AVRational
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
        let stream = demuxer.stream(index)
        sourceIndex = index
        codecName = codec
        let par = stream.pointee.codecpar!
        inTimeBase = stream.pointee.time_base
        // Parsed before anything is allocated, so a bad --audio-params costs nothing to clean up.
        let pairs = try EncoderParams.parse(params, option: "--audio-params").map { ($0.key, $0.value) }
        // A throw from here on frees the codec contexts already stored, through CodecContext's deinit.
        guard let dcodec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw EncodaError(.inputUnsupported, "audio track #\(index) of INPUT cannot be decoded by this libav; use --no-audio")
        }
        decoder = CodecContext(codec: dcodec)
        let d = decoder.context
        try check(avcodec_parameters_to_context(d, par), .inputUnsupported, "audio track #\(index) of INPUT has unusable parameters")
        d.pointee.pkt_timebase = stream.pointee.time_base
        try check(avcodec_open2(d, dcodec, nil), .inputUnsupported, "the decoder for audio track #\(index) could not be opened")

        guard let ecodec = MuxPlanner.encoderName(codec).flatMap({ avcodec_find_encoder_by_name($0) }) else {
            throw EncodaError(.usage, "this libavcodec has no \(codec) encoder; choose another --audio-codec")
        }
        encoder = CodecContext(codec: ecodec)
        let e = encoder.context
        // Sample rate: the source's when the encoder takes it, else the nearest it offers (opus: 48 kHz).
        var rate = Int(d.pointee.sample_rate)
        if let rates = ecodec.pointee.supported_samplerates {
            var best = Int(rates[0]), i = 0
            while rates[i] != 0 {
                let r = Int(rates[i])
                if r == rate { best = r; break }
                if abs(r - rate) < abs(best - rate) || (r > rate && best < rate) { best = r }
                i += 1
            }
            rate = best
        }
        outRate = rate
        // Sample format: the encoder's first, preferring 32-bit for flac from deep sources.
        var fmt = ecodec.pointee.sample_fmts?[0] ?? AV_SAMPLE_FMT_FLTP
        if codec == "flac", par.pointee.bits_per_raw_sample > 16 || av_get_bytes_per_sample(d.pointee.sample_fmt) > 2 { fmt = AV_SAMPLE_FMT_S32 }
        e.pointee.sample_fmt = fmt
        e.pointee.sample_rate = Int32(rate)
        e.pointee.time_base = AVRational(num: 1, den: Int32(rate))
        // Channel layout: the source's when the encoder takes it; else a layout of the same channel count.
        var layout = AVChannelLayout()
        if d.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            av_channel_layout_default(&layout, d.pointee.ch_layout.nb_channels)
        } else {
            av_channel_layout_copy(&layout, &d.pointee.ch_layout)
        }
        if let list = ecodec.pointee.ch_layouts {
            var i = 0, exact = false, sameCount: AVChannelLayout? = nil
            while list[i].nb_channels != 0 {
                var candidate = list[i]
                if av_channel_layout_compare(&candidate, &layout) == 0 { exact = true; break }
                if candidate.nb_channels == layout.nb_channels && sameCount == nil { sameCount = candidate }
                i += 1
            }
            if !exact {
                guard var alt = sameCount else {
                    av_channel_layout_uninit(&layout)
                    throw EncodaError(.usage, "the \(codec) encoder cannot take the \(layout.nb_channels)-channel audio of track #\(index) without downmixing; choose --audio-codec flac or a container that holds the original (.mkv)")
                }
                av_channel_layout_uninit(&layout)
                av_channel_layout_copy(&layout, &alt)
            }
        }
        av_channel_layout_copy(&e.pointee.ch_layout, &layout)
        if let bitrate { e.pointee.bit_rate = Int64(bitrate) }
        e.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        var opts: OpaquePointer? = nil
        for (k, v) in pairs { av_dict_set(&opts, k, v, 0) }
        let ret = avcodec_open2(e, ecodec, &opts)
        let unused = av_dict_count(opts)
        av_dict_free(&opts)
        if ret < 0 {
            let channels = layout.nb_channels   // read before uninit, which zeroes it
            av_channel_layout_uninit(&layout)
            // Name only the options the user gave.
            let given = [bitrate != nil ? "--audio-bitrate" : nil, params.isEmpty ? nil : "--audio-params"].compactMap { $0 }
            let settings = given.isEmpty ? "" : ", " + given.joined(separator: " and ")
            throw EncodaError(.usage, "the \(codec) encoder refused the settings for audio track #\(index) (\(channels) channels, \(rate) Hz\(settings))", cause: libavErrorString(ret))
        }
        if unused > 0 {
            av_channel_layout_uninit(&layout)
            throw EncodaError(.usage, "--audio-params has options the \(codec) encoder does not know; see `ffmpeg -h encoder=\(ecodec.pointee.name.map { String(cString: $0) } ?? codec)`")
        }
        frameSize = e.pointee.frame_size > 0 ? Int(e.pointee.frame_size) : 1024
        smallLastFrame = (ecodec.pointee.capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE)) != 0
        guard let f = av_audio_fifo_alloc(fmt, layout.nb_channels, Int32(frameSize * 4)) else { fatalError("out of memory") }
        fifo = f
        av_channel_layout_uninit(&layout)
        startSeconds = cut ? start : nil
        streamStart = stream.pointee.start_time == noPTS ? 0 : Double(stream.pointee.start_time) * Double(inTimeBase.num) / Double(inTimeBase.den)
        totalSamples = cut ? Int64(((end - start) * Double(rate)).rounded()) : Int64.max
        window = (start - Self.wholeTrackMargin)...(max(start, end) + Self.wholeTrackMargin)
    }

    deinit {
        swr_free(&swr)
        av_audio_fifo_free(fifo)
    }

    /// Parameters for muxing the stored packets later.
    func parameters(packets: Int) -> AudioTrackParameters {
        let e = enc.pointee
        var extradata: [UInt8] = []
        if let x = e.extradata, e.extradata_size > 0 { extradata = Array(UnsafeBufferPointer(start: x, count: Int(e.extradata_size))) }
        let mask: UInt64 = e.ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? e.ch_layout.u.mask : 0
        return AudioTrackParameters(sourceIndex: sourceIndex, codec: codecName, sampleRate: outRate, channels: Int(e.ch_layout.nb_channels),
                                    channelMask: mask, extradata: extradata, frameSize: frameSize, initialPadding: Int(e.initial_padding),
                                    bitRate: Int(e.bit_rate), startPTS: Int64(((startSeconds ?? streamStart) * Double(outRate)).rounded()),
                                    packets: packets, samples: totalSamples == Int64.max ? pushed : totalSamples)
    }

    /// Feeds one INPUT packet of this stream. `output` receives encoded packets (pts in 1/rate from sample 0).
    func feed(_ packet: Packet, output: (Packet) throws -> Void) throws {
        let ret = avcodec_send_packet(dec, packet.pointer)
        if ret < 0 && ret != averrorEAGAIN && ret != averrorEOF { damagedPackets += 1; return }
        try drainDecoder(output)
    }

    /// Flushes everything: decoder, resampler, silence up to the video's end (when cutting), encoder.
    func finish(output: (Packet) throws -> Void) throws {
        _ = avcodec_send_packet(dec, nil)
        try drainDecoder(output)
        if swrReady, let swr {
            // Resampler tail.
            try convert(nil, count: 0, swr: swr, startSample: nil, output)
        }
        if totalSamples != Int64.max && pushed < totalSamples { try pushSilence(totalSamples - pushed, output) }
        try encodeFromFifo(final: true, output)
        _ = avcodec_send_frame(enc, nil)
        try drainEncoder(output)
    }

    private func drainDecoder(_ output: (Packet) throws -> Void) throws {
        while true {
            decoded.unref()
            let r = avcodec_receive_frame(dec, decoded.pointer)
            if r == averrorEAGAIN || r == averrorEOF { return }
            if r < 0 { damagedPackets += 1; return }
            try takeFrame(output)
        }
    }

    private func takeFrame(_ output: (Packet) throws -> Void) throws {
        let f = decoded.pointer
        if !swrReady {
            var outLayout = enc.pointee.ch_layout
            var inLayout = f.pointee.ch_layout
            // Stored in `swr` at once, so deinit frees it even when swr_init refuses it (swr_alloc_set_opts2 reuses
            // a context given to it, and frees it when it fails itself).
            try check(swr_alloc_set_opts2(&swr, &outLayout, enc.pointee.sample_fmt, enc.pointee.sample_rate,
                                          &inLayout, AVSampleFormat(rawValue: f.pointee.format), f.pointee.sample_rate, 0, nil),
                      .internalError, "setting up audio conversion failed")
            try check(swr_init(swr), .inputUnsupported, "audio track #\(sourceIndex) cannot be converted for the \(codecName) encoder")
            swrReady = true
        }
        // Where this frame's first sample belongs, in output samples from sample 0.
        var startSample: Int64? = nil
        let ts = f.pointee.best_effort_timestamp
        let secs = ts == noPTS ? nil : Double(ts) * Double(inTimeBase.num) / Double(inTimeBase.den)
        if totalSamples == Int64.max, let secs, !window.contains(secs) { framesOutsideWindow += 1; return }
        if startSeconds == nil {
            // The whole track is kept: sample 0 is this first frame's first sample, on the output's sample grid.
            startSeconds = ((secs ?? streamStart) * Double(outRate)).rounded() / Double(outRate)
        }
        if let secs { startSample = Int64(((secs - startSeconds!) * Double(outRate)).rounded()) }
        try convert(f, count: Int(f.pointee.nb_samples), swr: swr!, startSample: startSample, output)
    }

    /// Resamples `frame` (nil: the resampler's tail) and appends it at its place on the timeline.
    private func convert(_ frame: UnsafeMutablePointer<AVFrame>?, count: Int, swr: OpaquePointer, startSample: Int64?,
                         _ output: (Packet) throws -> Void) throws {
        let capacity = Int(swr_get_out_samples(swr, Int32(count))) + 32
        guard capacity > 0 else { return }
        let channels = Int(enc.pointee.ch_layout.nb_channels)
        var data: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>? = nil
        try check(av_samples_alloc_array_and_samples(&data, nil, Int32(channels), Int32(capacity), enc.pointee.sample_fmt, 0),
                  .internalError, "allocating audio buffers failed")
        defer { av_freep(&data![0]); av_freep(&data) }
        let produced: Int32
        if let frame {
            produced = withUnsafePointer(to: frame.pointee.extended_data) { _ in
                frame.pointee.extended_data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: channels) { src in
                    swr_convert(swr, data, Int32(capacity), src, frame.pointee.nb_samples)
                }
            }
        } else {
            produced = swr_convert(swr, data, Int32(capacity), nil, 0)
        }
        try check(produced, .inputDamaged, "converting audio track #\(sourceIndex) failed")
        var n = Int64(produced)
        var offset: Int64 = 0
        if let start = startSample {
            let delay = swr_get_delay(swr, Int64(outRate))
            let place = start - delay
            let tolerance = Int64(outRate / 10)
            if !started || place - pushed > tolerance {
                if place > pushed { try pushSilence(place - pushed, output) }   // late start or a gap
            }
            if place < pushed && (!started || pushed - place > tolerance) { offset = min(n, pushed - place) } // before the start / overlap
        }
        started = true
        n -= offset
        n = min(n, totalSamples - pushed)
        if n > 0 {
            var planes = [UnsafeMutableRawPointer?](repeating: nil, count: max(channels, 8))
            let planar = av_sample_fmt_is_planar(enc.pointee.sample_fmt) != 0
            let bytes = Int64(av_get_bytes_per_sample(enc.pointee.sample_fmt))
            for c in 0..<(planar ? channels : 1) {
                planes[c] = UnsafeMutableRawPointer(data![c]!) + Int(offset * bytes * (planar ? 1 : Int64(channels)))
            }
            let w = planes.withUnsafeMutableBufferPointer { av_audio_fifo_write(fifo, $0.baseAddress, Int32(n)) }
            try check(w, .internalError, "buffering audio failed")
            pushed += n
        }
        try encodeFromFifo(final: false, output)
    }

    /// Appends `count` samples of silence, a second at a time, encoding as it goes (a long gap needs no big buffer).
    private func pushSilence(_ count: Int64, _ output: (Packet) throws -> Void) throws {
        var left = min(count, totalSamples - pushed)
        let channels = Int(enc.pointee.ch_layout.nb_channels)
        while left > 0 {
            let n = min(left, Int64(outRate))
            var data: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>? = nil
            try check(av_samples_alloc_array_and_samples(&data, nil, Int32(channels), Int32(n), enc.pointee.sample_fmt, 0),
                      .internalError, "allocating audio buffers failed")
            defer { av_freep(&data![0]); av_freep(&data) }
            av_samples_set_silence(data, 0, Int32(n), Int32(channels), enc.pointee.sample_fmt)
            let w = data!.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: channels) { av_audio_fifo_write(fifo, $0, Int32(n)) }
            try check(w, .internalError, "buffering audio failed")
            pushed += n
            left -= n
            try encodeFromFifo(final: false, output)
        }
    }

    private func encodeFromFifo(final: Bool, _ output: (Packet) throws -> Void) throws {
        while Int(av_audio_fifo_size(fifo)) >= frameSize || (final && av_audio_fifo_size(fifo) > 0) {
            let available = Int(av_audio_fifo_size(fifo))
            let n = min(frameSize, available)
            encFrame.unref()
            let ef = encFrame.pointer
            ef.pointee.nb_samples = Int32(smallLastFrame ? n : frameSize)
            ef.pointee.format = enc.pointee.sample_fmt.rawValue
            ef.pointee.sample_rate = enc.pointee.sample_rate
            av_channel_layout_copy(&ef.pointee.ch_layout, &enc.pointee.ch_layout)
            try check(av_frame_get_buffer(ef, 0), .internalError, "allocating an audio frame failed")
            if n < Int(ef.pointee.nb_samples) {
                av_samples_set_silence(ef.pointee.extended_data, 0, ef.pointee.nb_samples, ef.pointee.ch_layout.nb_channels, enc.pointee.sample_fmt)
            }
            let r = ef.pointee.extended_data.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) {
                av_audio_fifo_read(fifo, $0, Int32(n))
            }
            try check(r, .internalError, "reading buffered audio failed")
            ef.pointee.pts = encodedSamples
            encodedSamples += Int64(n)
            try check(avcodec_send_frame(enc, ef), .encoder, "the \(codecName) encoder failed on audio track #\(sourceIndex)")
            try drainEncoder(output)
        }
    }

    private func drainEncoder(_ output: (Packet) throws -> Void) throws {
        while true {
            pkt.unref()
            let r = avcodec_receive_packet(enc, pkt.pointer)
            if r == averrorEAGAIN || r == averrorEOF { return }
            try check(r, .encoder, "the \(codecName) encoder failed on audio track #\(sourceIndex)")
            packets += 1
            try output(pkt)
        }
    }
}
