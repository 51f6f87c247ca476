import CFFmpeg
import CSvtAv1
import CX264
import EncodaModel
import Foundation

/// The encoder libraries' own logging, at encoda's log level: warnings and errors by default, errors only with
/// --quiet. SVT-AV1's banner and configuration lines (its info level, 16 lines per encoder) never appear.
public enum EncoderLogging {
    private final class Level: @unchecked Sendable { // `quiet` guarded by `lock`
        let lock = NSLock()
        var quiet = false
    }
    private static let level = Level()

    /// Call once at the start of a command, before any thread is started: SVT-AV1 reads its level from the
    /// environment variable SVT_LOG (0 fatal, 1 error, 2 warn, 3 info, 4 debug) whenever an encoder handle is
    /// made, and setenv is not safe beside other threads. Workers started from here inherit the setting, and
    /// set their own.
    public static func configure(quiet: Swift.Bool) {
        level.lock.lock(); level.quiet = quiet; level.lock.unlock()
        setenv("SVT_LOG", quiet ? "1" : "2", 1)
    }

    static var quiet: Swift.Bool { level.lock.lock(); defer { level.lock.unlock() }; return level.quiet }

    /// x264's level for encoders opened now (X264_LOG_ERROR or X264_LOG_WARNING).
    static var x264Level: Int32 { quiet ? X264_LOG_ERROR : X264_LOG_WARNING }
}

/// SVT-AV1's EbErrorType values (EbSvtAv1.h) by name, with what they mean.
enum SvtAv1Error {
    static func describe(_ e: EbErrorType) -> String {
        let known: [(EbErrorType, String, String)] = [
            (EB_ErrorNone, "EB_ErrorNone", "no error"),
            (EB_ErrorInsufficientResources, "EB_ErrorInsufficientResources", "not enough memory or threads"),
            (EB_ErrorUndefined, "EB_ErrorUndefined", "an unspecified error"),
            (EB_ErrorInvalidComponent, "EB_ErrorInvalidComponent", "the encoder handle is not valid"),
            (EB_ErrorBadParameter, "EB_ErrorBadParameter", "a parameter is out of range or does not fit the others"),
            (EB_ErrorDestroyThreadFailed, "EB_ErrorDestroyThreadFailed", "a thread could not be stopped"),
            (EB_ErrorSemaphoreUnresponsive, "EB_ErrorSemaphoreUnresponsive", "a semaphore did not respond"),
            (EB_ErrorDestroySemaphoreFailed, "EB_ErrorDestroySemaphoreFailed", "a semaphore could not be freed"),
            (EB_ErrorCreateMutexFailed, "EB_ErrorCreateMutexFailed", "a mutex could not be made"),
            (EB_ErrorMutexUnresponsive, "EB_ErrorMutexUnresponsive", "a mutex did not respond"),
            (EB_ErrorDestroyMutexFailed, "EB_ErrorDestroyMutexFailed", "a mutex could not be freed"),
            (EB_NoErrorEmptyQueue, "EB_NoErrorEmptyQueue", "no packet is ready"),
            (EB_NoErrorFifoShutdown, "EB_NoErrorFifoShutdown", "the encoder is shutting down"),
            (EB_ErrorMax, "EB_ErrorMax", "the encode failed"),
        ]
        let hex = "0x" + String(UInt32(bitPattern: e.rawValue), radix: 16)
        if let k = known.first(where: { $0.0 == e }) { return "\(k.1), \(hex): \(k.2)" }
        return "unknown SVT-AV1 error \(hex)"
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
        fflush(stderr)
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
        fflush(stderr)
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

/// The versions of the libraries encoda runs with, for `encoda --version`.
public enum LibraryVersions {
    /// "59.37.100" from a libav version integer.
    static func dotted(_ v: UInt32) -> String { "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)" }

    public static var libav: String {
        "libavformat \(dotted(avformat_version())), libavcodec \(dotted(avcodec_version())), libavutil \(dotted(avutil_version())) (FFmpeg \(String(cString: av_version_info())))"
    }
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
