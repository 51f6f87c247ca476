import EncodaFFmpeg
import EncodaModel
import EncodaSystem
import Foundation

/// A verified chunk ready to join: its file and what its result record promises about it.
public struct ChunkPiece: Sendable {
    public var chunk: Chunk
    public var path: String
    public var bytes: Int64
    public var crc32: UInt32
    public init(chunk: Chunk, path: String, bytes: Int64, crc32: UInt32) {
        self.chunk = chunk; self.path = path; self.bytes = bytes; self.crc32 = crc32
    }
}

/// A chunk file that does not match its result record (torn, altered, or from a storage fault): the caller
/// discards the record so the chunk is encoded again.
public struct ChunkMismatch: Error {
    public var chunk: Int
}

/// Joins chunk files in plan order into OUTPUT, stamping each frame with the timestamp the frame index
/// recorded for it (moved so that a trim's first frame is at 0, unless `--keep-timestamps`). Writes to a temporary name beside OUTPUT, reads the file back (see `verifyOutput`),
/// flushes it to storage, then renames. OUTPUT is never left half-written.
public enum Concatenator {
    /// - Parameter sides: INPUT's audio, subtitles, attachments and chapters with `--mux`.
    public static func run(manifest: JobManifest, index: FrameIndex, pieces: [ChunkPiece], output: String,
                           sides: SideStreams? = nil, progress: ((Int) -> Void)? = nil) throws {
        LibavLogging.configure()
        let format = try OutputFormat.forPath(output, encoder: manifest.settings.encoder)
        let dir = (output as NSString).deletingLastPathComponent
        let temp = (dir.isEmpty ? "" : dir + "/") + PartialOutput.name(output: output, host: PartialOutput.host, pid: getpid(), format: format)
        var muxer: OutputMuxer? = nil
        var ok = false
        defer {
            muxer = nil
            if !ok { unlink(temp) }
        }
        var written = 0
        var lastDTS = Int64.min
        let shift = manifest.trim?.timestampShift(index) ?? 0
        ProcessMemoryPolicy.begin(.joining)
        // Two buffers, taking turns, sized for the largest chunk up front (the records' sizes; a record that lies
        // only makes one grow later), so their pages are faulted in once rather than at every growth.
        let prefetcher = ChunkPrefetcher(paths: pieces.map(\.path), largest: Int(pieces.map(\.bytes).max() ?? 0))
        var writeback: WritebackStarter? = nil
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
            if muxer == nil {
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
                muxer = try OutputMuxer(path: temp, format: format, encoder: manifest.settings.encoder,
                                        video: video,
                                        pixelFormat: plan.pixelFormat, extradata: reader.extradata, sides: sides)
                writeback = WritebackStarter(path: temp)
            }
            guard let packets = try? reader.packets(), packets.count == piece.chunk.range.count, packets.first?.isKey == true else {
                throw ChunkMismatch(chunk: piece.chunk.id)
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
            writeback?.start()
            progress?(written)
        }
        guard let m = muxer else { throw EncodaError(.internalError, "nothing to concatenate") }
        try m.finish()
        muxer = nil
        guard written == manifest.outputFrameCount else {
            throw EncodaError(.internalError, "concatenation wrote \(written) frames, the plan has \(manifest.outputFrameCount)")
        }
        try verifyOutput(temp, format: format, manifest: manifest, index: index)
        try flush(temp, what: "OUTPUT")
        do { try FileSystem.rename(temp, to: output) } catch {
            throw EncodaError(.outputInvalid, "cannot move the finished file to OUTPUT", error)
        }
        try flush(dir.isEmpty ? "." : dir, what: "OUTPUT's folder")
        ok = true
    }

    /// fsync for files and folders, so that a finished OUTPUT survives a crash of the machine right after encoda
    /// reports it (ext4 and NFS both may otherwise lose recently renamed data).
    private static func flush(_ path: String, what: String) throws {
        do { try FileSystem.flush(path: path) } catch {
            throw EncodaError(.outputInvalid, "cannot flush \(what) to storage", error,
                              advice: error.operation == .fsync ? "check free space" : nil)
        }
    }

