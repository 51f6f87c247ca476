import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// A chunk's work under `--target-quality`, on whichever worker claims it: probe encodes at the CRFs the search
/// asks for (`CRFSearch`), each scored while it is encoded and recorded in TMP/probes (`ProbeBook`), then the
/// chosen probe's file becomes the chunk file. Probes recorded by a worker that was killed are read, not redone.
///
/// With `--probe-preset`, the probes encode at that faster preset and the search runs on them as usual; the chunk is
/// then encoded once at the job's preset, at the CRF chosen less the mean CRF shift measured on the chunks finished
/// so far (`PresetCorrection`), and scored on the same frames (`FinalEncodeRecord`, which also measures this chunk's
/// shift); that encode becomes the chunk file with its own score. One that misses the target is encoded once more at
/// the chunk's own shift read off it, and kept whatever it scores (named in the summary if it misses too).
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
        var shift = 0
        if let preset = target.probePreset {
            if let done = book.finalRecord(chunk.id) {
                log("chunk \(chunk.name): final encode at crf \(done.crf) recorded earlier: \(target.metric.rawValue) \(String(format: "%.2f", done.score))")
                return try keep(done, probes: records, chunk: chunk, outputPath: outputPath, book: book, progress: progress)
            }
            let measured = book.finalRecords()
            shift = PresetCorrection.meanShift(of: measured)
            log("chunk \(chunk.name): probes at preset \(preset); the final encode at the CRF they choose less \(shift), the shift measured on \(measured.count) chunk(s)")
        }
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
                guard target.probePreset != nil else {
                    return try keep(chosen, outcome: outcome, chunk: chunk, records: records, outputPath: outputPath, book: book, progress: progress)
                }
                let final = try finalEncode(chunk, probe: chosen, probes: records, outcome: outcome, shift: shift, token: token, book: book,
                                            progress: progress)
                return try keep(final, probes: records, chunk: chunk, outputPath: outputPath, book: book, progress: progress)
            }
        }
    }

    /// Encodes and scores chunk at `crf` into TMP/probes and publishes its record.
    private func probe(_ chunk: Chunk, crf: Int, token: String, book: ProbeBook, final: Bool,
                       progress: @escaping @Sendable (Int) -> Void) throws -> ProbeRecord {
        let name = ProbeRecord.fileName(chunk: chunk.id, crf: crf, token: token)
        let path = book.path(name)
        let started = Date()
        let (r, score) = try scoredEncode(chunk, crf: crf, preset: target.probePreset, what: "the probe", path: path, progress: progress)
        let record = ProbeRecord(jobID: media.manifest.jobID, chunk: chunk.id, crf: crf, score: score, framesScored: r.scores.count,
                                 file: name, bytes: r.bytes, crc32: r.crc32, seconds: Date().timeIntervalSince(started), final: final)
        let standing = try book.publish(record)
        if standing.file != name { try? FileSystem.unlink(path) }
        log("chunk \(chunk.name): \(final ? "encoded at the range's end" : "probe") crf \(crf): \(target.metric.rawValue) \(String(format: "%.2f", standing.score)) (\(r.scores.count) frames scored, \(String(format: "%.1f", record.seconds)) s)")
        return standing
    }

    /// Encodes chunk at the job's preset, at the chosen probe's CRF less `shift`, scores it as the probes were scored
    /// (same frames, same pooling) and publishes its record, which also measures the shift on this chunk. An encode
    /// that misses the target by more than the tolerance is replaced once, at the chunk's own shift read off it
    /// (`PresetCorrection.retry`): at most two final encodes per chunk.
    private func finalEncode(_ chunk: Chunk, probe: ProbeRecord, probes: [ProbeRecord], outcome: CRFSearch.Outcome, shift: Int,
                             token: String, book: ProbeBook, progress: @escaping @Sendable (Int) -> Void) throws -> FinalEncodeRecord {
        let name = FinalEncodeRecord.fileName(chunk: chunk.id, token: token)
        let path = book.path(name)
        let started = Date()
        var crf = PresetCorrection.finalCRF(probeCRF: probe.crf, shift: shift, range: target.crfRange), used = shift
        var (r, score) = try scoredEncode(chunk, crf: crf, what: "the final encode", path: path, progress: progress)
        var first: (crf: Int, score: Double)? = nil
        if let retry = PresetCorrection.retry(probes: probes.map(\.point), probeCRF: probe.crf, crf: crf, score: score,
                                              target: target.target, range: target.crfRange) {
            log("chunk \(chunk.name): the final encode at crf \(crf) scored \(String(format: "%.2f", score)); encoding it once more at crf \(retry.crf), the shift this chunk measured (\(retry.shift))")
            first = (crf, score)
            (crf, used) = retry
            (r, score) = try scoredEncode(chunk, crf: crf, what: "the final encode", path: path, progress: progress)
        }
        let record = FinalEncodeRecord(jobID: media.manifest.jobID, chunk: chunk.id, crf: crf, score: score, probeCRF: probe.crf,
                                       probeScore: probe.score, probes: probes.map(\.point), shiftUsed: used, first: first,
                                       outcome: outcome, framesScored: r.scores.count, file: name, bytes: r.bytes, crc32: r.crc32,
                                       seconds: Date().timeIntervalSince(started))
        let standing = try book.publish(record)
        if standing.file != name { try? FileSystem.unlink(path) }
        let f = { (v: Double) in String(format: "%.2f", v) }
        log("chunk \(chunk.name): final encode at preset \(media.manifest.settings.preset) crf \(standing.crf): \(target.metric.rawValue) \(f(standing.score)) (the probe at crf \(standing.probeCRF) \(f(standing.probeScore)); shift used \(standing.shiftUsed), measured \(standing.shift.map { String(format: "%.2f", $0) } ?? "none"); \(String(format: "%.1f", record.seconds)) s)")
        if PresetCorrection.outcome(finalCRF: standing.crf, finalScore: standing.score, target: target.target, range: target.crfRange) == .reached
            && standing.score < target.target - PresetCorrection.tolerance {
            log("chunk \(chunk.name): the final encode misses \(target.metric.rawValue) \(QualityTarget.describe(target.target)) by \(f(target.target - standing.score)); kept")
        }
        return standing
    }

    /// One encode of chunk at `crf` into `path`, at `preset` (nil: the job's), scored as every probe is, and its
    /// pooled score; `what` names it in the error when no frame was scored. Nothing is left at `path` on failure.
    private func scoredEncode(_ chunk: Chunk, crf: Int, preset: String? = nil, what: String, path: String,
                              progress: @escaping @Sendable (Int) -> Void) throws -> (ChunkEncodeReport, Double) {
        let r: ChunkEncodeReport
        do {
            r = try media.encodeOnce(chunk: chunk, outputPath: path, progress: progress, crf: crf, preset: preset, scoring: scoring)
        } catch { try? FileSystem.unlink(path); throw error }
        guard let score = target.pool.pool(r.scores) else {
            try? FileSystem.unlink(path)
            throw EncodaError(.encoder, "chunk \(chunk.name): \(what) at crf \(crf) scored no frame; it will be encoded again")
        }
        return (r, score)
    }

    private var scoring: ProbeScoring { ProbeScoring(metric: target.metric, rate: target.probeRate, vmafFFmpeg: vmafPath) }

    private var vmafPath: String? {
        target.metric == .vmaf ? try? VmafFFmpeg.locate(explicit: ProcessInfo.processInfo.environment[VmafEnvironment.name]) : nil
    }

    /// The chosen probe's file becomes the chunk file (a hard link: the same bytes, no copy); the other probes'
    /// files are removed (their records stay). A file that is gone (its worker linked it and was killed before
    /// publishing) is encoded again at the same CRF, its recorded score kept.
    private func keep(_ chosen: ProbeRecord, outcome: CRFSearch.Outcome, chunk: Chunk, records: [ProbeRecord], outputPath: String,
                      book: ProbeBook, progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        let (bytes, crc) = try adopt(book.path(chosen.file), bytes: chosen.bytes, crc32: chosen.crc32, crf: chosen.crf, what: "the probe",
                                     chunk: chunk, outputPath: outputPath, progress: progress)
        for r in records { try? FileSystem.unlink(book.path(r.file)) }
        let quality = ChunkQuality(crf: chosen.crf, score: chosen.score, target: target.target, metric: target.metric, outcome: outcome,
                                   probes: records.map(\.point), probeSeconds: records.reduce(0) { $0 + $1.seconds },
                                   finalSeconds: chosen.seconds)
        var out = EncodedChunk(frames: chunk.range.count, bytes: bytes, crc32: crc, seekSeconds: 0, framesSkipped: 0)
        out.quality = quality
        return out
    }

    /// `--probe-preset`: the final encode's file becomes the chunk file, with its measured score; the probes' files
    /// are removed (their records and the final encode's stay).
    private func keep(_ final: FinalEncodeRecord, probes: [ProbeRecord], chunk: Chunk, outputPath: String, book: ProbeBook,
                      progress: @escaping @Sendable (Int) -> Void) throws -> EncodedChunk {
        let (bytes, crc) = try adopt(book.path(final.file), bytes: final.bytes, crc32: final.crc32, crf: final.crf, what: "the final encode",
                                     chunk: chunk, outputPath: outputPath, progress: progress)
        for r in probes { try? FileSystem.unlink(book.path(r.file)) }
        try? FileSystem.unlink(book.path(final.file))
        let outcome = PresetCorrection.outcome(finalCRF: final.crf, finalScore: final.score, target: target.target, range: target.crfRange)
        let quality = ChunkQuality(crf: final.crf, score: final.score, target: target.target, metric: target.metric, outcome: outcome,
                                   probes: probes.map(\.point), probeSeconds: probes.reduce(final.seconds) { $0 + $1.seconds },
                                   finalSeconds: final.seconds, probePreset: target.probePreset, crfShift: final.probeCRF - final.crf)
        var out = EncodedChunk(frames: chunk.range.count, bytes: bytes, crc32: crc, seekSeconds: 0, framesSkipped: 0)
        out.quality = quality
        return out
    }

    /// Hard-links `source` (an encode at `crf` at the job's preset) as the chunk file; when it is gone, encodes
    /// the chunk at `crf` again. Returns the chunk file's size and checksum.
    private func adopt(_ source: String, bytes: Int64, crc32: UInt32, crf: Int, what: String, chunk: Chunk, outputPath: String,
                       progress: @escaping @Sendable (Int) -> Void) throws -> (Int64, UInt32) {
        try? FileSystem.unlink(outputPath)
        let linked = (try? FileSystem.stat(source)).map { Int64($0.st_size) == bytes } == true
            && (try? FileSystem.link(source, to: outputPath)) != nil
        guard !linked else { return (bytes, crc32) }
        let r = try media.encodeOnce(chunk: chunk, outputPath: outputPath, progress: progress, crf: crf, scoring: nil)
        log("chunk \(chunk.name): the file of \(what) at crf \(crf) was gone; encoded it again")
        return (r.bytes, r.crc32)
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
