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

    public var streamIndex: Int { Int(object.pointee.stream_index) }
    /// Presentation timestamp in the stream's time base; `noPTS` when it has none.
    public var pts: Int64 { object.pointee.pts }
    /// Decoding timestamp in the stream's time base; `noPTS` when it has none.
    public var dts: Int64 { object.pointee.dts }
    public var duration: Int64 { object.pointee.duration }
    public var isKeyframe: Bool { object.pointee.flags & AV_PKT_FLAG_KEY != 0 }
    /// A frame an edit list hides: decoded (later frames may refer to it) but never shown (`AV_PKT_FLAG_DISCARD`).
    public var isDiscarded: Bool { object.pointee.flags & AV_PKT_FLAG_DISCARD != 0 }
    public var size: Int32 { object.pointee.size }
    /// Byte position in the file, -1 when unknown.
    public var position: Int64 { object.pointee.pos }

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
