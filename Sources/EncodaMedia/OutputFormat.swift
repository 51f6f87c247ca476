import EncodaModel
import Foundation

/// The container OUTPUT's extension asks for, and whether it can hold the codec.
///
/// `table` is the one list of extensions encoda writes: the help, the error messages and `--mux`'s checks are
/// all made from it, so they cannot disagree.
public struct OutputFormat: Sendable {
    /// libavformat muxer name.
    public var muxer: String
    public var fileExtension: String
    /// The container carries a seek index (Matroska cues, an MP4/MOV sample table), so its tail can be reached
    /// without reading the file from the start.
    public var hasIndex: Bool { ["matroska", "webm", "mp4", "mov"].contains(muxer) }
    /// The container holds streams besides the video (audio, subtitles, chapters), so `--mux` can fill it.
    public var holdsOtherStreams: Bool { Self.table.first { $0.muxer == muxer }?.holdsOtherStreams ?? false }

    /// One extension encoda writes.
    public struct Entry: Sendable {
        /// Without the dot, lower case.
        public var fileExtension: String
        public var muxer: String
        public var codecs: Set<EncoderKind>
        public var holdsOtherStreams: Bool
    }

    /// Every extension encoda writes, in the order they are listed to the user.
    public static let table: [Entry] = [
        Entry(fileExtension: "mkv", muxer: "matroska", codecs: [.av1, .h264], holdsOtherStreams: true),
        Entry(fileExtension: "mp4", muxer: "mp4", codecs: [.av1, .h264], holdsOtherStreams: true),
        Entry(fileExtension: "m4v", muxer: "mp4", codecs: [.av1, .h264], holdsOtherStreams: true),
        Entry(fileExtension: "webm", muxer: "webm", codecs: [.av1], holdsOtherStreams: true),
        Entry(fileExtension: "ivf", muxer: "ivf", codecs: [.av1], holdsOtherStreams: false),
        Entry(fileExtension: "obu", muxer: "obu", codecs: [.av1], holdsOtherStreams: false),
        Entry(fileExtension: "mov", muxer: "mov", codecs: [.h264], holdsOtherStreams: true),
        Entry(fileExtension: "h264", muxer: "h264", codecs: [.h264], holdsOtherStreams: false),
        Entry(fileExtension: "264", muxer: "h264", codecs: [.h264], holdsOtherStreams: false),
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
        return OutputFormat(muxer: entry.muxer, fileExtension: ext)
    }
}
