import Foundation

/// How workers find INPUT: by a path relative to TMP when INPUT lives inside the shared folder, otherwise by
/// the absolute path it had on the coordinator (a worker may map it with --input-root).
public struct InputReference: Codable, Sendable, Hashable {
    public var absolutePath: String
    public var pathRelativeToWorkDirectory: String?
    public var size: Int64
    public var fingerprint: String
    public init(absolutePath: String, pathRelativeToWorkDirectory: String?, size: Int64, fingerprint: String) {
        self.absolutePath = absolutePath; self.pathRelativeToWorkDirectory = pathRelativeToWorkDirectory
        self.size = size; self.fingerprint = fingerprint
    }
}

/// The job plan, written once into TMP as `job.json` and never rewritten.
public struct JobManifest: Codable, Sendable {
    /// 2: the plan's decisions (`plan`) are stored; a job.json of format 1 is refused with what to do.
    public static let formatVersion = 2

    public var formatVersion: Int
    public var jobID: String
    public var createdAt: Double
    public var input: InputReference
    public var video: VideoFacts
    public var frameCount: Int
    public var settings: EncodeSettings
    public var scene: SceneSettings
    public var versions: EncoderVersions
    public var chunks: [Chunk]
    /// Lease time and retry limit shared by all workers (absent in plans made before they were recorded).
    public var farm: FarmSettings?
    /// The part of INPUT to encode (`--start`/`--end`); nil: all of it (and in plans made before trims existed).
    public var trim: Trim?
    /// One output per clip of an editorial timeline (`--otio`, `--edl`); nil: one OUTPUT. The chunks cover each
    /// output's range in turn, ids running on across outputs.
    public var outputs: [ClipOutput]?
    /// The profile the job was made with (`--profile`), for worker overrides to match; nil: none.
    public var profile: String?
    /// The decisions workers, the join and the mux read (`JobPlanner`); every job.json encoda writes holds them
    /// (`requirePlan`), fixtures of the protocol's tests need not.
    public var plan: JobPlan?
    /// True in the job.json of a job whose chunks are published one by one while its analysis runs (`PlanRecord`, in
    /// TMP/plan): job.json then holds no chunk, and its plan no slice. A view that has read the last record
    /// (`appending`) clears it and is a whole plan; until then its chunks are the plan's first ones.
    public var planStreaming: Bool?

    public var farmSettings: FarmSettings { farm ?? FarmSettings() }

    /// The source frames OUTPUT holds: the trim's range, or every frame. `frameCount` stays INPUT's.
    public var outputRange: FrameRange { trim?.range ?? FrameRange(0, frameCount) }
    /// Frames in OUTPUT (and in the plan's chunks).
    public var outputFrameCount: Int { outputs.map { $0.reduce(0) { $0 + $1.range.count } } ?? outputRange.count }

    /// The bit rate (kb/s) of `bytes` that hold `frames` frames of this job at the source's frame rate, and OUTPUT's
    /// size at that rate; nil before any frame. Progress and `status` estimate from the finished chunks with it.
    public func sizeEstimate(bytes: Int64, frames: Int) -> (kbps: Double, outputBytes: Double)? {
        let rate = video.frameRate.doubleValue
        guard frames > 0, rate > 0 else { return nil }
        return (Double(bytes) * 8 / (Double(frames) / rate) / 1000, Double(bytes) / Double(frames) * Double(outputFrameCount))
    }

    public init(jobID: String, createdAt: Double, input: InputReference, video: VideoFacts, frameCount: Int,
                settings: EncodeSettings, scene: SceneSettings, versions: EncoderVersions, chunks: [Chunk]) {
        self.formatVersion = Self.formatVersion
        self.jobID = jobID; self.createdAt = createdAt; self.input = input; self.video = video
        self.frameCount = frameCount; self.settings = settings; self.scene = scene; self.versions = versions
        self.chunks = chunks
    }

    /// The plan's decisions; a job.json without them cannot be encoded from.
    public func requirePlan() throws -> JobPlan {
        guard let plan else {
            throw EncodaError(.stateCorrupt, "job.json of job \(jobID) holds no plan; add --restart to plan the job again, or use a fresh TMP")
        }
        return plan
    }

