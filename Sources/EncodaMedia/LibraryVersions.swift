import CFFmpeg
import EncodaCodecs

/// The versions of the libraries encoda runs with, for `encoda --version`.
public enum LibraryVersions {
    /// "59.37.100" from a libav version integer.
    static func dotted(_ v: UInt32) -> String { "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)" }

    public static var libav: String {
        "libavformat \(dotted(avformat_version())), libavcodec \(dotted(avcodec_version())), libavutil \(dotted(avutil_version())) (FFmpeg \(String(cString: av_version_info())))"
    }
    public static var svtav1: String { EncoderVersions.svtav1 }
    public static var x264: String { EncoderVersions.x264 }
}
