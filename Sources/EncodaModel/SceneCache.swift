/// What one decode of INPUT learns: the frame index, per-frame change measurements, and the stream facts.
/// Stored in TMP as `scenes.json`, keyed by the input fingerprint and the analysis version; cuts for any
/// detector settings are recomputed from `changes` without decoding again.
public struct SceneCache: Codable, Sendable {
    public static let formatVersion = 1
    /// Bumped when the measurement itself changes (downscale size, formula), invalidating old caches.
    /// 2: block means straight from the luma plane of a decode without deblocking (was libswscale area scaling).
    /// 3: the video facts record interlacing (field order from the decoded frames); a version-2 cache would
    /// make an interlaced source progressive. They also record rotation, HDR10 static metadata, dynamic HDR
    /// and the start timecode. Frames without a timestamp follow `FrameClock`'s rule (previous timestamp plus
    /// previous duration), the index records keyframe byte positions, and raw elementary streams are
    /// positioned by byte.
    public static let analysisVersion = 3

    public var formatVersion: Int
    public var analysisVersion: Int
    public var fingerprint: String
    public var video: VideoFacts
    public var index: FrameIndex
    public var changes: [Double]
    /// Cuts as last computed, with the settings that produced them (informational; recomputed on use).
    public var settings: SceneSettings
    public var cuts: [Int]
    /// Where the cuts came from: "detected" or an imported scenes file.
    public var cutSource: String
    /// Black-border measurements for `--autocrop` (absent in caches written before cropping existed).
    public var crop: CropAnalysis?
    /// The frames whose measurements `changes` holds, ascending and apart, when the analysis covered only part of
    /// INPUT (a trim or a timeline: its ranges, each with the frame before; see `AnalysisSpans`); elsewhere
    /// `changes` is 0. The frame index then comes from the packets (`PacketIndex`), not from a decode. Nil: every
    /// frame was decoded and measured (and in caches written before partial analysis existed).
    public var analysed: [FrameRange]?
    /// Frames the analysis decoded (every frame of a whole pass; with `analysed`, those from the keyframe before
    /// each span to its end). Absent in caches written before it was recorded.
    public var framesDecoded: Int?

    public init(fingerprint: String, video: VideoFacts, index: FrameIndex, changes: [Double],
                settings: SceneSettings, cuts: [Int], cutSource: String = "detected", crop: CropAnalysis? = nil) {
        self.crop = crop
        self.formatVersion = Self.formatVersion
        self.analysisVersion = Self.analysisVersion
        self.fingerprint = fingerprint; self.video = video; self.index = index; self.changes = changes
        self.settings = settings; self.cuts = cuts; self.cutSource = cutSource
    }

    /// Checks a decoded cache for internal consistency (it comes from TMP, which is untrusted).
    public func validate() throws {
        guard formatVersion == Self.formatVersion else {
            throw EncodaError(.stateCorrupt, "scene cache has format version \(formatVersion), expected \(Self.formatVersion)")
        }
        let n = index.pts.count
        guard n > 0, n <= Limits.maxFrames, index.durations.count == n, changes.count == n else {
            throw EncodaError(.stateCorrupt, "scene cache frame index is inconsistent (\(n) frames)")
        }
        guard index.keyframes.allSatisfy({ $0 >= 0 && $0 < n }), index.keyframes.first == 0 else {
            throw EncodaError(.stateCorrupt, "scene cache keyframe list is inconsistent")
        }
        if let p = index.keyframePositions, p.count != index.keyframes.count || (index.seeksByByte && !p.allSatisfy({ $0 >= 0 })) {
            throw EncodaError(.stateCorrupt, "scene cache keyframe positions are inconsistent")
        }
        guard video.width > 0, video.height > 0, video.width <= Limits.maxDimension, video.height <= Limits.maxDimension,
              video.timeBase.isValid else {
            throw EncodaError(.stateCorrupt, "scene cache video description is invalid")
        }
        if let why = video.sourceMetadataProblem {
            throw EncodaError(.stateCorrupt, "scene cache video description is invalid: \(why)")
        }
        if let spans = analysed {
            guard !spans.isEmpty, spans.allSatisfy({ $0.count > 0 && $0.end <= n }),
                  zip(spans, spans.dropFirst()).allSatisfy({ $0.end < $1.start }) else {
                throw EncodaError(.stateCorrupt, "scene cache analysed ranges are inconsistent")
            }
        }
        if let c = crop {
            guard c.width == video.width, c.height == video.height, c.frames.count == c.areas.count, c.frames.count <= n,
                  c.areas.allSatisfy({ a in a.map { $0.x >= 0 && $0.y >= 0 && $0.width > 0 && $0.height > 0 && $0.right <= c.width && $0.bottom <= c.height } ?? true }) else {
                throw EncodaError(.stateCorrupt, "scene cache crop measurements are inconsistent")
            }
        }
    }
}

extension SceneCache {
    /// True when the measurements cover every frame of `spans` (nil: the whole of INPUT).
    public func covers(_ spans: [FrameRange]?) -> Bool {
        guard let have = analysed else { return true }
        guard let spans else { return false }
        return spans.allSatisfy { s in have.contains { $0.start <= s.start && s.end <= $0.end } }
    }
}

/// Upper bounds applied to anything read from TMP, so a hostile file cannot make encoda allocate without limit.
public enum Limits {
    public static let maxFrames = 50_000_000
    public static let maxDimension = 65_536
    public static let maxChunks = 1_000_000
    public static let maxStateFileBytes = 512 * 1024 * 1024
}
