internal import CFFmpeg

/// The versions of the libav libraries encoda is linked with at run time, as "major.minor.micro". Recorded in
/// job.json (a worker refuses a plan made with another libavcodec) and shown by `encoda --version`.
/// The corresponding C functions are `avformat_version`, `avcodec_version`, `avutil_version` and `av_version_info`.
public enum LibavVersions {
    /// "59.37.100" from a libav version integer.
    static func dotted(_ v: UInt32) -> String { "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)" }

    public static var libavformat: String { dotted(avformat_version()) }
    public static var libavcodec: String { dotted(avcodec_version()) }
    public static var libavutil: String { dotted(avutil_version()) }
    /// FFmpeg's own version string ("5.1.6-0+deb12u1").
    public static var ffmpeg: String { String(cString: av_version_info()) }
}
