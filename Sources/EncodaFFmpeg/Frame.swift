internal import CFFmpeg

/// An owned AVFrame, reused by the decoder for every frame; `deinit` is its only release path. Plane pointers
/// are valid until the frame is next unreferenced or refilled. The corresponding C type is `AVFrame`.
public final class Frame {
    let object: UnsafeMutablePointer<AVFrame>

    public init() {
        guard let p = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        object = p
    }
    deinit { var p: UnsafeMutablePointer<AVFrame>? = object; av_frame_free(&p) }

    /// The corresponding C function is `av_frame_unref`.
    public func unref() { av_frame_unref(object) }

    public var width: Int { Int(object.pointee.width) }
    public var height: Int { Int(object.pointee.height) }
    public var pixelFormat: LibavPixelFormat { LibavPixelFormat(rawValue: object.pointee.format) }
    /// The decoder's best guess of the presentation timestamp (pts, else reordered dts); `noPTS` when none.
    public var timestamp: Int64 { object.pointee.best_effort_timestamp }
    public var isKeyframe: Bool { object.pointee.key_frame != 0 }
    public var duration: Int64 { object.pointee.pkt_duration }
    /// Byte position in the file of the packet the frame was decoded from, -1 when unknown. The corresponding
    /// C field is `AVFrame.pkt_pos`.
    public var packetPosition: Int64 { object.pointee.pkt_pos }
    /// Size of the packet the frame was decoded from (0 when unknown).
    public var packetSize: Int { max(0, Int(object.pointee.pkt_size)) }
    /// The picture holds two interlaced fields (the decoder's per-frame flag).
    public var isInterlaced: Bool { object.pointee.interlaced_frame != 0 }
    /// For an interlaced picture: the top field is shown first.
    public var topFieldFirst: Bool { object.pointee.top_field_first != 0 }
    /// The picture's matrix (`AVColorSpace`) and range (`AVColorRange`) as numbers.
    public var colorMatrix: Int32 { Int32(object.pointee.colorspace.rawValue) }
    public var colorRange: Int32 { Int32(object.pointee.color_range.rawValue) }

    /// Plane `i`'s first byte, nil when the picture has no such plane. Lent only through `withPlanes`.
    func plane(_ i: Int) -> UnsafeMutablePointer<UInt8>? {
        withUnsafePointer(to: object.pointee.data) { $0.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0[i] } }
    }

    /// Lends planes `0..<count` of the picture to `body`: each plane's first byte and the bytes from one row to the
    /// next. The pointers are the frame's buffers, valid only inside `body` (the frame may be unreferenced or reused
    /// after it). Nil, without calling `body`, when the picture lacks one of them.
    public func withPlanes<R>(_ count: Int, _ body: ([UnsafeMutablePointer<UInt8>], [Int]) throws -> R) rethrows -> R? {
        var planes: [UnsafeMutablePointer<UInt8>] = []
        for i in 0..<count {
            guard let p = plane(i) else { return nil }
            planes.append(p)
        }
        return try body(planes, (0..<count).map(stride))
    }
    /// Bytes from one row of plane `i` to the next.
    public func stride(_ i: Int) -> Int {
        withUnsafePointer(to: object.pointee.linesize) { $0.withMemoryRebound(to: Int32.self, capacity: 8) { Int($0[i]) } }
    }

    /// True once the frame holds picture buffers of its own (allocated or decoded).
    public var hasBuffers: Bool { object.pointee.data.0 != nil }

    /// Gives the frame buffers for a `width` x `height` picture in `format`. The corresponding C function is
    /// `av_frame_get_buffer`.
    public func allocate(format: LibavPixelFormat, width: Int, height: Int) throws(LibavError) {
        object.pointee.format = format.rawValue
        object.pointee.width = Int32(width)
        object.pointee.height = Int32(height)
        try libavCall(av_frame_get_buffer(object, 0), "av_frame_get_buffer")
    }

    /// Makes this frame a copy of `source`'s picture (format, size, pixels). The corresponding C functions are
    /// `av_frame_get_buffer` and `av_frame_copy`.
    public func copyPicture(of source: Frame) throws(LibavError) {
        try allocate(format: source.pixelFormat, width: source.width, height: source.height)
        try libavCall(av_frame_copy(object, source.object), "av_frame_copy")
    }

    /// Tags the picture with `source`'s matrix and range.
    public func copyColourTags(from source: Frame) {
        object.pointee.colorspace = source.object.pointee.colorspace
        object.pointee.color_range = source.object.pointee.color_range
    }

    /// Narrows the picture to `x`, `y`, `width` x `height` by moving its plane pointers (exact, unaligned offsets).
    /// The corresponding C function is `av_frame_apply_cropping`.
    public func crop(x: Int, y: Int, width: Int, height: Int) throws(LibavError) {
        let fw = self.width, fh = self.height
        object.pointee.crop_left = x
        object.pointee.crop_top = y
        object.pointee.crop_right = fw - (x + width)
        object.pointee.crop_bottom = fh - (y + height)
        try libavCall(av_frame_apply_cropping(object, Int32(AV_FRAME_CROP_UNALIGNED)), "av_frame_apply_cropping")
    }
}
