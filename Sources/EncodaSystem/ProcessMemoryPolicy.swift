internal import CPlatform
import EncodaModel

/// How encoda tunes glibc's malloc, in one place: the role a process plays is set once by its entry point, and the
/// stages that change the best setting while they run (a chunk's encoder, a join) say which stage begins.
/// No-ops where malloc is not glibc's.
public enum ProcessMemoryPolicy {
    public enum Role: Sendable {
        /// A process that encodes chunks (`encoda worker`, a coordinator's local worker).
        case worker
    }

    public enum Stage: Sendable {
        /// A chunk encode with this encoder begins.
        case encoding(EncoderKind)
        /// A join (the coordinator) begins.
        case joining
    }

    /// For a process of `role`, before it starts any thread.
    ///
    /// A worker: each encoder's threads make many small allocations; with one malloc arena per thread they land in
    /// fresh arena memory for every chunk, whose page faults cost system time on every chunk. One shared arena that
    /// keeps its free memory (trim threshold 1 GB) serves the next chunk's encoder from memory already mapped, at the
    /// same peak. SVT-AV1's large buffers keep their own mappings (`largeAllocationThreshold`), so the peak does not
    /// grow with the number of chunks; `releaseFreeMemory` hands the kept memory back while a worker waits.
    /// The measurements: bench/README.md, "Measurements behind the code".
    public static func apply(_ role: Role) {
        switch role {
        case .worker:
            _ = encoda_set_arena_max(1)
            _ = encoda_set_trim_threshold(1 << 30)
        }
    }

    /// Before `stage` runs in this process.
    ///
    /// - `encoding`: set for every chunk, since a process may encode for jobs of both encoders, and joins set their
    ///   own (`largeAllocationThreshold`).
    /// - `joining`: the Matroska muxer builds each cluster (up to 5 MB) in a growing buffer that it frees when the
    ///   cluster is written. With glibc's defaults those buffers are fresh mappings, and every cluster of a long job
    ///   would fault in and zero new pages. Buffers up to 64 MB come from the heap, which keeps up to 128 MB of freed
    ///   memory for the next cluster. The coordinator holds no frames, so this costs it only the join's own working
    ///   set. (Measured: bench/README.md.)
    public static func begin(_ stage: Stage) {
        switch stage {
        case .encoding(let encoder):
            _ = encoda_set_mmap_threshold(largeAllocationThreshold(for: encoder))
        case .joining:
            _ = encoda_set_mmap_threshold(64 << 20)
            _ = encoda_set_trim_threshold(128 << 20)
        }
    }

    /// Returns the heap's free memory to the system (a worker with nothing to encode).
    public static func releaseFreeMemory() {
        _ = encoda_release_free_memory()
    }

    /// A worker opens one encoder per chunk, and each allocates and frees its picture buffers; glibc puts
    /// allocations from this size up in their own mappings, which are returned to the system when freed.
    /// - SVT-AV1 allocates a few hundred MB per encoder. Kept in the heap from chunk to chunk (glibc's own rising
    ///   threshold), they grow a worker's peak chunk after chunk; in their own mappings, the peak stays that of one
    ///   encoder. A higher threshold (above its per-frame buffers) trades the kernel's page clearing for calloc's
    ///   and gains nothing.
    /// - x264 holds far less, and faulting its buffers in afresh for every chunk was most of its workers' system
    ///   time: kept in the heap, they are reused by the next chunk's encoder.
    /// The measurements behind both: bench/README.md, "Measurements behind the code".
    static func largeAllocationThreshold(for encoder: EncoderKind) -> Int32 {
        encoder == .av1 ? 256 * 1024 : 64 << 20
    }
}
