internal import CFFmpeg

/// Converts decoded audio to one sample format, rate and channel layout. Set up from the first frame it is to
/// convert; later frames are taken to be alike (a decoder keeps its output format). The corresponding C type is
/// libswresample's `SwrContext`.
///
/// Ownership: `deinit` is the context's only release path. `context` is stored right after it is allocated: a
/// failure before (swr_alloc_set_opts2 frees what it allocated) leaves nothing, and a failure after (swr_init)
/// runs `deinit`, which frees it once.
public final class Resampler {
    private let context: OpaquePointer

    /// - Throws: `swr_alloc_set_opts2` (the parameters are unusable) or `swr_init` (libswresample cannot convert
    ///   between them).
    public init(converting frame: Frame, to format: LibavSampleFormat, sampleRate: Int, channelLayout: ChannelLayout) throws(LibavError) {
        var made: OpaquePointer? = nil
        let source = frame.object
        let ret = swr_alloc_set_opts2(&made, channelLayout.layout, format.av, Int32(sampleRate),
                                      &source.pointee.ch_layout, AVSampleFormat(rawValue: source.pointee.format), source.pointee.sample_rate,
                                      0, nil)
        guard ret >= 0, let made else { throw LibavError(code: ret < 0 ? ret : LibavError.outOfMemory, function: "swr_alloc_set_opts2") }
        context = made   // owned from here: a throw below runs deinit
        try libavCall(swr_init(made), "swr_init")
    }

    deinit { var c: OpaquePointer? = context; swr_free(&c) }

    /// The most samples per channel the next `convert` of `count` input samples can give (negative: libav's error).
    /// The corresponding C function is `swr_get_out_samples`.
    public func outputSamples(forInput count: Int) -> Int { Int(swr_get_out_samples(context, Int32(count))) }

    /// Samples held inside the resampler, not yet given out, counted in 1/`rate` s. The corresponding C function is
    /// `swr_get_delay`.
    public func delay(rate: Int) -> Int64 { swr_get_delay(context, Int64(rate)) }

    /// Converts `frame`'s samples (nil: gives out what it still holds) into the start of `samples`, at most its
    /// capacity; returns the samples per channel written. The corresponding C function is `swr_convert`.
    public func convert(_ frame: Frame?, into samples: borrowing AudioSamples) throws(LibavError) -> Int {
        let produced: Int32
        if let source = frame?.object {
            produced = source.pointee.extended_data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) {
                swr_convert(context, samples.data, Int32(samples.capacity), $0, source.pointee.nb_samples)
            }
        } else {
            produced = swr_convert(context, samples.data, Int32(samples.capacity), nil, 0)
        }
        return Int(try libavCall(produced, "swr_convert"))
    }
}
