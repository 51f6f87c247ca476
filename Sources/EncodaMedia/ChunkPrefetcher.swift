import Dispatch
import Foundation

/// Reads the next chunk file of a join, and computes its CRC-32, on a second thread while the current chunk is
/// being muxed: reading and checksumming are a third to a half of a join, and the muxer leaves a core free.
/// Two buffers take turns, so chunk `i` stays untouched while chunk `i + 1` is read. The first two chunks are
/// read at the same time, so the second is ready when the first is muxed.
///
/// Why `@unchecked Sendable` holds (one of the package's two): the reads run on `queue` and touch only `paths`
/// (immutable), `loaded` (under `lock`) and buffer `i % 2`; `start`, `take` and `groups` belong to the one thread
/// that joins. Buffer `i % 2` is handed to the read of chunk `i` only after chunk `i - 2`, its last user, was taken
/// and muxed (the precondition of `start`), and `take` returns chunk `i` only after its read's group is done, so no
/// buffer is ever used by two threads at once; `deinit` waits for any read still running.
final class ChunkPrefetcher: @unchecked Sendable {
    /// A chunk file in memory and its CRC-32, or nil when it could not be read (the caller treats it as a chunk
    /// that does not match its record).
    struct Loaded {
        var reader: ChunkReader?
        var crc: UInt32
    }

    private let paths: [String]
    private let buffers: [ChunkBuffer]
    private let queue = DispatchQueue(label: "encoda.join.prefetch", attributes: .concurrent)
    private let lock = NSLock()
    private var loaded: [Int: Loaded] = [:]
    private var groups: [Int: DispatchGroup] = [:]

    /// - Parameter largest: the largest chunk file expected (from the result records), so the buffers are
    ///   allocated once.
    init(paths: [String], largest: Int) {
        self.paths = paths
        buffers = [ChunkBuffer(), ChunkBuffer()]
        for b in buffers { _ = b.reserve(min(largest, 1 << 30) + 1) }
        start(0)
        start(1)
    }

    /// Starts reading chunk `i` (no-op past the end, or when it was started). Chunk `i - 2` must be finished with.
    func start(_ i: Int) {
        guard i < paths.count, groups[i] == nil else { return }
        let group = DispatchGroup()
        groups[i] = group
        queue.async(group: group) { [self] in
            let reader = try? ChunkReader(path: paths[i], buffer: buffers[i % 2])
            let result = Loaded(reader: reader, crc: reader?.crc ?? 0)
            lock.lock(); loaded[i] = result; lock.unlock()
        }
    }

    /// Chunk `i`, waiting for its read to finish (starting it first if it was not).
    func take(_ i: Int) -> Loaded {
        start(i)
        groups[i]!.wait()
        groups[i] = nil
        lock.lock(); defer { lock.unlock() }
        return loaded.removeValue(forKey: i)!
    }

    /// Waits for any read still running, so no buffer is freed under it.
    deinit { queue.sync(flags: .barrier) {} }
}
