import Foundation

/// The container OUTPUT is written in, named as libavformat names its muxer (the value job.json stores).
public enum OutputContainer: String, Codable, Sendable, CaseIterable {
    case matroska, mp4, webm, ivf, obu, mov, h264
}

/// The container OUTPUT's extension asks for, and whether it can hold the codec.
///
/// `table` is the one list of extensions encoda writes: the help, the error messages and `--mux`'s checks are
/// all made from it, so they cannot disagree.
public struct OutputFormat: Sendable, Hashable {
    public var container: OutputContainer
    public var fileExtension: String
    /// libavformat muxer name.
    public var muxer: String { container.rawValue }
    /// The container carries a seek index (Matroska cues, an MP4/MOV sample table), so its tail can be reached
    /// without reading the file from the start.
    public var hasIndex: Bool { [.matroska, .webm, .mp4, .mov].contains(container) }
    /// The container holds streams besides the video (audio, subtitles, chapters), so `--mux` can fill it.
    public var holdsOtherStreams: Bool { Self.table.first { $0.container == container }?.holdsOtherStreams ?? false }

    /// One extension encoda writes.
    public struct Entry: Sendable {
        /// Without the dot, lower case.
        public var fileExtension: String
        public var container: OutputContainer
        public var muxer: String { container.rawValue }
        public var codecs: Set<EncoderKind>
        public var holdsOtherStreams: Bool
    }

    /// Every extension encoda writes, in the order they are listed to the user.
    public static let table: [Entry] = [
        Entry(fileExtension: "mkv", container: .matroska, codecs: [.av1, .h264], holdsOtherStreams: true),
        Entry(fileExtension: "mp4", container: .mp4, codecs: [.av1, .h264], holdsOtherStreams: true),
        Entry(fileExtension: "m4v", container: .mp4, codecs: [.av1, .h264], holdsOtherStreams: true),
        Entry(fileExtension: "webm", container: .webm, codecs: [.av1], holdsOtherStreams: true),
        Entry(fileExtension: "ivf", container: .ivf, codecs: [.av1], holdsOtherStreams: false),
        Entry(fileExtension: "obu", container: .obu, codecs: [.av1], holdsOtherStreams: false),
        Entry(fileExtension: "mov", container: .mov, codecs: [.h264], holdsOtherStreams: true),
        Entry(fileExtension: "h264", container: .h264, codecs: [.h264], holdsOtherStreams: false),
        Entry(fileExtension: "264", container: .h264, codecs: [.h264], holdsOtherStreams: false),
    ]

    /// ".mkv, .mp4, …" for the extensions that hold `encoder`'s video (every extension when nil), optionally only
    /// those that also hold audio and subtitles; the last two joined by `last` (", " or " or ").
    public static func extensions(for encoder: EncoderKind? = nil, otherStreams: Bool = false, last: String = ", ") -> String {
        let names = table.filter { e in encoder.map { e.codecs.contains($0) } ?? true }
            .filter { !otherStreams || $0.holdsOtherStreams }
            .map { "." + $0.fileExtension }
        guard names.count > 1 else { return names.joined() }
        return names.dropLast().joined(separator: ", ") + last + names.last!
    }

    /// The whole table in one line, for the help and the README:
    /// ".mkv .mp4 .m4v (AV1 or H.264), .webm .ivf .obu (AV1), .mov .h264 .264 (H.264)".
    public static var summary: String {
        let groups: [(Set<EncoderKind>, String)] = [([.av1, .h264], "AV1 or H.264"), ([.av1], "AV1"), ([.h264], "H.264")]
        return groups.compactMap { codecs, label in
            let names = table.filter { $0.codecs == codecs }.map { "." + $0.fileExtension }
            return names.isEmpty ? nil : names.joined(separator: " ") + " (\(label))"
        }.joined(separator: ", ")
    }

    public static func forPath(_ path: String, encoder: EncoderKind) throws -> OutputFormat {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let entry = table.first(where: { $0.fileExtension == ext }) else {
            let what = ext.isEmpty ? "no extension" : "extension '\(ext)'"
            throw EncodaError(.outputInvalid, "OUTPUT \(path) has \(what), which encoda cannot write; for \(encoder == .av1 ? "AV1" : "H.264") use \(extensions(for: encoder))")
        }
        guard entry.codecs.contains(encoder) else {
            throw EncodaError(.outputInvalid, "OUTPUT \(path): a .\(ext) file cannot hold \(encoder == .av1 ? "AV1" : "H.264") video; use \(extensions(for: encoder)), or --encoder \(encoder == .av1 ? "h264" : "av1")")
        }
        return OutputFormat(container: entry.container, fileExtension: ext)
    }
}
