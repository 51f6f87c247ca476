internal import CFFmpeg

/// What an audio decoder gives, as it says once opened.
extension Decoder {
    public var sampleRate: Int { Int(context.pointee.sample_rate) }
    public var sampleFormat: LibavSampleFormat { LibavSampleFormat(context.pointee.sample_fmt) }
    /// The decoder's channel layout, copied (unspecified when the stream does not say which channels it has).
    public var channelLayout: ChannelLayout { ChannelLayout(copying: &context.pointee.ch_layout) }
}
