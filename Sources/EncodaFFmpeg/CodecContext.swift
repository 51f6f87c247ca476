internal import CFFmpeg

/// An allocated codec context (a decoder's or an encoder's) whose only release path is its `deinit`. Kept as a
/// stored property, it is freed exactly once whether its owner's `init` throws half-way (Swift destroys the
/// properties already set, and runs no `deinit` of the owner) or the owner goes away later.
/// The corresponding C functions are `avcodec_alloc_context3` and `avcodec_free_context`.
package struct CodecContext: ~Copyable {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    init(_ codec: UnsafePointer<AVCodec>) {
        guard let c = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        pointer = c
    }

    deinit { var c: UnsafeMutablePointer<AVCodecContext>? = pointer; avcodec_free_context(&c) }
}
