import EncodaCodecs
import EncodaFFmpeg

/// The versions of the libraries encoda runs with, for `encoda --version`.
public enum LibraryVersions {
    public static var libav: String {
        "libavformat \(LibavVersions.libavformat), libavcodec \(LibavVersions.libavcodec), libavutil \(LibavVersions.libavutil) (FFmpeg \(LibavVersions.ffmpeg))"
    }
    public static var svtav1: String { EncoderVersions.svtav1 }
    public static var x264: String { EncoderVersions.x264 }
}
