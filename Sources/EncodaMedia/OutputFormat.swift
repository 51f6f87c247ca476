import EncodaModel
import Foundation

/// The container OUTPUT's extension asks for, and whether it can hold the codec.
public struct OutputFormat: Sendable {
    /// libavformat muxer name.
    public var muxer: String
    public var fileExtension: String
    /// The container carries a seek index (Matroska cues, an MP4/MOV sample table), so its tail can be reached
    /// without reading the file from the start.
    public var hasIndex: Bool { ["matroska", "webm", "mp4", "mov"].contains(muxer) }

    public static func forPath(_ path: String, encoder: EncoderKind) throws -> OutputFormat {
        let ext = (path as NSString).pathExtension.lowercased()
        let table: [String: (String, Set<EncoderKind>)] = [
            "mkv": ("matroska", [.av1, .h264]),
            "mp4": ("mp4", [.av1, .h264]),
            "m4v": ("mp4", [.av1, .h264]),
            "mov": ("mov", [.h264]),
            "webm": ("webm", [.av1]),
            "ivf": ("ivf", [.av1]),
            "obu": ("obu", [.av1]),
            "h264": ("h264", [.h264]),
            "264": ("h264", [.h264]),
        ]
        guard let (muxer, codecs) = table[ext] else {
            let known = encoder == .av1 ? ".mkv, .mp4, .webm, .ivf" : ".mkv, .mp4, .mov, .h264"
            throw EncodaError(.outputInvalid, "OUTPUT \(path) has extension '\(ext)', which encoda cannot write; use \(known)")
        }
        guard codecs.contains(encoder) else {
            let fits = table.filter { $0.value.1.contains(encoder) }.map { "." + $0.key }.sorted().joined(separator: ", ")
            throw EncodaError(.outputInvalid, "OUTPUT \(path): a .\(ext) file cannot hold \(encoder == .av1 ? "AV1" : "H.264") video; use \(fits), or --encoder \(encoder == .av1 ? "h264" : "av1")")
        }
        return OutputFormat(muxer: muxer, fileExtension: ext)
    }
}
