import EncodaCodecs
import EncodaModel
import EncodaSystem
import Foundation
import SystemPackage

/// The on-disk form of one encoded chunk: the encoder's packets with their frame-relative timestamps and
/// keyframe flags, so the concatenator can restamp them with the source's timestamps.
///
/// Layout (little-endian): "ENCODACK" u32 version u32 codec u32 extradataLength extradata,
/// then per packet: u32 size i64 pts i64 dts u32 flags bytes; then "ENCODAEND" marker u32 packetCount.
/// The trailer makes a torn write detectable even before the checksum in the result record is compared.
enum ChunkFileFormat {
    static let magic: [UInt8] = Array("ENCODACK".utf8)
    static let endMarker: UInt32 = 0xE0DA_E0DA
    /// 2: H.264 packets are length-prefixed NAL units with an avcC record as extradata (1: Annex B).
    static let version: UInt32 = 2
    static func codecNumber(_ e: EncoderKind) -> UInt32 { e == .av1 ? 1 : 2 }
}

/// Writes a chunk file sequentially, computing its CRC as it goes.
final class ChunkWriter {
    private let file: FileStream
    var path: String { file.path }
    private(set) var crc: UInt32 = 0
    private(set) var bytes: Int64 = 0
    private(set) var packets = 0

    init(path: String, encoder: EncoderKind, extradata: [UInt8]) throws {
        do { file = try FileStream(creating: path) } catch {
            throw EncodaError(.workDirectory, "cannot create a chunk file", error, advice: "check that TMP is writable and not full")
        }
        try write(ChunkFileFormat.magic)
        try writeU32(ChunkFileFormat.version)
        try writeU32(ChunkFileFormat.codecNumber(encoder))
        try writeU32(UInt32(extradata.count))
        try write(extradata)
    }

    private func write(_ raw: UnsafeRawBufferPointer) throws {
        guard raw.count > 0 else { return }
        do { try file.write(raw) } catch {
            throw EncodaError(.workDirectory, "cannot write a chunk file", error, advice: "check free space in TMP")
        }
        crc = CRC32.uninverted(crc, raw)
        bytes += Int64(raw.count)
    }
    private func write(_ a: [UInt8]) throws { try a.withUnsafeBytes { try write($0) } }
    private func writeU32(_ v: UInt32) throws { var x = v.littleEndian; try withUnsafeBytes(of: &x) { try write($0) } }
    private func writeI64(_ v: Int64) throws { var x = v.littleEndian; try withUnsafeBytes(of: &x) { try write($0) } }

    func append(_ p: EncodedPacket) throws {
        try writeU32(UInt32(p.data.count))
        try writeI64(p.pts)
        try writeI64(p.dts)
        try writeU32(p.isKey ? 1 : 0)
        try write(p.data)
        packets += 1
    }

    /// Writes the trailer, flushes and fsyncs, and closes.
    func finish() throws {
        try writeU32(ChunkFileFormat.endMarker)
        try writeU32(UInt32(packets))
        do { try file.finish() } catch {
            throw EncodaError(.workDirectory, "cannot flush a chunk file", error)
        }
    }
}

/// A packet read back from a chunk file.
struct StoredPacket {
    /// Where the packet's bytes are in the chunk file (see `ChunkReader.withBytes`): no copy per packet.
    var range: Range<Int>
    var pts: Int64
    var dts: Int64
    var isKey: Bool
}

/// Memory that chunk files are read into, reused from one chunk to the next so that joining a long job does
/// not map and fault in fresh pages for every chunk.
final class ChunkBuffer {
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    init() {}
    deinit { storage.deallocate() }

    /// At least `size` bytes (the contents are not kept).
    func reserve(_ size: Int) -> UnsafeMutableRawBufferPointer {
        if storage.count < size {
            storage.deallocate()
            storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, storage.count * 3 / 2), alignment: 64)
        }
        return storage
    }
}

