import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// A chunk's work under `--target-quality`, on whichever worker claims it: probe encodes at the CRFs the search
/// asks for (`CRFSearch`), each scored while it is encoded and recorded in TMP/probes (`ProbeBook`), then the
/// chosen probe's file becomes the chunk file. Probes recorded by a worker that was killed are read, not redone.
struct TargetQualityEncoding {
    let media: MediaChunkEncoding
    let directory: WorkDirectory
    let target: QualityTarget
    /// Tells the worker's log which probe is being encoded.
    let log: (String) -> Void

    func encode(chunk: Chunk, outputPath: String, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        let book = ProbeBook(directory: directory, manifest: media.manifest)
        try book.prepare()
        let token = OwnNames.chunkFile((outputPath as NSString).lastPathComponent)?.token ?? Token.make()
        var records = book.records(chunk.id)
        if !records.isEmpty { log("chunk \(chunk.name): \(records.count) probe(s) recorded earlier: " + Self.describe(records)) }
        while true {
            switch CRFSearch.next(records.map(\.point), target: target.target, range: target.crfRange, maxProbes: target.probes) {
            case .probe(let crf):
                records.append(try probe(chunk, crf: crf, token: token, book: book, final: false, progress: progress))
                records.sort { $0.crf < $1.crf }
            case .choose(let crf, let outcome):
                guard let chosen = records.first(where: { $0.crf == crf }) else {
                    // No probe met the target: the range's best end, measured too; the search then decides on it.
                    records.append(try probe(chunk, crf: crf, token: token, book: book, final: true, progress: progress))
                    records.sort { $0.crf < $1.crf }
                    continue
                }
                return try keep(chosen, outcome: outcome, chunk: chunk, records: records, outputPath: outputPath, book: book, progress: progress)
            }
        }
    }

    /// Encodes and scores chunk at `crf` into TMP/probes and publishes its record.
    private func probe(_ chunk: Chunk, crf: Int, token: String, book: ProbeBook, final: Bool,
                       progress: @escaping @Sendable (Int) -> Void) throws -> ProbeRecord {
        let name = ProbeRecord.fileName(chunk: chunk.id, crf: crf, token: token)
        let path = book.path(name)
        let started = Date()
        let r: ChunkEncodeReport
        do {
            r = try media.encodeOnce(chunk: chunk, outputPath: path, progress: progress, crf: crf,
                                     scoring: ProbeScoring(metric: target.metric, rate: target.probeRate, vmafFFmpeg: vmafPath))
        } catch { try? FileSystem.unlink(path); throw error }
        guard let score = target.pool.pool(r.scores) else {
            try? FileSystem.unlink(path)
            throw EncodaError(.encoder, "chunk \(chunk.name): the probe at crf \(crf) scored no frame; it will be encoded again")
        }
        let record = ProbeRecord(jobID: media.manifest.jobID, chunk: chunk.id, crf: crf, score: score, framesScored: r.scores.count,
                                 file: name, bytes: r.bytes, crc32: r.crc32, seconds: Date().timeIntervalSince(started), final: final)
        let standing = try book.publish(record)
        if standing.file != name { try? FileSystem.unlink(path) }
        log("chunk \(chunk.name): \(final ? "encoded at the range's end" : "probe") crf \(crf): \(target.metric.rawValue) \(String(format: "%.2f", standing.score)) (\(r.scores.count) frames scored, \(String(format: "%.1f", record.seconds)) s)")
        return standing
    }

    private var vmafPath: String? {
        target.metric == .vmaf ? try? VmafFFmpeg.locate(explicit: ProcessInfo.processInfo.environment[VmafEnvironment.name]) : nil
    }

    /// The chosen probe's file becomes the chunk file (a hard link: the same bytes, no copy); the other probes'
    /// files are removed (their records stay). A file that is gone (its worker linked it and was killed before
    /// publishing) is encoded again at the same CRF, its recorded score kept.
    private func keep(_ chosen: ProbeRecord, outcome: CRFSearch.Outcome, chunk: Chunk, records: [ProbeRecord], outputPath: String,
                      book: ProbeBook, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        try? FileSystem.unlink(outputPath)
        var bytes = chosen.bytes, crc = chosen.crc32
        let source = book.path(chosen.file)
        let linked = (try? FileSystem.stat(source)).map { Int64($0.st_size) == chosen.bytes } == true
            && (try? FileSystem.link(source, to: outputPath)) != nil
        if !linked {
            let r = try media.encodeOnce(chunk: chunk, outputPath: outputPath, progress: progress, crf: chosen.crf, scoring: nil)
            bytes = r.bytes; crc = r.crc32
            log("chunk \(chunk.name): the file of the probe at crf \(chosen.crf) was gone; encoded it again")
        }
        for r in records { try? FileSystem.unlink(book.path(r.file)) }
        let quality = ChunkQuality(crf: chosen.crf, score: chosen.score, target: target.target, metric: target.metric, outcome: outcome,
                                   probes: records.map(\.point), probeSeconds: records.reduce(0) { $0 + $1.seconds },
                                   finalSeconds: chosen.seconds)
        var out = EncodedChunk(frames: chunk.range.count, bytes: bytes, crc32: crc, seekSeconds: 0, framesSkipped: 0)
        out.quality = quality
        return out
    }

    static func describe(_ records: [ProbeRecord]) -> String {
        records.map { "crf \($0.crf) → \(String(format: "%.2f", $0.score))" }.joined(separator: ", ")
    }
}

/// The variable naming the ffmpeg with libvmaf that `--metric vmaf` scores with (`--vmaf-ffmpeg`), so the worker
/// processes this one starts find it too.
public enum VmafEnvironment {
    public static let name = "ENCODA_VMAF_FFMPEG"
}