    /// Rejects a manifest that is inconsistent or could make a worker touch anything outside TMP.
    public func validate() throws {
        func bad(_ what: String) -> EncodaError {
            EncodaError(.stateCorrupt, "job.json is invalid: \(what); remove the job with `encoda clean TMP` or use a fresh TMP")
        }
        if formatVersion < Self.formatVersion && formatVersion >= 1 {
            throw EncodaError(.versionMismatch, "TMP holds job \(jobID) planned by an earlier encoda (job.json format \(formatVersion), this encoda reads \(Self.formatVersion)); add --restart to discard it and plan it again, or finish it with the encoda that planned it")
        }
        guard formatVersion == Self.formatVersion else { throw bad("format version \(formatVersion), this encoda reads \(Self.formatVersion)") }
        guard jobID.count >= 8, jobID.count <= 64, jobID.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { throw bad("job id") }
        guard frameCount > 0, frameCount <= Limits.maxFrames else { throw bad("frame count \(frameCount)") }
        let growing = planStreaming == true
        guard !chunks.isEmpty || growing, chunks.count <= Limits.maxChunks, chunks.count <= outputFrameCount else { throw bad("chunk count \(chunks.count)") }
        if let t = trim, t.range.start < 0 || t.range.end > frameCount || t.range.count < 1 {
            throw bad("frame range \(t.range) of \(frameCount) frames")
        }
        if let outs = outputs {
            guard !outs.isEmpty, trim == nil else { throw bad("outputs") }
            for o in outs where o.range.start < 0 || o.range.end > frameCount || o.range.count < 1 || o.path.isEmpty {
                throw bad("output \(o.path) frame range \(o.range) of \(frameCount) frames")
            }
        }
        // The spans the chunks cover in turn: each output's range, or OUTPUT's.
        var spans = (outputs?.map(\.range) ?? [outputRange])[...]
        var span = spans.removeFirst()
        var expectStart = span.start
        if growing && outputs != nil { throw bad("a timeline's plan does not stream") }
        for (i, c) in chunks.enumerated() {
            guard c.id == i else { throw bad("chunk ids must be 0…\(chunks.count - 1) in order") }
            if expectStart == span.end, let next = spans.first { spans.removeFirst(); span = next; expectStart = span.start }
            guard c.range.start == expectStart, c.range.end > c.range.start, c.range.end <= span.end else {
                throw bad("chunk \(i) range \(c.range) does not continue at frame \(expectStart)")
            }
            guard c.shotStarts.first == c.range.start, c.shotStarts.count <= c.range.count,
                  zip(c.shotStarts, c.shotStarts.dropFirst()).allSatisfy({ $0 < $1 }),
                  c.shotStarts.allSatisfy({ c.range.contains($0) }) else { throw bad("chunk \(i) shot starts") }
            expectStart = c.range.end
        }
        guard growing || (expectStart == span.end && spans.isEmpty) else { throw bad("chunks cover frames up to \(expectStart) of \(span)") }
        guard video.width > 0, video.height > 0, video.width <= Limits.maxDimension, video.height <= Limits.maxDimension else {
            throw bad("video size \(video.width)x\(video.height)")
        }
        guard video.timeBase.isValid, video.streamIndex >= 0, video.streamIndex < 10_000 else { throw bad("video stream facts") }
        if let why = video.sourceMetadataProblem ?? settings.pixelRotationProblem { throw bad(why) }
        if let rel = input.pathRelativeToWorkDirectory {
            guard PathSafety.isInputPathInSharedFolder(rel) else {
                throw bad("input path \(rel) leads outside the shared folder that holds TMP")
            }
        }
        if let p = profile, !Profile.isValidName(p) { throw bad("profile name") }
        if let farm { do { try farm.validate() } catch let e as EncodaError { throw bad(e.message) } }
        guard input.absolutePath.hasPrefix("/"), !input.absolutePath.contains("\0") else { throw bad("input path") }
        guard input.size >= 0 else { throw bad("input size") }
        do { try settings.validate() } catch let e as EncodaError { throw bad(e.message) }
        if let plan {
            guard plan.slices.count == chunks.count, plan.costs.map({ $0.count == chunks.count }) ?? true,
                  plan.claimOrder.sorted() == Array(chunks.indices) else { throw bad("plan does not match the chunks") }
            for (c, s) in zip(chunks, plan.slices) {
                guard s.first == max(0, c.range.start - 1), s.end == c.range.end, s.keyframes.count == s.keyframeTimestamps.count,
                      s.keyframes.count == s.keyframePositions.count, s.keyframes.allSatisfy({ $0 >= 0 }) else {
                    throw bad("chunk \(c.id)'s frame index slice")
                }
            }
            guard plan.pixelFormat == settings.pixelFormat else { throw bad("plan pixel format \(plan.pixelFormat)") }
        }
    }
}

public enum PathSafety {
    /// A relative path made of plain components. `..` is allowed only where a path legitimately leads from TMP to
    /// a sibling (the input reference); state files inside TMP never allow it.
    public static func isSafeRelativePath(_ path: String, allowParent: Bool) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\0"), path.utf8.count < 4096 else { return false }
        for comp in path.split(separator: "/", omittingEmptySubsequences: false) {
            if comp.isEmpty || comp == "." { return false }
            if comp == ".." && !allowParent { return false }
        }
        return true
    }

    /// The input's path relative to TMP: inside TMP, or inside the folder that holds TMP (the shared folder
    /// several jobs live in), so a single leading `..` at most; never a `..` further on.
    public static func isInputPathInSharedFolder(_ path: String) -> Bool {
        guard isSafeRelativePath(path, allowParent: true) else { return false }
        let comps = path.split(separator: "/")
        let parents = comps.filter { $0 == ".." }.count
        return parents == 0 || (parents == 1 && comps.first == ".." && comps.count > 1)
    }

    /// A single file name inside a TMP folder: no separators, no dot-dot, printable.
    public static func isPlainFileName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200, name != ".", name != ".." else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}
