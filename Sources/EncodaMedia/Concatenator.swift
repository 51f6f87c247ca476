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
/// recorded for it (moved so that a trim's first frame is at 0, unless `--keep-timestamps`): all chunks at once
/// through one `OutputAppender`, which writes to a temporary name beside OUTPUT, reads the file back (see
/// `verifyOutput`), flushes it to storage, then renames. OUTPUT is never left half-written.
public enum Concatenator {
    /// - Parameter sides: INPUT's audio, subtitles, attachments and chapters with `--mux`.
    public static func run(manifest: JobManifest, index: FrameIndex, pieces: [ChunkPiece], output: String,
                           sides: SideStreams? = nil) throws {
        let appender = try OutputAppender(manifest: manifest, index: index, output: output)
        var ok = false
        defer { if !ok { appender.discard() } }
        try appender.append(pieces, sides: { sides })
        try appender.finish()
        ok = true
    }

    /// fsync for files and folders, so that a finished OUTPUT survives a crash of the machine right after encoda
    /// reports it (ext4 and NFS both may otherwise lose recently renamed data).
    static func flush(_ path: String, what: String) throws {
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