    /// Reads the joined file back with libavformat before it may become OUTPUT. Where the format has an index
    /// (Matroska, WebM, MP4, MOV) only its tail is read: the demuxer seeks through the file's index to the last
    /// chunk's keyframe and must find exactly that chunk's frames up to the last timestamp of the source, and an
    /// MP4/MOV sample table must list every frame. Together with the frames the muxer accepted in order, this
    /// proves the file is complete and readable end to end without a second pass over all of it. Formats without
    /// an index, and any file whose tail does not check out, are counted packet by packet; only that count
    /// decides a failure.
    static func verifyOutput(_ path: String, format: OutputFormat, manifest: JobManifest, index: FrameIndex) throws {
        func open() throws -> (Demuxer, Int) {
            let d: Demuxer
            do { d = try Demuxer.input(path) } catch {
                throw EncodaError(.outputInvalid, "the joined file cannot be read back (\(error)); OUTPUT was not written")
            }
            guard let vi = d.videoStreamIndex() else {
                throw EncodaError(.outputInvalid, "the joined file has no video stream; OUTPUT was not written")
            }
            return (d, vi)
        }
        var (d, vi) = try open()
        if format.hasIndex, let last = manifest.chunks.last {
            if (try? tailMatches(d, stream: vi, chunk: last, manifest: manifest, index: index)) == true { return }
            // Count from the start with a fresh demuxer: not every demuxer can seek back (raw H.264 cannot).
            (d, vi) = try open()
        }
        let p = Packet()
        var n = 0
        while try d.readInput(into: p) { if p.streamIndex == vi { n += 1 } }
        guard n == manifest.outputFrameCount else {
            throw EncodaError(.outputInvalid, "the joined file holds \(n) frames, the plan has \(manifest.outputFrameCount); OUTPUT was not written")
        }
    }

    /// True when the file's sample table (if it has one) counts every frame and the packets from the last
    /// chunk's keyframe to the end are exactly that chunk's frames, the last at the source's last timestamp.
    private static func tailMatches(_ d: Demuxer, stream vi: Int, chunk: Chunk, manifest: JobManifest, index: FrameIndex) throws -> Bool {
        let st = d.parameters(of: vi)
        if st.frameCount > 0, st.frameCount != Int64(manifest.outputFrameCount) { return false }
        let source = manifest.video.timeBase.libav
        let tb = st.timeBase
        let shift = manifest.trim?.timestampShift(index) ?? 0
        let start = LibavRational.rescale(index.pts[chunk.range.start] - shift, from: source, to: tb)
        let lastPTS = LibavRational.rescale(index.pts[chunk.range.end - 1] - shift, from: source, to: tb)
        // Frames before the chunk lie at least one (rescaled) frame duration earlier; half of it absorbs rounding.
        let slack = max(0, LibavRational.rescale(index.durations[max(0, chunk.range.start - 1)], from: source, to: tb) / 2)
        try d.seekInput(stream: vi, timestamp: start)
        let p = Packet()
        var n = 0
        var maxPTS = Int64.min
        while try d.readInput(into: p) {
            guard p.streamIndex == vi else { continue }
            let pts = p.pts
            guard pts != noPTS else { return false }
            if pts >= start - slack { n += 1; maxPTS = max(maxPTS, pts) }
        }
        return n == chunk.range.count && abs(maxPTS - lastPTS) <= slack
    }
}

/// The temporary name the join writes beside OUTPUT, `.BASE.encoda-HOST-PID.partial.EXT`, and the removal of those
/// that a killed coordinator left. Only names of this pattern, for this OUTPUT, written on this machine by a process
/// that no longer exists are removed; nothing else in OUTPUT's folder is touched.
public enum PartialOutput {
    /// This machine's name as a plain file-name component.
    static let host: String = {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        let name = String(cString: buf)
        let plain = String(name.prefix(64).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "_" })
        return plain.isEmpty ? "localhost" : plain
    }()

    static func name(output: String, host: String, pid: pid_t, format: OutputFormat) -> String {
        ".\((output as NSString).lastPathComponent).encoda-\(host)-\(pid).partial.\(format.fileExtension)"
    }

    /// Removes the partial outputs for `output` that dead coordinators on this machine left; returns their names.
    public static func removeDead(output: String, encoder: EncoderKind) -> [String] {
        guard let format = try? OutputFormat.forPath(output, encoder: encoder) else { return [] }
        let dir = (output as NSString).deletingLastPathComponent
        let prefix = ".\((output as NSString).lastPathComponent).encoda-\(host)-"
        let suffix = ".partial.\(format.fileExtension)"
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? [] {
            guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { continue }
            let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = pid_t(digits), pid > 1,
                  pid != getpid(), kill(pid, 0) == -1, errno == ESRCH else { continue }
            let path = (dir.isEmpty ? "" : dir + "/") + name
            guard (try? FileSystem.unlinkEntry(path, if: { $0.isRegularFile })) != nil else { continue }
            removed.append(name)
        }
        return removed.sorted()
    }
}
