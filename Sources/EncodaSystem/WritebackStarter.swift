internal import CPlatform
#if canImport(Glibc)
import Glibc
#endif

/// Starts writing a file's dirty pages to storage while more of it is still being written, so that the final
/// fsync waits for the last pieces only instead of the whole file. A hint: when the file cannot be opened or the
/// call fails, nothing changes but the time the fsync takes. The corresponding C call is `sync_file_range`.
public final class WritebackStarter {
    private let fd: Int32

    public init(path: String) { fd = open(path, O_RDONLY) }
    deinit { if fd >= 0 { close(fd) } }

    public func start() { if fd >= 0 { _ = encoda_start_writeback(fd) } }
}
