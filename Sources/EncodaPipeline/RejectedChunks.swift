import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// The one answer to a chunk file that does not match its result record (`ChunkMismatch`), wherever a join finds
/// it: the record is set aside as `.invalid-TOKEN` (kept for a look, never trusted again), the supervisor forgets
/// it, so the chunk is open and encoded again, and the join waits for it. A chunk that fails a third time points
/// at TMP's storage rather than at the chunk: the job stops.
final class RejectedChunks {
    private let dir: WorkDirectory
    private let forget: (Int) -> Void
    private var rounds: [Int: Int] = [:]

    init(dir: WorkDirectory, forget: @escaping (Int) -> Void) {
        self.dir = dir; self.forget = forget
    }

    /// How many times chunk `id` failed verification in this run.
    func count(_ id: Int) -> Int { rounds[id] ?? 0 }

    func reject(_ mismatch: ChunkMismatch) throws {
        let id = mismatch.chunk
        rounds[id, default: 0] += 1
        if rounds[id]! > 2 { throw EncodaError(.stateCorrupt, "chunk \(Chunk.name(id)) keeps failing verification; check TMP's storage") }
        Report.warn("chunk \(Chunk.name(id)) does not match its result record; re-encoding it")
        // Gone already (another coordinator set it aside): the chunk is re-encoded all the same.
        try? FileSystem.rename(dir.result(id), to: dir.result(id) + ".invalid-\(Token.make())")
        forget(id)
    }
}
