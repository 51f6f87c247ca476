import CFFmpeg
import EncodaModel
import Foundation

// INTERIM (branch target): a stand-in with the exact interface of the `metric` branch's FramePairScorer and
// VmafFFmpeg, so that --target-quality builds and its tests run before that work is merged; it is replaced by
// the real file at merge. Both metrics are scored here as luma PSNR (dB, capped at 100), NOT as VMAF or
// SSIMULACRA 2: targets mean something different until the real scorer is in.

/// Scores distorted frames against their references, one pair at a time, and returns the per-frame scores.
final class FramePairScorer {
    private let metric: QualityMetric
    private var scores: [Double] = []

    init(metric: QualityMetric, vmafFFmpeg: String?) throws {
        self.metric = metric
        _ = vmafFFmpeg
    }

    func add(reference: Frame, distorted: Frame) throws {
        guard reference.width == distorted.width, reference.height == distorted.height,
              let a = reference.plane(0), let b = distorted.plane(0), let desc = av_pix_fmt_desc_get(reference.format) else {
            throw EncodaError(.internalError, "a frame pair to score differs in size (\(reference.width)x\(reference.height) against \(distorted.width)x\(distorted.height))")
        }
        let depth = Int(desc.pointee.comp.0.depth)
        let wide = depth > 8
        var sum = 0.0
        for y in 0..<reference.height {
            let ra = a + y * reference.stride(0), rb = b + y * distorted.stride(0)
            var line: Int64 = 0
            for x in 0..<reference.width {
                let d: Int64
                if wide {
                    d = Int64(ra.withMemoryRebound(to: UInt16.self, capacity: x + 1) { $0[x] }) -
                        Int64(rb.withMemoryRebound(to: UInt16.self, capacity: x + 1) { $0[x] })
                } else {
                    d = Int64(ra[x]) - Int64(rb[x])
                }
                line += d * d
            }
            sum += Double(line)
        }
        let mse = sum / Double(reference.width * reference.height)
        let peak = Double((1 << depth) - 1)
        scores.append(mse == 0 ? 100 : min(100, 10 * log10(peak * peak / mse)))
    }

    func finish() throws -> [Double] { scores }
}

/// Finds an ffmpeg built with libvmaf.
public enum VmafFFmpeg {
    /// `explicit` (--vmaf-ffmpeg) if given, else the first `ffmpeg` on PATH that lists the libvmaf filter.
    public static func locate(explicit: String?) throws -> String {
        if let explicit {
            guard hasLibvmaf(explicit) else {
                throw EncodaError(.usage, "--vmaf-ffmpeg \(explicit) is not an ffmpeg with the libvmaf filter; give one that has it (e.g. from the imageio-ffmpeg wheel)")
            }
            return explicit
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = String(dir) + "/ffmpeg"
            if hasLibvmaf(p) { return p }
        }
        throw EncodaError(.usage, "--metric vmaf needs an ffmpeg built with libvmaf and none is on PATH (Debian's has none); give one with --vmaf-ffmpeg PATH, or use --metric ssimulacra2")
    }

    static func hasLibvmaf(_ path: String) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: path) else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-hide_banner", "-filters"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).contains(" libvmaf ")
    }
}
