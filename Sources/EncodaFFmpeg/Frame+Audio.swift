internal import CFFmpeg

/// What an audio frame holds, and making one for an encoder.
extension Frame {
    /// Samples per channel.
    public var sampleCount: Int { Int(object.pointee.nb_samples) }

    /// The presentation timestamp as set for an encoder (an audio encoder's: in samples).
    public var pts: Int64 {
        get { object.pointee.pts }
        set { object.pointee.pts = newValue }
    }

    /// Gives the frame buffers for `samples` samples per channel in `format`, at `sampleRate`, with `layout`'s
    /// channels. The corresponding C functions are `av_channel_layout_copy` and `av_frame_get_buffer`.
    public func allocateAudio(samples: Int, format: LibavSampleFormat, sampleRate: Int, channelLayout layout: ChannelLayout) throws(LibavError) {
        object.pointee.nb_samples = Int32(samples)
        object.pointee.format = format.rawValue
        object.pointee.sample_rate = Int32(sampleRate)
        try libavCall(av_channel_layout_copy(&object.pointee.ch_layout, layout.layout), "av_channel_layout_copy")
        try libavCall(av_frame_get_buffer(object, 0), "av_frame_get_buffer")
    }

    /// Sets every sample of the frame's buffers to silence. The corresponding C function is `av_samples_set_silence`.
    public func silenceAudio() {
        av_samples_set_silence(object.pointee.extended_data, 0, object.pointee.nb_samples, object.pointee.ch_layout.nb_channels,
                               AVSampleFormat(rawValue: object.pointee.format))
    }
}
