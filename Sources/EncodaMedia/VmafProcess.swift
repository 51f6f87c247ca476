import EncodaModel
import Foundation
import Synchronization

/// An ffmpeg with libvmaf fed raw pictures through two pipes, the distorted stream on its fd 3 and the reference on
/// fd 4 (`-i pipe:3 -i pipe:4`), no temporary files. libvmaf writes its JSON log to ffmpeg's standard output, read
/// on a thread of its own (as is standard error), and each picture is written to both pipes at once, so neither
/// side waits on the other whichever input ffmpeg reads first.
final class VmafProcess {
    private let executable: String
    private let pid: pid_t
    private var distorted: Int32
    private var reference: Int32
    private let output = PipeReader()
    private let errors = PipeReader()
    private(set) var written = 0
    private let subsample: Int

    /// - Parameters:
    ///   - pixelFormat: libav's name of the raw pictures' format, e.g. `yuv420p`.
    ///   - subsample: libvmaf scores pictures 0, K, 2K, … of those written (`n_subsample`); every picture still
    ///     reaches its temporal (motion) feature, so each score is the one a run over all of them gives that picture.
    init(ffmpeg: String, width: Int, height: Int, pixelFormat: String, subsample: Int = 1) throws {
        executable = ffmpeg
        self.subsample = max(1, subsample)
        // A write to a pipe whose reader died must fail with EPIPE, not end encoda.
        signal(SIGPIPE, SIG_IGN)
        func raw(_ fd: Int) -> [String] {
            ["-f", "rawvideo", "-pix_fmt", pixelFormat, "-video_size", "\(width)x\(height)", "-framerate", "25", "-i", "pipe:\(fd)"]
        }
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin"] + raw(3) + raw(4) +
            ["-lavfi", "[0:v][1:v]libvmaf=log_fmt=json:log_path=/dev/stdout:n_threads=\(threads):n_subsample=\(self.subsample)", "-f", "null", "-"]
        var pipes: [(read: Int32, write: Int32)] = []
        for _ in 0..<4 {
            var fds: [Int32] = [0, 0]
            // Close-on-exec, so that ffmpeg holds only the ends dup2'd into place (a writer's end left open in
            // ffmpeg would keep its input from ever ending).
            guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else {
                for p in pipes { close(p.read); close(p.write) }
                throw EncodaError(.internalError, "cannot make a pipe for the VMAF ffmpeg", cause: String(cString: strerror(errno)))
            }
            pipes.append((fds[0], fds[1]))
        }
        // Child: distorted pictures on fd 3, reference on fd 4, log on stdout, messages on stderr.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipes[0].read, 3)
        posix_spawn_file_actions_adddup2(&actions, pipes[1].read, 4)
        posix_spawn_file_actions_adddup2(&actions, pipes[2].write, 1)
        posix_spawn_file_actions_adddup2(&actions, pipes[3].write, 2)
        var child: pid_t = 0
        let argv = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let ret = posix_spawn(&child, ffmpeg, &actions, nil, argv, environ)
        for (i, p) in pipes.enumerated() { close(i < 2 ? p.read : p.write) }
        guard ret == 0 else {
            for (i, p) in pipes.enumerated() { close(i < 2 ? p.write : p.read) }
            throw EncodaError(.usage, "cannot start the VMAF ffmpeg \(ffmpeg); check --vmaf-ffmpeg", cause: String(cString: strerror(ret)))
        }
        pid = child
        distorted = pipes[0].write
        reference = pipes[1].write
        output.start(pipes[2].read)
        errors.start(pipes[3].read)
    }

    deinit {
        closeInputs()
        if written >= 0 { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
    }

    /// Writes one picture of each stream, both at once.
    func write(distorted d: UnsafeRawBufferPointer, reference r: UnsafeRawBufferPointer) throws {
        let failures = Mutex([Int32](repeating: 0, count: 2))
        let fds = [distorted, reference]
        // The two pictures by address: concurrentPerform returns only when both writes are done, so the borrowed
        // bytes outlive every use.
        let starts = [UInt(bitPattern: d.baseAddress), UInt(bitPattern: r.baseAddress)], counts = [d.count, r.count]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: starts[i]), count: counts[i])
            let e = VmafProcess.writeAll(fds[i], bytes)
            failures.withLock { $0[i] = e }
        }
        if let e = failures.withLock({ $0 }).first(where: { $0 != 0 }) {
            throw EncodaError(.encoder, "the VMAF ffmpeg \(executable) stopped reading pictures: \(errorSummary(default: String(cString: strerror(e))))")
        }
        written += 1
    }

    /// Ends both streams, waits for ffmpeg and returns libvmaf's scores of pictures 0, K, 2K, … in order.
    func finish() throws -> [Double] {
        closeInputs()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let frames = (written + subsample - 1) / subsample
        written = -1
        let log = output.wait()
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw EncodaError(.encoder, "the VMAF ffmpeg \(executable) failed: \(errorSummary(default: "exit status \(status)"))")
        }
        guard let start = log.firstIndex(of: UInt8(ascii: "{")),
              let json = try? JSONSerialization.jsonObject(with: Data(log[start...])) as? [String: Any],
              let list = json["frames"] as? [[String: Any]] else {
            throw EncodaError(.encoder, "the VMAF ffmpeg \(executable) wrote no readable libvmaf log")
        }
        let scores = list.compactMap { ($0["metrics"] as? [String: Any])?["vmaf"] as? Double }
        guard scores.count == frames else {
            throw EncodaError(.encoder, "the VMAF ffmpeg \(executable) scored \(scores.count) frames, expected \(frames)")
        }
        return scores
    }

    private func closeInputs() {
        if distorted >= 0 { close(distorted); distorted = -1 }
        if reference >= 0 { close(reference); reference = -1 }
    }

    /// The last line ffmpeg wrote to stderr, once it has ended; else `default`.
    private func errorSummary(default d: String) -> String {
        closeInputs()
        var status: Int32 = 0
        if written >= 0 { waitpid(pid, &status, 0); written = -1 }
        let text = String(decoding: errors.wait(), as: UTF8.self)
        return text.split(separator: "\n").last.map(String.init) ?? d
    }

    /// 0 when every byte went out, else errno.
    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32 {
        var off = 0
        while off < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + off, buffer.count - off)
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? errno : EIO
        }
        return 0
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeReader: Sendable {
    private let data = Mutex<[UInt8]>([])
    /// Signalled once the pipe is at its end; every `wait` signals it again for the next.
    private let done = DispatchSemaphore(value: 0)

    func start(_ fd: Int32) {
        Thread.detachNewThread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 { data.withLock { $0.append(contentsOf: chunk[0..<n]) }; continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
            close(fd)
            done.signal()
        }
    }

    /// Everything the pipe carried; waits for its end the first time.
    func wait() -> [UInt8] {
        done.wait()
        done.signal()
        return data.withLock { $0 }
    }
}
