import EncodaModel
import EncodaSystem
import Foundation

/// Which results each worker published, in the order it published them: `TMP/journal/TOKEN.txt`, one line
/// `NNNNN` per result record, appended by the worker with that token only, after the record is in `results/`.
///
/// It lets everyone follow a job by reading only what is new (a byte offset per journal) instead of listing
/// `results/`, whose listing grows with the job: a claim, a poll of the coordinator cost the same at chunk 10 and
/// at chunk 1,000. It is a hint, never the truth: a chunk is done iff its result record exists and checks out.
/// A line is written after the record (a reader that sees it finds the record by name once it has opened
/// `results/`, see `WorkDirectory.exists`); a record without a line (its worker was killed between the two, or a
/// job made before journals) is found by the listing every reader makes when it starts, and by the worker that
/// claims the chunk next, which writes the missing line. Single writer per file, appended and flushed, never
/// rewritten: a reader takes whole lines only, so a torn last line is read once it is complete.
public struct ResultJournal: Sendable {
    public let directory: WorkDirectory
    public let token: String

    public init(directory: WorkDirectory, token: String) { self.directory = directory; self.token = token }

    public var path: String { directory.journal + "/\(token).txt" }

    /// Appends chunk `id` and flushes it to the file server.
    public func append(_ id: Int) throws {
        let line = Data((Chunk.name(id) + "\n").utf8)
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
        do {
            do {
                try FileSystem.writeDurably(line, to: path, flags: flags)
            } catch where error.operation == .open && error.errno == .noSuchFileOrDirectory {
                // a job made before journals: its TMP has no journal folder yet
                try? FileSystem.mkdir(directory.journal)
                try FileSystem.writeDurably(line, to: path, flags: flags)
            }
        } catch {
            throw EncodaError(.workDirectory, "cannot append to the journal", error,
                              advice: error.operation == .open ? "check TMP" : "check free space in TMP")
        }
    }

    /// Reads the journals of a job from where the last call stopped.
    public struct Reader: Sendable {
        public let directory: WorkDirectory
        /// Per journal file: bytes read up to the end of its last whole line.
        private var offsets: [String: Int] = [:]

        public init(directory: WorkDirectory) { self.directory = directory }

        /// Chunks named by lines appended since the last call (opening each journal gives its current content over
        /// NFS: close-to-open). Lines that are not a chunk number are skipped.
        public mutating func news() -> [Int] {
            var ids: [Int] = []
            for name in directory.list(directory.journal) where OwnNames.isOwn(name, in: "journal") {
                let path = directory.journal + "/" + name
                guard let fd = try? FileSystem.open(path, O_RDONLY | O_CLOEXEC) else { continue }
                var data: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                let start = offsets[name] ?? 0
                while true {
                    let n = buffer.withUnsafeMutableBytes {
                        (try? FileSystem.read(fd, into: $0, at: Int64(start + data.count), path: path)) ?? 0
                    }
                    if n <= 0 { break }
                    data.append(contentsOf: buffer[0..<n])
                }
                FileSystem.close(fd)
                guard let last = data.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                offsets[name] = start + last + 1
                for line in data[...last].split(separator: UInt8(ascii: "\n")) {
                    if line.count >= 5, line.allSatisfy({ $0 >= 48 && $0 <= 57 }), let id = Int(String(decoding: line, as: UTF8.self)) {
                        ids.append(id)
                    }
                }
            }
            return ids
        }
    }
}
