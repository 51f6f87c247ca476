import CFFmpeg

/// An owned AVPacket. A final class because the demuxer refills one packet in place across reads.
/// The corresponding C type is `AVPacket`.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() {
        guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        pointer = p
    }
    deinit { var p: UnsafeMutablePointer<AVPacket>? = pointer; av_packet_free(&p) }
    func unref() { av_packet_unref(pointer) }
}

/// An owned AVFrame, reused by the decoder for every frame. The corresponding C type is `AVFrame`.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() {
        guard let p = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        pointer = p
    }
    deinit { var p: UnsafeMutablePointer<AVFrame>? = pointer; av_frame_free(&p) }
    func unref() { av_frame_unref(pointer) }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var format: AVPixelFormat { AVPixelFormat(rawValue: pointer.pointee.format) }
    /// The decoder's best guess of the presentation timestamp (pts, else reordered dts).
    var timestamp: Int64 { pointer.pointee.best_effort_timestamp }
    var isKeyframe: Bool { pointer.pointee.key_frame != 0 }
    var duration: Int64 { pointer.pointee.pkt_duration }
    /// Byte position in the file of the packet the frame was decoded from, -1 when unknown. The corresponding
    /// C field is `AVFrame.pkt_pos`.
    var packetPosition: Int64 { pointer.pointee.pkt_pos }
    /// Size of the packet the frame was decoded from (0 when unknown).
    var packetSize: Int { max(0, Int(pointer.pointee.pkt_size)) }
    /// The picture holds two interlaced fields (the decoder's per-frame flag).
    var isInterlaced: Bool { pointer.pointee.interlaced_frame != 0 }
    /// For an interlaced picture: the top field is shown first.
    var topFieldFirst: Bool { pointer.pointee.top_field_first != 0 }
    func plane(_ i: Int) -> UnsafeMutablePointer<UInt8>? {
        withUnsafePointer(to: pointer.pointee.data) { $0.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0[i] } }
    }
    func stride(_ i: Int) -> Int {
        withUnsafePointer(to: pointer.pointee.linesize) { $0.withMemoryRebound(to: Int32.self, capacity: 8) { Int($0[i]) } }
    }
}
