#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SystemPackage

/// The file-system funnel: every open, read, write, fsync, link, rename, unlink, mkdir, listing and stat that Jobs
/// and Media make goes through here, so each follows `SystemCall`'s one EINTR and ESTALE policy and fails with a
/// `FileSystemError` that names the operation, the path and the errno.
public enum FileSystem {
    // MARK: Names

    /// Opens `path`. The descriptor is the caller's to `close`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(FileSystemError) -> FileDescriptor {
        switch SystemCall.retrying(.path, { Glibc.open(path, flags, mode) }) {
        case .success(let fd): return FileDescriptor(rawValue: fd)
        case .failure(let e): throw FileSystemError(.open, path, errno: e)
        }
    }

    public static func rename(_ path: String, to destination: String) throws(FileSystemError) {
        if case .failure(let e) = SystemCall.retrying(.path, { Glibc.rename(path, destination) }) {
            throw FileSystemError(.rename, path, to: destination, errno: e)
        }
    }

    /// Makes `destination` a second name of `path`; fails with EEXIST when the name is taken (the first writer wins).
    public static func link(_ path: String, to destination: String) throws(FileSystemError) {
        if case .failure(let e) = SystemCall.retrying(.path, { Glibc.link(path, destination) }) {
            throw FileSystemError(.link, path, to: destination, errno: e)
        }
    }

    public static func unlink(_ path: String) throws(FileSystemError) {
        if case .failure(let e) = SystemCall.retrying(.path, { Glibc.unlink(path) }) {
            throw FileSystemError(.unlink, path, errno: e)
        }
    }

    public static func mkdir(_ path: String, mode: mode_t = 0o777) throws(FileSystemError) {
        if case .failure(let e) = SystemCall.retrying(.path, { Glibc.mkdir(path, mode) }) {
            throw FileSystemError(.mkdir, path, errno: e)
        }
    }

    /// The attributes of `path`, following a final symbolic link unless `followLink` is false.
    public static func stat(_ path: String, followLink: Bool = true) throws(FileSystemError) -> Glibc.stat {
        var st = Glibc.stat()
        let r = SystemCall.retrying(.path) { followLink ? statByPath(path, &st) : lstat(path, &st) }
        if case .failure(let e) = r { throw FileSystemError(.stat, path, errno: e) }
        return st
    }

    /// The names in folder `path`, without "." and "..", in the order the file system gives them.
    public static func list(_ path: String) throws(FileSystemError) -> [String] {
        let d: OpaquePointer
        switch SystemCall.retrying(.path, { opendir(path) }) {
        case .success(let handle): d = handle
        case .failure(let e): throw FileSystemError(.list, path, errno: e)
        }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    // MARK: Open files (`path` only names the file in errors)

    /// Writes all of `bytes` at the descriptor's position (or at `offset`, leaving the position alone).
    public static func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil,
                             path: String) throws(FileSystemError) {
        var done = 0
        while done < bytes.count {
            let r = SystemCall.retrying(.descriptor) {
                let p = bytes.baseAddress! + done, n = bytes.count - done
                if let offset { return pwrite(fd.rawValue, p, n, off_t(offset) + off_t(done)) }
                return Glibc.write(fd.rawValue, p, n)
            }
            switch r {
            case .success(let n) where n > 0: done += n
            case .success: throw FileSystemError(.write, path, errno: .ioError) // no progress: never loop forever
            case .failure(let e): throw FileSystemError(.write, path, errno: e)
            }
        }
    }

    public static func write(_ fd: FileDescriptor, _ bytes: [UInt8], at offset: Int64? = nil, path: String) throws(FileSystemError) {
        var failure: FileSystemError? = nil
        bytes.withUnsafeBytes { raw in
            do throws(FileSystemError) { try write(fd, raw, at: offset, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads up to `buffer.count` bytes at the descriptor's position (or at `offset`); 0 at the end of the file.
    public static func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil,
                            path: String) throws(FileSystemError) -> Int {
        let r = SystemCall.retrying(.descriptor) {
            if let offset { return pread(fd.rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
            return Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
        }
        switch r {
        case .success(let n): return n
        case .failure(let e): throw FileSystemError(.read, path, errno: e)
        }
    }

    /// Flushes the file's data and attributes to storage.
    public static func fsync(_ fd: FileDescriptor, path: String) throws(FileSystemError) {
        if case .failure(let e) = SystemCall.retrying(.descriptor, { Glibc.fsync(fd.rawValue) }) {
            throw FileSystemError(.fsync, path, errno: e)
        }
    }

    public static func stat(_ fd: FileDescriptor, path: String) throws(FileSystemError) -> Glibc.stat {
        var st = Glibc.stat()
        if case .failure(let e) = SystemCall.retrying(.descriptor, { fstat(fd.rawValue, &st) }) {
            throw FileSystemError(.stat, path, errno: e)
        }
        return st
    }

    /// Closes the descriptor. Not retried on EINTR: Linux releases the descriptor whatever close returns, and a
    /// second close could close a descriptor another thread just opened.
    public static func close(_ fd: FileDescriptor) {
        _ = Glibc.close(fd.rawValue)
    }

    // MARK: Composite

    /// Opens `path`, writes all of `bytes` and flushes them to storage: the durable part of write → fsync → rename.
    /// The descriptor is closed before returning; on failure the file is left for the caller to remove.
    public static func writeDurably(_ bytes: UnsafeRawBufferPointer, to path: String, flags: Int32, mode: mode_t = 0o644) throws(FileSystemError) {
        let fd = try open(path, flags, mode: mode)
        defer { close(fd) }
        try write(fd, bytes, path: path)
        try fsync(fd, path: path)
    }

    /// Flushes a file or a folder (a rename's entry) to storage. Some file systems refuse fsync on a folder
    /// (EINVAL) or on a read-only mount (EROFS): a file was flushed on its own descriptor by then, so these pass.
    public static func flush(path: String) throws(FileSystemError) {
        let fd = try open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        do { try fsync(fd, path: path) } catch {
            if error.errno != .invalidArgument && error.errno != .readOnlyFileSystem { throw error }
        }
    }
}

extension FileSystem {
    public static func write(_ fd: FileDescriptor, _ data: Data, path: String) throws(FileSystemError) {
        var failure: FileSystemError? = nil
        data.withUnsafeBytes { raw in
            do throws(FileSystemError) { try write(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `writeDurably` for `Data`.
    public static func writeDurably(_ data: Data, to path: String, flags: Int32, mode: mode_t = 0o644) throws(FileSystemError) {
        let fd = try open(path, flags, mode: mode)
        defer { close(fd) }
        try write(fd, data, path: path)
        try fsync(fd, path: path)
    }

    /// Reads from the descriptor's position to the end of the file, or until more than `limit` bytes were read.
    public static func readAll(_ fd: FileDescriptor, path: String, limit: Int = .max) throws(FileSystemError) -> Data {
        try read(fd, path: path) { $0 > limit }
    }

    /// Reads from the descriptor's position until `size` bytes were read (the size fstat gave, so no further
    /// call is made to find the end) or the file ends sooner.
    public static func read(_ fd: FileDescriptor, count size: Int, path: String) throws(FileSystemError) -> Data {
        try read(fd, path: path) { $0 >= size }
    }

    private static func read(_ fd: FileDescriptor, path: String, until done: (Int) -> Bool) throws(FileSystemError) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !done(data.count) {
            var failure: FileSystemError? = nil
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                do throws(FileSystemError) { return try read(fd, into: raw, path: path) } catch { failure = error; return 0 }
            }
            if let failure { throw failure }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }
}

/// stat(2) by path; a free function because inside `FileSystem` the name `stat` means its own methods.
private func statByPath(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }
