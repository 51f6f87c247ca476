import EncodaModel
import EncodaSystem
import Foundation
import SystemPackage

/// A content fingerprint of INPUT that is cheap for a 100 GB master: the size plus CRC-32s of 1 MiB samples
/// at the start, middle and end. It tells "the same file" apart from "another file with the same name" on
/// every host, independent of paths and mtimes (which differ across NFS clients and copies).
/// An image sequence (INPUT given as a pattern, see `ImageSequence`) is fingerprinted as a whole: see `sequence`.
public enum InputFingerprint {
    public static func compute(path: String) throws -> (size: Int64, fingerprint: String) {
        if ImageSequence.isPattern(path), !FileManager.default.fileExists(atPath: path), let seq = try ImageSequence.resolve(path) {
            return try sequence(seq)
        }
        let fd: FileDescriptor
        do { fd = try FileSystem.open(path, O_RDONLY) } catch {
            if error.errno == .noSuchFileOrDirectory { throw EncodaError(.inputUnreadable, "INPUT \(path) does not exist; check the path") }
            throw EncodaError(.inputUnreadable, "INPUT cannot be opened", error, advice: "check its permissions")
        }
        defer { FileSystem.close(fd) }
        guard let st = try? FileSystem.stat(fd, path: path) else { throw EncodaError(.inputUnreadable, "INPUT \(path) cannot be examined") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw EncodaError(.inputUnreadable, "INPUT \(path) is a directory; give a video file") }
        let size = Int64(st.st_size)
        let sample = 1 << 20
        var offsets: [Int64] = [0]
        if size > Int64(sample) { offsets.append(max(0, size / 2 - Int64(sample / 2))); offsets.append(max(0, size - Int64(sample))) }
        var buffer = [UInt8](repeating: 0, count: sample)
        var parts: [String] = []
        for off in offsets {
            let n: Int
            do { n = try buffer.withUnsafeMutableBytes { try FileSystem.read(fd, into: $0, at: off, path: path) } } catch {
                throw EncodaError(.inputUnreadable, "INPUT cannot be read: \(error)")
            }
            let c = buffer.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            parts.append(String(c, radix: 16))
        }
        return (size, "\(size)-" + parts.joined(separator: "-"))
    }

    /// An image sequence: the number of images, their names and every one's size, plus the samples of `compute`
    /// from the first, middle and last image. A re-rendered, added, removed or renamed image changes it (an
    /// uncompressed image rewritten in place with the same size is caught only when it is one of the three sampled).
    /// `size` is the sequence's total.
    public static func sequence(_ seq: ImageSequence) throws -> (size: Int64, fingerprint: String) {
        let files = seq.files
        var total: Int64 = 0
        var sizes = ""
        for f in files {
            let st: stat
            do { st = try FileSystem.stat(f) } catch {
                throw EncodaError(.inputUnreadable, "INPUT image cannot be examined", error, advice: "check the sequence")
            }
            total += Int64(st.st_size)
            sizes += "\(st.st_size),"
        }
        let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: "/")
        let listCRC = Array((names + "|" + sizes).utf8).withUnsafeBytes { CRC32.checksum($0) }
        let sampled = Set([0, files.count / 2, files.count - 1]).sorted().map { files[$0] }
        let samples = try sampled.map { try compute(path: $0).fingerprint }
        return (total, "seq\(files.count)-\(String(listCRC, radix: 16))-" + samples.joined(separator: "-"))
    }
}
