import ArgumentParser
import EncodaModel
import EncodaPipeline
import Foundation

/// `--otio`, `--edl`, `--track`, `--timeline-start`: one output per clip of an editorial timeline, INPUT being a
/// render of that timeline.
struct TimelineOptions: ParsableArguments {
    @Option(name: .long, help: "An OpenTimelineIO timeline (.otio) INPUT is a render of: one output per clip of its first video track. OUTPUT is then a pattern with {clip} (the clip's name) and/or {index} (1-based, zero-padded), e.g. reviews/{index}_{clip}.mp4.")
    var otio: String?
    @Option(name: .long, help: "A CMX 3600 EDL INPUT is a render of: one output per video event, as with --otio.")
    var edl: String?
    @Option(name: .long, help: "With --otio: the track whose clips to cut (default: the first video track).")
    var track: String?
    @Option(name: .long, help: "With --otio or --edl: the record timecode of INPUT's first frame, e.g. 01:00:00:00 (default: the timeline's start; an EDL's first event).")
    var timelineStart: String?

    var given: Bool { otio != nil || edl != nil }
    var option: String { otio != nil ? "--otio" : "--edl" }

    /// The timeline read from its file, nil without --otio/--edl; usage errors for what is wrong without INPUT.
    func timeline() throws -> EditorialTimeline? {
        if otio != nil && edl != nil { throw EncodaError(.usage, "--otio and --edl exclude each other; give one timeline") }
        guard given else {
            let stray = [(track, "--track"), (timelineStart, "--timeline-start")].filter { $0.0 != nil }.map(\.1)
            if let first = stray.first { throw EncodaError(.usage, "\(first) applies to a timeline; add --otio TIMELINE or --edl FILE") }
            return nil
        }
        if edl != nil && track != nil { throw EncodaError(.usage, "--track applies to --otio; an EDL holds one video track") }
        _ = try start()
        let file = otio ?? edl!
        guard let data = FileManager.default.contents(atPath: file) else {
            throw EncodaError(.usage, "\(option) \(file) cannot be read; check the path")
        }
        if otio != nil { return try OTIOReader.read(data, file: file, track: track) }
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw EncodaError(.usage, "--edl \(file) is not a text file")
        }
        return try EDLReader.read(text, file: file)
    }

    func start() throws -> SMPTETimecode? {
        guard let t = timelineStart else { return nil }
        guard let tc = SMPTETimecode(parsing: t) else {
            throw EncodaError(.usage, "--timeline-start \(t) is not a timecode; write e.g. 01:00:00:00 (01:00:00;00 drop-frame)")
        }
        return tc
    }

    /// The timeline and the file of each of its clips (OUTPUT's pattern filled in), nil without a timeline.
    func load(pattern: String) throws -> (timeline: EditorialTimeline, paths: [String])? {
        guard let t = try timeline() else { return nil }
        try ClipOutputNames.check(pattern: pattern, option: option)
        let paths = ClipOutputNames.paths(pattern: pattern, clipNames: t.clips.map(\.name)).map(JobSetup.absolute)
        return (t, paths)
    }

    /// Every clip's output checked before any work: its folder is writable, it is not INPUT, and an existing file
    /// is replaced only with -y, unless this job in TMP wrote it (a re-run resumes).
    static func checkOutputs(_ paths: [String], input: String, tmp: String, overwrite: Bool) throws {
        let joined = JoinedOutputs.intact(tmp: tmp)
        for p in paths {
            try JobSetup.checkOutputLocation(p)
            try OutputGuard.check(input: input, output: p, tmp: tmp, overwrite: overwrite || joined.contains(p))
        }
    }
}
