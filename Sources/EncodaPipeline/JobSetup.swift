import EncodaJobs
import EncodaMedia
import EncodaModel
import EncodaSystem
import Foundation

/// The coordinator's planning: scene cache, cuts, chunks, manifest. Reuses what TMP already holds.
public enum JobSetup {
    public static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return url.standardizedFileURL.path
    }

    /// INPUT as the job records it: a video file's absolute path, or an image sequence's pattern (a folder becomes
    /// the pattern of the one sequence it holds, see `ImageSequence.resolve`). A sequence with a gap is refused
    /// here, before any work.
    public static func input(_ given: String) throws -> (path: String, sequence: ImageSequence?) {
        let path = absolute(given)
        guard let seq = try ImageSequence.resolve(path) else { return (path, nil) }
        try seq.checkContiguous()
        return (seq.pattern, seq)
    }

    /// The frame rate of an image sequence INPUT (`--input-fps`, else its images' own, else 24), said in a normal
    /// run; nil for a video file, where `--input-fps` is refused.
    public static func sequenceRate(_ sequence: ImageSequence?, inputFps: String?, quiet: Bool) throws -> Rational? {
        let requested = try inputFps.map { text in
            guard let r = FrameRateText.parse(text) else {
                throw EncodaError(.usage, "--input-fps \(text) is not a frame rate; write e.g. 24, 25, 23.976 or 30000/1001")
            }
            return r
        }
        guard let seq = sequence else {
            if inputFps != nil {
                throw EncodaError(.usage, "--input-fps applies to an image sequence INPUT (a pattern such as frame_%04d.png, or a folder); a video file keeps its own timing")
            }
            return nil
        }
        let (rate, source) = ImageSequenceSource.frameRate(seq, requested: requested)
        if !quiet { Report.note(ImageSequenceSource.note(seq, rate: rate, source: source)) }
        return rate
    }

    /// Relative path from folder `from` to `to` (both absolute), e.g. "../in.mkv".
    static func relativePath(from: String, to: String) -> String? {
        let a = from.split(separator: "/").map(String.init)
        let b = to.split(separator: "/").map(String.init)
        var i = 0
        while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
        guard i > 0 else { return nil }
        let rel = Array(repeating: "..", count: a.count - i) + b[i...]
        return rel.joined(separator: "/")
    }

    public static func checkOutputLocation(_ output: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDir), isDir.boolValue {
            throw EncodaError(.outputInvalid, "OUTPUT \(output) is a folder; give a file name such as \(output)/out.mkv")
        }
        let dir = (absolute(output) as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw EncodaError(.outputInvalid, "the folder of OUTPUT (\(dir)) does not exist; create it first")
        }
        // Prove it with a real file (permissions lie for root and on read-only or network file systems),
        // so the problem shows now and not after hours of encoding.
        let probe = dir + "/.encoda-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do { FileSystem.close(try FileSystem.open(probe, O_CREAT | O_EXCL | O_WRONLY)) } catch {
            throw EncodaError(.outputInvalid, "cannot write OUTPUT into \(dir) (\(error.reason)); choose a writable location")
        }
        try? FileSystem.unlink(probe)
    }

    /// Loads a matching scene cache or runs the scene pass and stores one.
    /// `needCrop`: a cache without crop measurements (written before they existed) is not reused.
    /// `frameRate`: an image sequence's rate; a cache made at another rate is not reused.
    /// `ranges`: for a trim or a timeline, the frames it encodes, given the frame index (a cache whose index is only
    /// provisional: its `changes` are not measured yet). Only those, each with the frame before, are then decoded
    /// (`ScenePass.preview`, `ScenePass.run(input:preview:spans:)`); a cache that measured them is reused. Nil: the
    /// whole of INPUT.
    public static func sceneCache(input: String, fingerprint: String, dir: WorkDirectory, scene: SceneSettings,
                           encoder: EncoderKind, quiet: Bool, needCrop: Bool = false, frameRate: Rational? = nil,
                           ranges: ((SceneCache) throws -> [FrameRange])? = nil) throws -> SceneCache {
        var earlier: SceneCache? = nil
        if FileManager.default.fileExists(atPath: dir.sceneCache),
           let cached = try? JSONCoding.read(SceneCache.self, from: dir.sceneCache, what: "scene cache"),
           cached.fingerprint == fingerprint, cached.analysisVersion == SceneCache.analysisVersion,
           !needCrop || cached.crop != nil, frameRate == nil || cached.video.frameRate == frameRate,
           (try? cached.validate()) != nil {
            if try cached.covers(ranges.map { AnalysisSpans.spans(for: try $0(cached)) }) { return cached }
            earlier = cached
        }
        let started = Date()
        let show: (Int) -> Void = { n in
            if !quiet { Report.scenePass(frames: n) }
        }
        var pass: ScenePass.Output
        var cuts: [Int]
        var what = "frames"
        let (preview, reason) = ranges == nil ? (nil, nil) : try ScenePass.preview(input: input, encoder: encoder)
        if let ranges, let preview {
            let provisional = SceneCache(fingerprint: fingerprint, video: preview.video, index: preview.index,
                                         changes: [Double](repeating: 0, count: preview.index.frameCount), settings: scene, cuts: [])
            let wanted = try ranges(provisional)
            var spans = AnalysisSpans.spans(for: wanted)
            // Keep what an earlier run of this TMP measured (another range), so that neither is decoded again later.
            if let have = earlier?.analysed, earlier?.index == preview.index { spans = AnalysisSpans.union(spans, have) }
            pass = try ScenePass.run(input: input, preview: preview, spans: spans, progress: show)
            cuts = spans.flatMap { CutDetector.cuts(changes: pass.changes, settings: scene, within: $0) }
            what = "of \(preview.index.frameCount) frames measured (\(pass.framesDecoded) decoded)"
        } else {
            if let reason, !quiet { Report.note("analysing the whole of INPUT, not only the frames to encode: \(reason)") }
            pass = try ScenePass.run(input: input, encoder: encoder, frameRate: frameRate, progress: show)
            cuts = CutDetector.cuts(changes: pass.changes, settings: scene)
        }
        if !quiet { Report.scenePass(frames: nil) }
        var cache = SceneCache(fingerprint: fingerprint, video: pass.video, index: pass.index, changes: pass.changes,
                               settings: scene, cuts: cuts, crop: pass.crop)
        cache.analysed = pass.analysed
        cache.framesDecoded = pass.framesDecoded
        try AtomicFile.writeJSON(cache, to: dir.sceneCache, staging: dir.staging)
        if !quiet {
            let secs = Date().timeIntervalSince(started)
            let measured = pass.analysed.map { $0.reduce(0) { $0 + $1.count } } ?? pass.index.frameCount
            Report.note(String(format: "scene pass: %d %@ in %.1f s (%.0f fps), %d cuts", measured, what, secs,
                                    Double(pass.framesDecoded) / max(secs, 0.001), cuts.count))
            for note in pass.notes { Report.note(note) }
        }
        return cache
    }

    /// Cuts for this request: imported from a scenes file, or detected from the cached measurements.
    /// Av1an zone overrides in the scenes file are ignored, with one note unless `quiet`.
    /// `within`: the frames a trim or a timeline encodes; cuts are then detected inside each range alone, its start
    /// taken as the previous cut (`CutDetector.cuts(changes:settings:within:)`), so they do not depend on frames
    /// outside it, which a partial analysis never measured.
    public static func cuts(cache: SceneCache, scene: SceneSettings, scenesJSON: String?, quiet: Bool,
                     within ranges: [FrameRange]? = nil) throws -> (cuts: [Int], source: String) {
        if let file = scenesJSON {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw EncodaError(.usage, "--scenes-json \(file) cannot be read; check the path")
            }
            let scenes: Av1anScenes
            do { scenes = try JSONDecoder().decode(Av1anScenes.self, from: data) } catch {
                throw EncodaError(.usage, "--scenes-json \(file) is not an Av1an scenes file ({\"scenes\":[{\"start_frame\":…,\"end_frame\":…}],\"frames\":N})")
            }
            let cuts = try scenes.cuts(frameCount: cache.index.frameCount)
            let zoned = scenes.scenesWithZoneOverrides
            if zoned > 0 && !quiet {
                Report.note("\(zoned) \(zoned == 1 ? "scene carries" : "scenes carry") Av1an zone overrides; encoda ignores them and encodes every scene with the same settings")
            }
            return (cuts, "scenes-json")
        }
        guard let ranges else { return (CutDetector.cuts(changes: cache.changes, settings: scene), "detected") }
        return (ranges.flatMap { CutDetector.cuts(changes: cache.changes, settings: scene, within: $0) }.sorted(), "detected")
    }

    /// Shots of `range` (a trim; nil: every frame): the cuts inside it, long shots split, every shot within it.
    /// A shot that starts before the range starts at its first frame, which a worker reaches by decoding on from the
    /// keyframe before it.
    public static func shots(cache: SceneCache, cuts: [Int], scene: SceneSettings, range: FrameRange? = nil) -> (shots: [FrameRange], maxFrames: Int) {
        let fps = cache.video.frameRate.doubleValue
        let maxFrames = scene.maxSceneSeconds > 0 ? max(1, Int((scene.maxSceneSeconds * fps).rounded())) : 0
        let r = range ?? FrameRange(0, cache.index.frameCount)
        let inside = cuts.filter { $0 > r.start && $0 < r.end }
        let splits = CutDetector.splits(cuts: inside, frameCount: r.end, changes: cache.changes,
                                        maxFrames: maxFrames, minFrames: max(1, scene.minSceneLength), keyframes: cache.index.keyframes,
                                        from: r.start)
        let shots = CutDetector.shots(boundaries: (inside + splits).sorted(), frameCount: r.end, from: r.start)
        return (shots, maxFrames)
    }

    static func plan(cache: SceneCache, shots: [FrameRange], maxFrames: Int) -> [Chunk] {
        JobPlanner.chunks(shots: shots, maxFrames: maxFrames, frameRate: cache.video.frameRate)
    }

    /// Crop and scale for this request: `--crop` wins over `--autocrop`; the detection is recomputed from the
    /// cached measurements. Returns the settings with crop/scale filled in and a line explaining the crop.
    static func picture(settings: EncodeSettings, options: EncodeRequest.Picture, cache: SceneCache) throws -> (EncodeSettings, String?) {
        var s = settings
        var explanation: String? = nil
        if let explicit = options.crop {
            s.crop = explicit.isFullFrame(width: cache.video.width, height: cache.video.height) ? nil : explicit
            explanation = "crop \(explicit) (W:H:X:Y) from --crop"
        } else if options.autocrop {
            guard let analysis = cache.crop else {
                throw EncodaError(.internalError, "the scene cache holds no crop measurements")
            }
            let d = CropDetector.decide(analysis)
            s.crop = d.crop
            explanation = d.explanation
        }
        s.scaleHeight = options.scale
        _ = try OutputPicture.make(source: cache.video, settings: s) // impossible rectangles fail here, before any work
        return (s, explanation)
    }
}
