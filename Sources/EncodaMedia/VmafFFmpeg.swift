import EncodaModel
import Foundation
import Synchronization

/// Finds an ffmpeg built with libvmaf, which VMAF scores need (Debian 12's ffmpeg has none).
public enum VmafFFmpeg {
    /// In order: `explicit` (--vmaf-ffmpeg PATH), an `ffmpeg` on PATH whose `-filters` lists libvmaf, the binary
    /// of the `imageio-ffmpeg` Python package (`scripts/install.sh --with-vmaf` or `pip install imageio-ffmpeg`).
    /// Throws a usage error saying how to get one when none is found.
    /// The answer is remembered for the process, so that a scorer made per chunk or per probe does not start
    /// ffmpeg and python again each time.
    public static func locate(explicit: String?) throws -> String {
        try found.withLock { known in
            if let path = known[explicit ?? ""] { return path }
            let path = try search(explicit: explicit)
            known[explicit ?? ""] = path
            return path
        }
    }

    private static let found = Mutex<[String: String]>([:])

    private static func search(explicit: String?) throws -> String {
        if let explicit {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw EncodaError(.usage, "--vmaf-ffmpeg \(explicit) is not an executable file; give the path of an ffmpeg built with libvmaf")
            }
            guard hasLibvmaf(explicit) else {
                throw EncodaError(.usage, "--vmaf-ffmpeg \(explicit) has no libvmaf filter; give an ffmpeg built with libvmaf (pip install imageio-ffmpeg has one)")
            }
            return explicit
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = String(dir) + "/ffmpeg"
            if FileManager.default.isExecutableFile(atPath: candidate), hasLibvmaf(candidate) { return candidate }
        }
        if let wheel = imageioFFmpeg(), hasLibvmaf(wheel) { return wheel }
        throw EncodaError(.usage, "VMAF needs an ffmpeg built with libvmaf and none was found (Debian's has none); run scripts/install.sh --with-vmaf (or pip install imageio-ffmpeg), or give one with --vmaf-ffmpeg PATH")
    }

    /// The ffmpeg the `imageio-ffmpeg` wheel carries, as its Python package reports it; nil without the package.
    static func imageioFFmpeg() -> String? {
        let out = run("/usr/bin/env", ["python3", "-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"])
        guard let line = out?.split(separator: "\n").last.map(String.init), FileManager.default.isExecutableFile(atPath: line) else { return nil }
        return line
    }

    static func hasLibvmaf(_ ffmpeg: String) -> Bool {
        guard let out = run(ffmpeg, ["-hide_banner", "-filters"]) else { return false }
        return out.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == "libvmaf" }
    }

    /// Standard output of a program that exited 0, else nil.
    private static func run(_ exe: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
