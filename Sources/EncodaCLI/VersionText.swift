import EncodaMedia
import EncodaModel

/// What `encoda --version` prints: encoda's version and the libraries that decide the bits, which every worker
/// of a job must have in the same versions as the coordinator that planned it (see `EncoderVersions.mismatch`).
enum VersionText {
    static var full: String {
        let v = EncoderVersions.installed
        return """
        encoda \(EncodaVersion.current)
        \(LibraryVersions.libav)
        \(LibraryVersions.svtav1)
        \(LibraryVersions.x264)
        A job's workers need the same encoda, libavcodec (\(v.libavcodec)) and encoder version (SVT-AV1 \(v.svtav1) for av1, x264 build \(v.x264) for h264) as its coordinator.
        """
    }
}
