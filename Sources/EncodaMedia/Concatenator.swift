import CFFmpeg
import EncodaModel
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
/// recorded for it. Writes to a temporary name beside OUTPUT, checks the frame count by reading the file
/// back, then renames. OUTPUT is never left half-written.
public enum Concatenator {
    /// - Parameter sides: INPUT's audio, subtitles, attachments and chapters with `--mux`.
    public static func run(manifest: JobManifest, index: FrameIndex, pieces: [ChunkPiece], output: String,
                           sides: SideStreams? = nil, progress: ((Int) -> Void)? = nil) throws {
        LibavLogging.quiet()
        let format = try OutputFormat.forPath(output, encoder: manifest.settings.encoder)
        let dir = (output as NSString).deletingLastPathComponent
        let base = (output as NSString).lastPathComponent
        let temp = (dir.isEmpty ? "" : dir + "/") + ".\(base).encoda-\(getpid()).partial.\(format.fileExtension)"
        var muxer: Muxer? = nil
        var ok = false
        defer {
            muxer = nil
            if !ok { unlink(temp) }
        }
        var written = 0
        var lastDTS = Int64.min
        for piece in pieces {
            // A chunk file that cannot be read back, or does not match its record, is the chunk's fault, not the
            // job's: report which one, so the caller can have it encoded again.
            guard let reader = try? ChunkReader(path: piece.path) else { throw ChunkMismatch(chunk: piece.chunk.id) }
            // The whole file is in memory now: check it against the result record.
            guard reader.crc == piece.crc32, reader.bytes == piece.bytes else { throw ChunkMismatch(chunk: piece.chunk.id) }
            guard reader.codec == ChunkFileFormat.codecNumber(manifest.settings.encoder) else {
                throw EncodaError(.stateCorrupt, "chunk \(piece.chunk.name) holds another codec than the job")
            }
            if muxer == nil {
                let picture = try OutputPicture.make(source: manifest.video, settings: manifest.settings)
                var encoded = manifest.video
                encoded.width = picture.width; encoded.height = picture.height; encoded.sampleAspectRatio = picture.sampleAspectRatio
                muxer = try Muxer(path: temp, format: format, encoder: manifest.settings.encoder, video: encoded,
                                  pixelFormat: manifest.settings.pixelFormat, extradata: reader.extradata, sides: sides)
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
                let pts = index.pts[frame]
                let dts = index.extendedTimestamp(s + Int(p.dts))
                guard dts > lastDTS else {
                    throw EncodaError(.stateCorrupt, "chunk \(piece.chunk.name) would make decode timestamps go backwards; re-encode it")
                }
                lastDTS = dts
                try reader.withBytes(p) { try muxer!.write(data: $0, pts: pts, dts: dts, duration: index.durations[frame], isKey: p.isKey) }
                written += 1
            }
            progress?(written)
        }
        guard let m = muxer else { throw EncodaError(.internalError, "nothing to concatenate") }
        try m.finish()
        muxer = nil
        guard written == manifest.frameCount else {
            throw EncodaError(.internalError, "concatenation wrote \(written) frames, the input has \(manifest.frameCount)")
        }
        let counted = try countVideoPackets(temp)
        guard counted == manifest.frameCount else {
            throw EncodaError(.outputInvalid, "the joined file holds \(counted) frames, the input has \(manifest.frameCount); OUTPUT was not written")
        }
        if rename(temp, output) != 0 {
            throw EncodaError(.outputInvalid, "cannot move the finished file to OUTPUT \(output): \(String(cString: strerror(errno)))")
        }
        ok = true
    }

    /// Counts the packets of the first video stream by demuxing the file (an independent read-back).
    static func countVideoPackets(_ path: String) throws -> Int {
        let d = try Demuxer(path: path)
        guard let vi = d.videoStreamIndex() else { return 0 }
        let p = Packet()
        var n = 0
        while try d.read(into: p) { if Int(p.pointer.pointee.stream_index) == vi { n += 1 } }
        return n
    }
}
