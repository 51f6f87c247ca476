import EncodaFFmpeg
import EncodaModel
import EncodaSystem
import Foundation

/// OUTPUT being joined: chunk files appended in plan order to a temporary file beside OUTPUT, as they become
/// available, then finished (trailer, read-back, flush, rename). Appending all chunks at once is the whole join;
/// appending them as workers publish them leaves only the last chunk and the trailer for after the encode. The
/// muxer sees the same calls in the same order either way, so OUTPUT's bytes do not depend on when chunks came.
///
/// Each chunk is checked against its record (size, CRC-32, frame count, first frame a keyframe) before any of its
/// packets is written, so a chunk that fails (`ChunkMismatch`) leaves the file as it was after the chunk before:
/// the caller has it encoded again and appends it later. Any other failure leaves a file that cannot be continued;
/// `discard` removes it (a process killed outright leaves it for `PartialOutput.removeDead`).
public final class OutputAppender {
    let manifest: JobManifest
    let index: FrameIndex
    public let output: String
    /// The temporary name beside OUTPUT (`PartialOutput`); it exists from the first append on.
    public let temp: String
    private let format: OutputFormat
    private var muxer: OutputMuxer?
    private var writeback: WritebackStarter?
    private var written = 0
    private var lastDTS = Int64.min
    private let shift: Int64
    /// The position in `manifest.chunks` of the next chunk to append.
    public private(set) var next = 0
    private var finished = false

    public init(manifest: JobManifest, index: FrameIndex, output: String) throws {
        self.manifest = manifest; self.index = index; self.output = output
        format = try OutputFormat.forPath(output, encoder: manifest.settings.encoder)
        let dir = (output as NSString).deletingLastPathComponent
        temp = (dir.isEmpty ? "" : dir + "/") + PartialOutput.name(output: output, host: PartialOutput.host, pid: getpid(), format: format)
        shift = manifest.trim?.timestampShift(index) ?? 0
    }

    /// Whether the file has its header (the first chunk was appended): from then on its side streams are fixed.
    public var started: Bool { muxer != nil }
    /// Every chunk of the plan is in the file.
    public var complete: Bool { next == manifest.chunks.count }

    /// The pieces that can be appended now: from the next chunk on, as long as `done` has each one.
    public func ready(_ done: (Chunk) -> ChunkPiece?) -> [ChunkPiece] {
        var pieces: [ChunkPiece] = []
        for chunk in manifest.chunks[next...] {
            guard let p = done(chunk) else { break }
            pieces.append(p)
        }
        return pieces
    }

    /// Appends `pieces`, which must continue the plan from `next`. Chunk files are read and checksummed ahead, on a
    /// second thread, while the one before is muxed.
    /// - Parameter sides: called once, before the header is written (the first chunk): INPUT's other streams with `--mux`.
    /// - Throws: `ChunkMismatch` for a chunk that does not match its record (those before it are appended).
    public func append(_ pieces: [ChunkPiece], sides: () throws -> SideStreams?) throws {
        guard !pieces.isEmpty else { return }
        guard !finished else { throw EncodaError(.internalError, "OUTPUT \(output) was appended to after it was finished") }
        for (k, p) in pieces.enumerated() where next + k >= manifest.chunks.count || manifest.chunks[next + k].id != p.chunk.id {
            throw EncodaError(.internalError, "chunk \(p.chunk.name) appended out of the plan's order")
        }
        LibavLogging.configure()
        ProcessMemoryPolicy.begin(.joining)
        // Two buffers, taking turns, sized for the largest chunk up front (the records' sizes; a record that lies
        // only makes one grow later), so their pages are faulted in once rather than at every growth.
        let prefetcher = ChunkPrefetcher(paths: pieces.map(\.path), largest: Int(pieces.map(\.bytes).max() ?? 0))
        for (i, piece) in pieces.enumerated() {
            let loaded = prefetcher.take(i)
            prefetcher.start(i + 1)
            // A chunk file that cannot be read back, or does not match its record, is the chunk's fault, not the
            // job's: report which one, so the caller can have it encoded again.
            guard let reader = loaded.reader else { throw ChunkMismatch(chunk: piece.chunk.id) }
            // The whole file is in memory now: check it against the result record.
            guard loaded.crc == piece.crc32, reader.bytes == piece.bytes else { throw ChunkMismatch(chunk: piece.chunk.id) }
            guard reader.codec == ChunkFileFormat.codecNumber(manifest.settings.encoder) else {
                throw EncodaError(.stateCorrupt, "chunk \(piece.chunk.name) holds another codec than the job")
            }
            guard let packets = try? reader.packets(), packets.count == piece.chunk.range.count, packets.first?.isKey == true else {
                throw ChunkMismatch(chunk: piece.chunk.id)
            }
            if muxer == nil {
                muxer = try makeMuxer(extradata: reader.extradata, sides: try sides())
                writeback = WritebackStarter(path: temp)
            }
            let s = piece.chunk.range.start
            for p in packets {
                guard p.pts >= 0, p.pts < Int64(piece.chunk.range.count), p.dts <= p.pts, p.dts > -1000 else {
                    throw EncodaError(.stateCorrupt, "chunk \(piece.chunk.name) has a packet with impossible timestamps")
                }
                let frame = s + Int(p.pts)
                let pts = index.pts[frame] - shift
                let dts = index.extendedTimestamp(s + Int(p.dts)) - shift
                guard dts > lastDTS else {
                    throw EncodaError(.stateCorrupt, "chunk \(piece.chunk.name) would make decode timestamps go backwards; re-encode it")
                }
                lastDTS = dts
                try reader.withBytes(p) { try muxer!.write(data: $0, pts: pts, dts: dts, duration: index.durations[frame], isKey: p.isKey) }
                written += 1
            }
            next += 1
            writeback?.start()
        }
    }

