internal import CFFmpeg

/// Which audio channels a stream carries and in what order (`AVChannelLayout`). A class because a layout of custom
/// order owns an allocated channel map: `deinit` is its only release path, and every layout is a copy of its own,
/// so nothing it holds points into a codec context or a frame.
public final class ChannelLayout: Equatable, CustomStringConvertible {
    let layout: UnsafeMutablePointer<AVChannelLayout>

    /// A copy of `source` (its channel map too). The corresponding C function is `av_channel_layout_copy`.
    init(copying source: UnsafePointer<AVChannelLayout>) {
        layout = .allocate(capacity: 1)
        layout.initialize(to: AVChannelLayout())
        // Only a custom map is allocated, so a failure is memory running out.
        guard av_channel_layout_copy(layout, source) >= 0 else { fatalError("av_channel_layout_copy: out of memory") }
    }

    /// libav's default layout for `channels` channels (mono, stereo, ..., 5.1 for six); of unspecified order when
    /// libav has no default for that count. The corresponding C function is `av_channel_layout_default`.
    public init(defaultFor channels: Int) {
        layout = .allocate(capacity: 1)
        layout.initialize(to: AVChannelLayout())
        av_channel_layout_default(layout, Int32(channels))
    }

    deinit {
        av_channel_layout_uninit(layout)
        layout.deinitialize(count: 1)
        layout.deallocate()
    }

    public var channels: Int { Int(layout.pointee.nb_channels) }
    /// Only the channel count is known (`AV_CHANNEL_ORDER_UNSPEC`), not which channels they are.
    public var isUnspecified: Bool { layout.pointee.order == AV_CHANNEL_ORDER_UNSPEC }
    /// The `AV_CH_*` bits of a layout in native order, nil for any other order.
    public var nativeMask: UInt64? { layout.pointee.order == AV_CHANNEL_ORDER_NATIVE ? layout.pointee.u.mask : nil }

    /// The same channels in the same positions; two unspecified layouts are the same when their counts are.
    /// The corresponding C function is `av_channel_layout_compare`.
    public static func == (a: ChannelLayout, b: ChannelLayout) -> Bool { av_channel_layout_compare(a.layout, b.layout) == 0 }

    /// libav's name of the layout ("stereo", "5.1", "3 channels"). The corresponding C function is
    /// `av_channel_layout_describe`.
    public var description: String {
        var buf = [CChar](repeating: 0, count: 128)
        guard av_channel_layout_describe(layout, &buf, buf.count) >= 0 else { return "\(channels) channels" }
        return String(nulTerminated: buf)
    }
}
