internal import CFFmpeg

/// What a file and its streams say about themselves besides their parameters: metadata tags, chapters, channel
/// layouts. Copies, so nothing points into the demuxer.
extension Demuxer {
    /// The value of `key` in stream `i`'s metadata (case-insensitive, the first entry), nil when absent.
    /// The corresponding C function is `av_dict_get`.
    public func metadata(of i: Int, _ key: String) -> String? { dictionaryValue(avStream(i).pointee.metadata, key) }

    /// The value of `key` in the file's own metadata, as `metadata(of:_:)`.
    public func fileMetadata(_ key: String) -> String? { dictionaryValue(context.pointee.metadata, key) }

    /// Stream `i`'s channel layout as libavutil describes it ("stereo", "5.1(side)"), else "N channels".
    /// The corresponding C function is `av_channel_layout_describe`.
    public func channelLayoutDescription(of i: Int) -> String {
        var layout = avStream(i).pointee.codecpar.pointee.ch_layout
        var buf = [CChar](repeating: 0, count: 64)
        if av_channel_layout_describe(&layout, &buf, buf.count) < 0 { return "\(layout.nb_channels) channels" }
        return String(nulTerminated: buf)
    }

    /// The number of chapters the file holds.
    public var chapterCount: Int { Int(context.pointee.nb_chapters) }
}

/// The value of `key` in a libav dictionary: case-insensitive, the first entry. The corresponding C function is
/// `av_dict_get`.
func dictionaryValue(_ dict: OpaquePointer?, _ key: String) -> String? {
    guard let e = av_dict_get(dict, key, nil, 0), let v = e.pointee.value else { return nil }
    return String(cString: v)
}
