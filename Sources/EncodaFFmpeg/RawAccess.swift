package import CFFmpeg

// The C objects behind the overlay's types, for the EncodaMedia files not yet moved onto the overlay's Swift API
// (AudioTranscoder, SideStreams, Muxer, MuxPlanner, SourceMetadataIO ...). `package`, never public: nothing outside
// this package sees a C type. Each accessor lends a pointer owned by the overlay object, valid while that object
// lives; no caller frees one. This file goes when the last of those files is moved over.

extension Packet {
    package var pointer: UnsafeMutablePointer<AVPacket> { object }
}

extension Frame {
    package var pointer: UnsafeMutablePointer<AVFrame> { object }
    package var format: AVPixelFormat { pixelFormat.av }
}

extension Demuxer {
    package var formatContext: UnsafeMutablePointer<AVFormatContext> { context }
    package func stream(_ i: Int) -> UnsafeMutablePointer<AVStream> { avStream(i) }
}

extension CodecContext {
    package init(codec: UnsafePointer<AVCodec>) { self.init(codec) }
    package var context: UnsafeMutablePointer<AVCodecContext> { pointer }
}

extension LibavPixelFormat {
    package init(_ format: AVPixelFormat) { self.init(rawValue: format.rawValue) }
    package var av: AVPixelFormat { AVPixelFormat(rawValue: rawValue) }
}

extension LibavRational {
    package init(_ r: AVRational) { self.init(Int(r.num), Int(r.den)) }
    package var av: AVRational { AVRational(num: Int32(num), den: Int32(den)) }
}

extension Decoder {
    package var codecContext: UnsafeMutablePointer<AVCodecContext> { context }
}