    /// OUTPUT's video stream as the plan decides it, with the first chunk's codec header.
    private func makeMuxer(extradata: [UInt8], sides: SideStreams?) throws -> OutputMuxer {
        let plan = try manifest.requirePlan()
        let picture = plan.picture
        var video = ColourConversion(source: manifest.video, picture: picture, target: plan.pixelFormat).encoded
        // Pixels turned by the chunk encoders (see `Orientation`) are shown as they are: no display matrix.
        if picture.rotation != 0 { video.displayMatrix = nil; video.rotation = nil }
        // A part of INPUT starts later on INPUT's timecode: its first frame's label.
        if let t = manifest.trim, let tc = video.timecode.flatMap(SMPTETimecode.init(parsing:)),
           let f = try? tc.frameNumber(rate: manifest.video.frameRate, option: "timecode") {
            video.timecode = SMPTETimecode.label(frame: f + t.range.start, rate: manifest.video.frameRate, dropFrame: tc.dropFrame).description
        }
        return try OutputMuxer(path: temp, format: format, encoder: manifest.settings.encoder, video: video,
                               pixelFormat: plan.pixelFormat, extradata: extradata, sides: sides)
    }

    /// After the last chunk: the trailer, the read-back (`Concatenator.verifyOutput`: the tail alone where the format
    /// has an index), fsync, and the rename to OUTPUT.
    public func finish() throws {
        guard let m = muxer else { throw EncodaError(.internalError, "nothing to concatenate") }
        guard complete else { throw EncodaError(.internalError, "the join was finished without chunk \(manifest.chunks[next].name)") }
        finished = true
        muxer = nil
        try m.finish()
        guard written == manifest.outputFrameCount else {
            throw EncodaError(.internalError, "concatenation wrote \(written) frames, the plan has \(manifest.outputFrameCount)")
        }
        try Concatenator.verifyOutput(temp, format: format, manifest: manifest, index: index)
        try Concatenator.flush(temp, what: "OUTPUT")
        do { try FileSystem.rename(temp, to: output) } catch {
            throw EncodaError(.outputInvalid, "cannot move the finished file to OUTPUT", error)
        }
        let dir = (output as NSString).deletingLastPathComponent
        try Concatenator.flush(dir.isEmpty ? "." : dir, what: "OUTPUT's folder")
    }

    /// Removes the temporary file, unless it became OUTPUT. OUTPUT itself is never touched.
    public func discard() {
        muxer = nil
        _ = try? FileSystem.unlinkIfPresent(temp)
    }

    deinit {
        muxer = nil
    }
}
