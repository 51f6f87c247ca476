internal import CSvtAv1
internal import CX264
import EncodaModel
import Foundation
import Logging

/// The encoder libraries' own logging, through swift-log at encoda's threshold (`EncodaLog`). Their lines are
/// passed on a level below the one they give themselves: their warnings are `.notice` (shown by default, hidden by
/// --quiet, as before), their errors `.warning`; their information (SVT-AV1's banner and configuration lines, 16 per
/// encoder; x264's statistics) `.info`, shown with -v only.
public enum EncoderLogging {
    /// Call once at the start of a command, before any thread is started, after `EncodaLog.level` is set: SVT-AV1
    /// reads its level from the environment variable SVT_LOG (0 fatal, 1 error, 2 warn, 3 info, 4 debug) whenever
    /// an encoder handle is made, and setenv is not safe beside other threads. Workers started from here inherit
    /// the setting, and set their own. SVT-AV1 1.4.1 has no log callback: it writes to stderr itself.
    public static func configure(level: Logger.Level) {
        setenv("SVT_LOG", svtLevel(for: level), 1)
    }

    /// SVT_LOG for encoda's threshold: errors only with --quiet, warnings by default (as before), more with -v.
    static func svtLevel(for level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "4"
        case .info: return "3"
        case .notice: return "2"
        case .warning, .error, .critical: return "1"
        }
    }

    /// x264's level for encoders opened now: X264_LOG_WARNING by default, X264_LOG_ERROR with --quiet.
    static var x264Level: Int32 {
        switch EncodaLog.level {
        case .trace, .debug: return X264_LOG_DEBUG
        case .info: return X264_LOG_INFO
        case .notice: return X264_LOG_WARNING
        case .warning, .error, .critical: return X264_LOG_ERROR
        }
    }

    /// Where a level of x264's goes.
    static func level(x264 level: Int32) -> Logger.Level {
        switch level {
        case ...X264_LOG_ERROR: return .warning
        case X264_LOG_WARNING: return .notice
        case X264_LOG_INFO: return .info
        default: return .debug
        }
    }

    /// One line x264 logged (for its `pf_log`, through the shim), as x264 writes it: "x264 [warning]: …".
    static let x264Line: @convention(c) (Int32, UnsafePointer<CChar>?) -> Void = { level, text in
        guard let text else { return }
        let name = level == X264_LOG_ERROR ? "error" : level == X264_LOG_WARNING ? "warning" : level == X264_LOG_INFO ? "info" : "debug"
        EncodaLog.logger(EncodaLog.x264).log(level: EncoderLogging.level(x264: level), "x264 [\(name)]: \(String(cString: text))")
    }

    /// Lines SVT-AV1 wrote to stderr while they were captured (`StderrCapture`), passed on at `.warning`: SVT-AV1
    /// printed them at its own level already (SVT_LOG), so whatever it printed is shown, as before.
    static func svtAv1Lines(_ lines: [String]) {
        let log = EncodaLog.logger(EncodaLog.svtAv1)
        for line in lines { log.warning("\(line)") }
    }
}

/// What a library writes to stderr during one call, kept instead of shown: SVT-AV1 tells why it refuses a
/// configuration only in its log. Redirects file descriptor 2, so use it only while no other thread writes to
/// stderr (the coordinator's plan step).
final class StderrCapture {
    private let saved: Int32
    private let file: UnsafeMutablePointer<FILE>

    /// nil when stderr cannot be redirected; the call then logs as usual.
    init?() {
        guard let f = tmpfile() else { return nil }
        // Every output stream, stderr among them (a null stream flushes all; naming `stderr` is a global).
        fflush(nil)
        let s = dup(2)
        guard s >= 0, dup2(fileno(f), 2) >= 0 else {
            if s >= 0 { close(s) }
            fclose(f)
            return nil
        }
        saved = s
        file = f
    }

    /// Restores stderr and returns what was written meanwhile.
    func end() -> String {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        var data = Data()
        rewind(file)
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, file)
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        fclose(file)
        return String(decoding: data, as: UTF8.self)
    }

    /// SVT-AV1's error lines ("Svt[error]: Instance 1: Film grain … [0,50]") without their prefixes, and the
    /// other lines as they were.
    static func splitSvtLog(_ text: String) -> (errors: [String], others: [String]) {
        var errors: [String] = []
        var others: [String] = []
        for line in text.split(whereSeparator: \.isNewline).map(String.init) where !line.isEmpty {
            guard let r = line.range(of: "Svt[error]:") else { others.append(line); continue }
            var reason = line[r.upperBound...].trimmingCharacters(in: .whitespaces)
            if reason.hasPrefix("Instance "), let colon = reason.firstIndex(of: ":") {
                reason = reason[reason.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            errors.append(reason)
        }
        return (errors, others)
    }
}

/// The encoder libraries' versions, for `encoda --version`.
public enum EncoderVersions {
    public static var svtav1: String { "SVT-AV1 \(SvtAv1Encoder.libraryVersion)" }
    public static var x264: String {
        let full = String(cString: encoda_x264_pointver())
        return "x264 " + (full.isEmpty ? "" : full + " ") + "(build \(X264Encoder.libraryVersion))"
    }
}

extension Array where Element == String {
    /// The distinct lines, in their first order.
    func uniqued() -> [String] {
        var seen = Set<String>()
        return filter { seen.insert($0).inserted }
    }
}
