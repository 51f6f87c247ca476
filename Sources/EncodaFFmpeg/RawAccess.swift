package import CFFmpeg

// The C objects behind the overlay's types, for AudioTranscoder, the one EncodaMedia file not yet moved onto the
// overlay's Swift API (its audio decoder, encoder, resampler and FIFO belong in the overlay next). `package`, never
// public: nothing outside this package sees a C type. Each accessor lends a pointer owned by the overlay object,
// valid while that object lives; no caller frees one. This file goes when AudioTranscoder is moved over.

extension Packet {
    package var pointer: UnsafeMutablePointer<AVPacket> { object }
}

extension Frame {
    package var pointer: UnsafeMutablePointer<AVFrame> { object }
}

extension Demuxer {
    package func stream(_ i: Int) -> UnsafeMutablePointer<AVStream> { avStream(i) }
}

extension CodecContext {
    package init(codec: UnsafePointer<AVCodec>) { self.init(codec) }
    package var context: UnsafeMutablePointer<AVCodecContext> { pointer }
}
