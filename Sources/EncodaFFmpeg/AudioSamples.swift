internal import CFFmpeg

/// A buffer of audio samples of its own, `capacity` samples per channel in one sample format (one plane per channel
/// when the format is planar): what a `Resampler` writes into, or silence. `deinit` is its only release path.
/// The corresponding C functions are `av_samples_alloc_array_and_samples` and `av_free`.
public struct AudioSamples: ~Copyable {
    let data: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    public let format: LibavSampleFormat
    public let channels: Int
    public let capacity: Int

    public init(format: LibavSampleFormat, channels: Int, capacity: Int) throws(LibavError) {
        var planes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>? = nil
        try libavCall(av_samples_alloc_array_and_samples(&planes, nil, Int32(channels), Int32(capacity), format.av, 0),
                      "av_samples_alloc_array_and_samples")
        guard let planes else { fatalError("av_samples_alloc_array_and_samples: no buffer") }
        data = planes
        self.format = format
        self.channels = channels
        self.capacity = capacity
    }

    deinit {
        av_free(data[0])   // every plane lies in this one allocation
        av_free(data)
    }

    /// Sets the first `count` samples of every channel to silence. The corresponding C function is
    /// `av_samples_set_silence`.
    public func silence(_ count: Int) {
        av_samples_set_silence(data, 0, Int32(count), Int32(channels), format.av)
    }

    /// The planes' addresses from sample `offset` on (one for interleaved formats), as libav's functions take them.
    func planes(from offset: Int) -> [UnsafeMutableRawPointer?] {
        let planar = format.isPlanar
        let step = offset * format.bytesPerSample * (planar ? 1 : channels)
        return (0..<max(channels, 8)).map { c in
            c < (planar ? channels : 1) ? data[c].map { UnsafeMutableRawPointer($0) + step } : nil
        }
    }
}

/// A first-in first-out queue of audio samples in one format and channel count, growing as needed: it turns the
/// resampler's output of any length into frames of the encoder's size. `deinit` is its only release path.
/// The corresponding C type is `AVAudioFifo`.
public struct AudioFifo: ~Copyable {
    let fifo: OpaquePointer

    /// A queue with room for `capacity` samples per channel before it grows.
    public init(format: LibavSampleFormat, channels: Int, capacity: Int) {
        guard let f = av_audio_fifo_alloc(format.av, Int32(channels), Int32(capacity)) else { fatalError("av_audio_fifo_alloc: out of memory") }
        fifo = f
    }

    deinit { av_audio_fifo_free(fifo) }

    /// Samples per channel queued. The corresponding C function is `av_audio_fifo_size`.
    public var count: Int { Int(av_audio_fifo_size(fifo)) }

    /// Appends `count` samples of `samples` from sample `offset` on (same format and channels as the queue).
    /// The corresponding C function is `av_audio_fifo_write`.
    public func write(_ samples: borrowing AudioSamples, from offset: Int = 0, count: Int) throws(LibavError) {
        var planes = samples.planes(from: offset)
        try libavCall(planes.withUnsafeMutableBufferPointer { av_audio_fifo_write(fifo, $0.baseAddress, Int32(count)) },
                      "av_audio_fifo_write")
    }

    /// Moves the first `count` queued samples into the start of `frame`'s buffers (allocated for at least that many
    /// in the queue's format). The corresponding C function is `av_audio_fifo_read`.
    public func read(into frame: Frame, count: Int) throws(LibavError) {
        let ret = frame.object.pointee.extended_data.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) {
            av_audio_fifo_read(fifo, $0, Int32(count))
        }
        try libavCall(ret, "av_audio_fifo_read")
    }
}
