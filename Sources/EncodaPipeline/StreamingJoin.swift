import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation

/// The job's OUTPUT joined while the workers go on: polled by the supervisor, it appends each published chunk to the
/// temporary file beside OUTPUT (`OutputAppender`) as soon as every chunk before it is in, so that after the last
/// chunk only that chunk, the trailer and the rename are left (`finish`).
///
/// With `--mux` the file's header names the side streams, whose transcoded audio is prepared in the background
/// (`AudioJob`): the polls leave the file alone until that audio is ready, and `finish` waits for it. A chunk that
/// does not match its record goes to `RejectedChunks`; the file goes on from the chunk before it once it is
/// encoded again. A run that stops before `finish` removes the temporary file (`discard`); a killed one leaves it to
/// the next run's `PartialOutput.removeDead`, which joins again from the chunks kept in TMP.
final class StreamingJoin {
    let appender: OutputAppender
    private let dir: WorkDirectory
    private let manifest: JobManifest
    private let sidesOf: ((AudioJob) throws -> SideStreams)?
    private let audio: AudioJob?
    private let quiet: Bool
    private var pruned = false
    static let chunksPerPoll = 16

    init(dir: WorkDirectory, manifest: JobManifest, index: FrameIndex, output: String, audio: AudioJob?,
         sides: ((AudioJob) throws -> SideStreams)?, quiet: Bool) throws {
        self.dir = dir; self.manifest = manifest; self.audio = audio; self.sidesOf = sides; self.quiet = quiet
        appender = try OutputAppender(manifest: manifest, index: index, output: output)
    }

    private func pieces(_ state: JobState) -> [ChunkPiece] {
        appender.ready { chunk in
            state.done[chunk.id].map { ChunkPiece(chunk: chunk, path: dir.chunkFile(named: $0.file), bytes: $0.bytes, crc32: $0.crc32) }
        }
    }

    private func append(_ pieces: [ChunkPiece]) throws {
        guard !pieces.isEmpty else { return }
        if !pruned {
            // Before the first byte: what killed runs left, in TMP and beside OUTPUT.
            JobCleaner.pruneBeforeJoin(dir, manifest: manifest, output: appender.output, quiet: quiet)
            pruned = true
        }
        try appender.append(pieces, sides: { try audio.map { try sidesOf!($0) } })
    }

    /// For the supervisor's polling: appends what is ready, unless the header still waits for the audio. A
    /// mismatching chunk is rejected (the workers still running encode it again). An error stops the job.
    /// At most `chunksPerPoll` at a time, so that a resumed job with many chunks done still has its workers and
    /// signals looked after between appends.
    func poll(_ state: JobState, rejected: RejectedChunks) -> Error? {
        if !appender.started, let audio, !audio.ended { return nil }
        do { try append(Array(pieces(state).prefix(Self.chunksPerPoll))) } catch let mismatch as ChunkMismatch {
            do { try rejected.reject(mismatch) } catch { return error }
        } catch {
            return error
        }
        return nil
    }

    /// Every chunk is done in `state`: appends the rest (all of them on a re-run that found the chunks done), waiting
    /// for the audio if the header is not written yet, then writes OUTPUT.
    /// - Throws: `ChunkMismatch` for a chunk to encode again before calling this once more.
    func finish(_ state: JobState) throws {
        try append(pieces(state))
        guard appender.complete else {
            throw EncodaError(.internalError, "the join lacks chunk \(manifest.chunks[appender.next].name) although every chunk is done")
        }
        try appender.finish()
    }

    func discard() { appender.discard() }

    /// The temporary file beside OUTPUT, for a signal handler that must remove it without waiting for the join.
    var partialPath: String { appender.temp }
}