/// Reads a chunk file, treating it as untrusted: every length is bounds-checked.
final class ChunkReader {
    /// The whole file, inside the caller's buffer; valid while that buffer is not reused.
    private let data: UnsafeRawBufferPointer
    private var offset = 0
    let path: String
    let codec: UInt32
    let extradata: [UInt8]
    var bytes: Int64 { Int64(data.count) }
    var crc: UInt32 { CRC32.uninverted(0, data) }

    init(path: String, buffer: ChunkBuffer) throws {
        self.path = path
        data = try ChunkReader.readWhole(path, into: buffer)
        func bad(_ w: String) -> EncodaError { EncodaError(.stateCorrupt, "chunk file \(path) is damaged (\(w)); it will be re-encoded on the next run") }
        guard data.count >= 20, Array(data.prefix(8)) == ChunkFileFormat.magic else { throw bad("no chunk header") }
        var r = ChunkReader.Cursor(data: data, offset: 8)
        guard let v = r.u32(), v == ChunkFileFormat.version, let c = r.u32(), let n = r.u32(), let e = r.bytes(Int(n)) else { throw bad("header") }
        codec = c
        extradata = e
        offset = r.offset
    }

    private static func readWhole(_ path: String, into buffer: ChunkBuffer) throws -> UnsafeRawBufferPointer {
        let fd: FileDescriptor
        do { fd = try FileSystem.open(path, O_RDONLY) } catch {
            throw EncodaError(.stateCorrupt, "a chunk file cannot be opened", error)
        }
        defer { FileSystem.close(fd) }
        guard let st = try? FileSystem.stat(fd, path: path) else { throw EncodaError(.stateCorrupt, "chunk file \(path) cannot be examined") }
        let size = Int(st.st_size)
        let mem = buffer.reserve(size + 1)
        var done = 0
        // One byte more than the size stat reported, to notice a file that is still growing.
        while done < size + 1 {
            let n: Int
            do { n = try FileSystem.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: mem[done..<(size + 1)]), path: path) } catch {
                throw EncodaError(.stateCorrupt, "a chunk file cannot be read", error)
            }
            if n == 0 { break }
            done += n
        }
        guard done == size else { throw EncodaError(.stateCorrupt, "chunk file \(path) changed size while it was read") }
        return UnsafeRawBufferPointer(rebasing: mem[0..<done])
    }

    struct Cursor {
        let data: UnsafeRawBufferPointer
        var offset: Int
        mutating func u32() -> UInt32? {
            guard offset + 4 <= data.count else { return nil }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(data[offset + i]) << (8 * UInt32(i)) }
            offset += 4
            return v
        }
        mutating func i64() -> Int64? {
            guard offset + 8 <= data.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(data[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return Int64(bitPattern: v)
        }
        /// The range of the next `n` bytes, skipping them.
        mutating func skip(_ n: Int) -> Range<Int>? {
            guard n >= 0, offset + n <= data.count else { return nil }
            defer { offset += n }
            return offset..<(offset + n)
        }
        mutating func bytes(_ n: Int) -> [UInt8]? {
            guard n >= 0, offset + n <= data.count else { return nil }
            defer { offset += n }
            return [UInt8](data[offset..<(offset + n)])
        }
    }

    /// The bytes of a packet from `packets()`, lent for the duration of `body`.
    func withBytes<T>(_ p: StoredPacket, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(rebasing: data[p.range]))
    }

    /// All packets, in stored (decode) order. Throws if the file is torn or inconsistent.
    func packets() throws -> [StoredPacket] {
        var r = Cursor(data: data, offset: offset)
        var out: [StoredPacket] = []
        func bad(_ w: String) -> EncodaError { EncodaError(.stateCorrupt, "chunk file \(path) is damaged (\(w)); it will be re-encoded on the next run") }
        while true {
            guard let size = r.u32() else { throw bad("truncated") }
            if size == ChunkFileFormat.endMarker, r.offset + 4 == data.count {
                guard let count = r.u32(), Int(count) == out.count else { throw bad("packet count") }
                return out
            }
            guard let pts = r.i64(), let dts = r.i64(), let flags = r.u32(), let range = r.skip(Int(size)) else { throw bad("truncated packet") }
            out.append(StoredPacket(range: range, pts: pts, dts: dts, isKey: flags & 1 != 0))
        }
    }
}
