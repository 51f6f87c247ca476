import Foundation

/// `TMP/analysis.json`: INPUT's analysis as leased work, all a worker reads to analyse a segment (never scenes.json,
/// never the whole frame index). Written once, exclusively, by the coordinator before job.json exists; immutable.
public struct AnalysisManifest: Codable, Sendable {
    public static let formatVersion = 1

    /// One segment and the part of the frame index its decode reads: the slice a chunk of the same frames would get in
    /// job.json (`FrameIndexSlice`: those frames' timestamps, the one before them, and the keyframes a seek to them may
    /// try).
    public struct Entry: Codable, Sendable, Hashable {
        public var segment: AnalysisSegment
        public var index: FrameIndexSlice
        public init(segment: AnalysisSegment, index: FrameIndexSlice) { self.segment = segment; self.index = index }
    }

    public var formatVersion: Int
    /// The job's id (job.json, written later, carries the same).
    public var jobID: String
    public var createdAt: Double
    public var input: InputReference
    public var video: VideoFacts
    public var frameCount: Int
    /// `SceneCache.analysisVersion` of the encoda that planned the segments: a record measured otherwise is not the
    /// whole pass's.
    public var analysisVersion: Int
    public var farm: FarmSettings?
    public var segments: [Entry]
    /// `--autocrop`: workers also sample each segment's black borders (`SegmentMeasurements.borders`), which must
    /// confirm the crop decided from frames sampled across the file.
    public var sampleBorders: Bool? = nil

    public var farmSettings: FarmSettings { farm ?? FarmSettings() }

    public init(jobID: String, createdAt: Double, input: InputReference, video: VideoFacts, frameCount: Int,
                farm: FarmSettings?, segments: [Entry]) {
        formatVersion = Self.formatVersion; analysisVersion = SceneCache.analysisVersion
        self.jobID = jobID; self.createdAt = createdAt; self.input = input; self.video = video; self.frameCount = frameCount
        self.farm = farm; self.segments = segments
    }

    /// The manifest of `segments` over `index` (a packet index's frame index: its timestamps identify frames).
    public init(jobID: String, createdAt: Double, input: InputReference, video: VideoFacts, index: FrameIndex,
                farm: FarmSettings?, segments: [AnalysisSegment]) {
        let reliable = index.timestampsReliable
        let entries = segments.map { Entry(segment: $0, index: $0.indexSlice(of: index, reliable: reliable)) }
        self.init(jobID: jobID, createdAt: createdAt, input: input, video: video, frameCount: index.pts.count, farm: farm, segments: entries)
    }

    /// Rejects a manifest that is inconsistent or could make a worker touch anything outside TMP (it comes from TMP).
    public func validate() throws {
        func bad(_ what: String) -> EncodaError {
            EncodaError(.stateCorrupt, "analysis.json is invalid: \(what); remove the job with `encoda clean TMP` or use a fresh TMP")
        }
        guard formatVersion == Self.formatVersion else { throw bad("format version \(formatVersion), this encoda reads \(Self.formatVersion)") }
        guard analysisVersion == SceneCache.analysisVersion else {
            throw EncodaError(.versionMismatch, "TMP holds an analysis planned by another encoda (analysis version \(analysisVersion), this encoda measures version \(SceneCache.analysisVersion)); add --restart to plan it again")
        }
        guard jobID.count >= 8, jobID.count <= 64, jobID.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { throw bad("job id") }
        guard frameCount > 0, frameCount <= Limits.maxFrames else { throw bad("frame count \(frameCount)") }
        guard !segments.isEmpty, segments.count <= Limits.maxChunks else { throw bad("segment count \(segments.count)") }
        var end = 0
        for (i, e) in segments.enumerated() {
            let s = e.segment, x = e.index
            guard s.id == i else { throw bad("segment ids must be 0…\(segments.count - 1) in order") }
            guard s.frames.start >= end, s.frames.end > s.frames.start, s.frames.end <= frameCount else {
                throw bad("segment \(i) frames \(s.frames) (after frame \(end) of \(frameCount))")
            }
            let decoded = s.decoded.start
            guard x.first == max(0, decoded - 1), x.end == s.frames.end, x.keyframes.count == x.keyframeTimestamps.count,
                  x.keyframes.count == x.keyframePositions.count, x.keyframes.allSatisfy({ $0 >= 0 && $0 <= decoded }) else {
                throw bad("segment \(i)'s frame index slice")
            }
            end = s.frames.end
        }
        guard video.width > 0, video.height > 0, video.width <= Limits.maxDimension, video.height <= Limits.maxDimension else {
            throw bad("video size \(video.width)x\(video.height)")
        }
        guard video.timeBase.isValid, video.streamIndex >= 0, video.streamIndex < 10_000 else { throw bad("video stream facts") }
        if let rel = input.pathRelativeToWorkDirectory, !PathSafety.isInputPathInSharedFolder(rel) {
            throw bad("input path \(rel) leads outside the shared folder that holds TMP")
        }
        guard input.absolutePath.hasPrefix("/"), !input.absolutePath.contains("\0") else { throw bad("input path") }
        if let farm { do { try farm.validate() } catch let e as EncodaError { throw bad(e.message) } }
    }

    /// Whether `record` is what a worker may publish for segment `id`: that segment, one measurement per frame.
    public func accepts(_ record: SegmentRecord, for id: Int) -> Bool {
        guard id >= 0, id < segments.count, record.segment == segments[id].segment else { return false }
        return record.measurements.isComplete(for: record.segment)
    }
}

extension SegmentMeasurements {
    /// One change, timestamp and duration for each of `segment`'s frames, and those frames.
    public func isComplete(for segment: AnalysisSegment) -> Bool {
        let n = segment.frames.count
        return frames == segment.frames && changes.count == n && pts.count == n && durations.count == n
    }
}
