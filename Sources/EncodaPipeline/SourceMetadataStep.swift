import EncodaMedia
import EncodaModel

/// The coordinator's decisions about what INPUT carries beside its pixels (rotation, HDR, timecode; see
/// `SourceMetadata.swift`), and the notes that say what OUTPUT does with it.
enum SourceMetadataStep {
    /// Settings with the pixel rotation for this OUTPUT (see `Orientation.decide`), after one note per property
    /// that is converted or dropped, unless `--quiet`.
    static func orient(settings: EncodeSettings, output: String, noAutorotate: Bool, quiet: Bool, video: VideoFacts) throws -> EncodeSettings {
        let format = try OutputFormat.forPath(output, encoder: settings.encoder)
        let (turn, note) = Orientation.decide(video: video, muxer: format.muxer, fileExtension: format.fileExtension,
                                              noAutorotate: noAutorotate)
        var s = settings
        s.pixelRotation = turn
        _ = try OutputPicture.make(source: video, settings: s) // --scale against the turned picture fails here
        guard !quiet else { return s }
        if let note { Report.note(note) }
        for line in notes(video: video, format: format) { Report.note(line) }
        return s
    }

    /// What OUTPUT cannot keep of HDR metadata and timecode, one line each.
    static func notes(video v: VideoFacts, format: OutputFormat) -> [String] {
        var lines: [String] = []
        if let dynamic = v.dynamicHDR, !dynamic.isEmpty {
            let kept = v.masteringDisplay != nil || v.contentLightLevel != nil ? " with its HDR10 static metadata" : ""
            lines.append("INPUT carries \(dynamic.joined(separator: " and ")) dynamic HDR metadata; encoda drops it and encodes the base layer\(kept)")
        }
        if let tc = v.timecode, !["matroska", "webm", "mov", "mp4"].contains(format.muxer) {
            lines.append("INPUT starts at timecode \(tc); .\(format.fileExtension) cannot carry it (write .mkv, .mov or .mp4 to keep it)")
        }
        return lines
    }
}
