internal import CFFmpeg

/// An owned AVPacket. A final class because the demuxer refills one packet in place across reads; `deinit` is its
/// only release path. The corresponding C type is `AVPacket`.
public final class Packet {
    let object: UnsafeMutablePointer<AVPacket>

    public init() {
        guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        object = p
    }
    deinit { var p: UnsafeMutablePointer<AVPacket>? = object; av_packet_free(&p) }

    /// Drops the packet's data and resets its fields. The corresponding C function is `av_packet_unref`.
    public func unref() { av_packet_unref(object) }

    public var streamIndex: Int {
        get { Int(object.pointee.stream_index) }
        set { object.pointee.stream_index = Int32(newValue) }
    }
    /// Presentation timestamp in the stream's time base; `noPTS` when it has none.
    public var pts: Int64 {
        get { object.pointee.pts }
        set { object.pointee.pts = newValue }
    }
    /// Decoding timestamp in the stream's time base; `noPTS` when it has none.
    public var dts: Int64 {
        get { object.pointee.dts }
        set { object.pointee.dts = newValue }
    }
    public var duration: Int64 {
        get { object.pointee.duration }
        set { object.pointee.duration = newValue }
    }
    /// The `AV_PKT_FLAG_*` bits, as a packet store keeps them.
    public var flags: Int32 {
        get { object.pointee.flags }
        set { object.pointee.flags = newValue }
    }
    public var isKeyframe: Bool { object.pointee.flags & AV_PKT_FLAG_KEY != 0 }
    /// A frame an edit list hides: decoded (later frames may refer to it) but never shown (`AV_PKT_FLAG_DISCARD`).
    public var isDiscarded: Bool { object.pointee.flags & AV_PKT_FLAG_DISCARD != 0 }
    public var size: Int32 { object.pointee.size }
    /// Byte position in the file, -1 when unknown.
    public var position: Int64 {
        get { object.pointee.pos }
        set { object.pointee.pos = newValue }
    }

    /// Converts pts, dts and duration from time base `from` to `to` (rounding to nearest). The corresponding C
    /// function is `av_packet_rescale_ts`.
    public func rescaleTimestamps(from: LibavRational, to: LibavRational) { av_packet_rescale_ts(object, from.av, to.av) }

    /// Lends the packet's bytes for the duration of `body`.
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: object.pointee.data, count: Int(object.pointee.size)))
    }

    /// Makes the packet an owned copy of `bytes` with these timestamps (in the time base of whoever reads it).
    /// The corresponding C function is `av_new_packet`.
    public func fill(copying bytes: UnsafeRawBufferPointer, pts: Int64, dts: Int64, isKeyframe: Bool) throws(LibavError) {
        unref()
        try libavCall(av_new_packet(object, Int32(bytes.count)), "av_new_packet")
        if let base = bytes.baseAddress, bytes.count > 0 {
            object.pointee.data.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        }
        object.pointee.pts = pts
        object.pointee.dts = dts
        if isKeyframe { object.pointee.flags |= AV_PKT_FLAG_KEY }
    }
}
