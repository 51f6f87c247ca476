/// The plan of a job made while its analysis is still running: fed the measured changes of frames as analysis
/// segments finish, in any order, it returns after each feed the chunks that no later measurement can change, in
/// plan order with their final ids. When every frame is fed, the chunks returned in total are exactly the whole-file
/// plan: `CutDetector.cuts` (or `cuts(within:)` for a trim), `CutDetector.splits`, `CutDetector.shots`, then
/// `JobPlanner.chunks`, over the same changes. Pure, no I/O.
///
/// It is created with what the packet index knows before any pixel: the frames planned (the frame count, or a
/// trim's range), the frame rate and the source keyframes. Segments arrive in any order, so the planner takes
/// measured ranges as they come and works on the contiguous prefix it holds (the caller then keeps no bookkeeping
/// of its own, and a segment redone by a takeover is refused if it disagrees).
///
/// How far ahead each decision looks, with m = max(1, minimum scene length), M = the longest shot in frames
/// (`--max-scene-length` × rate; 0: none), G = the two-second chunk minimum in frames:
/// - a cut at frame i needs the changes of frames i-1 and i, the previous cut, and the frame count (the
///   end-of-file rule: no cut closer than m to the end), which the index gives first: no look-ahead past i;
/// - a split of a shot starting at s reads changes up to s + M, and depends on where the shot ends only until
///   the prefix reaches s + M + m (`CutDetector.splitPoint`): the piece before the split is final then, at most
///   M + m - max(m, M/2) frames past its end;
/// - grouping flushes a chunk once it holds G frames and a shot follows, or when the next shot would take it
///   past the chunk maximum (that shot final: at most M + m frames past the chunk's end); the end-of-file rule
///   that joins a short tail to the chunk before can only touch a chunk ending within G of the end, which is then
///   held to the end.
/// So a chunk ending before the last frame is returned once the prefix is `lookAhead` = max(1, G - 1, M + m)
/// frames past its end (M + m only with M > 0), a fixed bound; the last chunk once every frame is fed. A chunk
/// ending at a cut typically comes 1 frame past its end; the bound is reached when a group shorter than G is
/// followed by a long shot, which joins it only if short enough, known once that shot's split is (M + m).
/// A chunk's start is not bounded: with M = 0 a shot, and so its chunk, is as long as the source makes it.
///
/// Some plans cannot stream: `obstacle` says which, and the caller then plans once from the whole analysis.
public struct StreamingPlanner: Sendable {
    /// A request whose plan needs every frame's analysis before its first chunk.
    public enum Obstacle: String, Sendable, Hashable {
        /// `--bitrate`: `BitAllocation.assign` shares the bits over the whole plan, so no chunk's rate is known
        /// before the last chunk is.
        case bitRate = "--bitrate shares the bits over the whole plan"
        /// `--scenes-json`: the cuts come from a file, not from the analysis; there is nothing to stream.
        case scenesFile = "--scenes-json gives the cuts"
        /// A timeline: each clip is planned on its own range (`TimelineStep.plan`), not covered here.
        case timeline = "a timeline plans each clip apart"
    }

    /// Why this request's plan cannot stream, or nil when it can.
    public static func obstacle(bitRate: Int?, scenesFile: String?, timeline: Bool) -> Obstacle? {
        if bitRate != nil { return .bitRate }
        if scenesFile != nil { return .scenesFile }
        if timeline { return .timeline }
        return nil
    }

    /// The frames planned: all of INPUT, or a trim's range.
    public let frames: FrameRange
    public let settings: SceneSettings
    /// The longest shot in frames (0: no limit), as `SceneSettings.maxShotFrames`.
    public let maxShotFrames: Int
    public let minimumChunkFrames: Int
    public let maximumChunkFrames: Int
    /// Frames past a chunk's end the planner may need before it returns that chunk (see the type's comment).
    public var lookAhead: Int {
        max(1, minimumChunkFrames - 1, maxShotFrames > 0 ? maxShotFrames + minFrames : 0)
    }

    private let keyframes: [Int]
    private let minFrames: Int
    /// Indexed by absolute frame number, as `CutDetector` reads them; 0 where not measured yet.
    private var changes: [Double]
    private var measured: [Bool]
    /// Frames before this one (from `frames.start`) are measured; the plan is decided up to here.
    public private(set) var measuredPrefix: Int
    /// The next frame whose cut score is judged.
    private var scanned: Int
    private var lastCut: Int
    /// The first frame of the shot not yet final (after the last cut or split).
    private var shotStart: Int
    private var group: [FrameRange] = []
    private var chunkCount = 0
    /// A chunk that the end-of-file rule will join with the short tail after it.
    private var held: Chunk? = nil
    /// Chunks returned so far.
    public private(set) var emitted = 0

    /// `frameCount`: INPUT's frames (from the packet index); `range`: a trim's frames, nil for all of them.
    /// `keyframes`: the source keyframes, ascending.
    public init(frameCount: Int, range: FrameRange? = nil, frameRate: Rational, keyframes: [Int], settings: SceneSettings) {
        let r = range ?? FrameRange(0, frameCount)
        precondition(r.start >= 0 && r.end <= frameCount, "planned frames \(r) outside INPUT's \(frameCount)")
        frames = r
        self.settings = settings
        self.keyframes = keyframes
        maxShotFrames = settings.maxShotFrames(frameRate: frameRate)
        minFrames = max(1, settings.minSceneLength)
        minimumChunkFrames = JobPlanner.minimumChunkFrames(frameRate: frameRate)
        maximumChunkFrames = maxShotFrames > 0 ? max(maxShotFrames, minimumChunkFrames) : Int.max
        changes = [Double](repeating: 0, count: frameCount)
        measured = [Bool](repeating: false, count: frameCount)
        measuredPrefix = r.start
        scanned = r.start + 1
        lastCut = r.start
        shotStart = r.start
    }

    /// Every frame is fed and every chunk returned.
    public var isComplete: Bool { measuredPrefix == frames.end && held == nil && group.isEmpty }

    /// Takes the measured changes of frames `first ..< first + changes.count` (a segment's `changes[i]` compares
    /// frame i with frame i-1, as in a whole-file pass), and returns the chunks now final, in plan order.
    /// A frame fed twice must carry the same value (a segment redone after a takeover); frames of INPUT outside a
    /// trim's range are ignored (segments are cut at source keyframes, not at the trim), frames past INPUT refused.
    public mutating func feed<C: Collection<Double>>(changes new: C, from first: Int) throws -> [Chunk] {
        let end = first + new.count
        guard first >= 0, end <= changes.count else {
            throw EncodaError(.internalError, "measured frames [\(first), \(end)) outside INPUT's \(changes.count)")
        }
        let fed = zip(first..<end, new).filter { f, _ in f >= frames.start && f < frames.end }
        if let (f, value) = fed.first(where: { f, value in measured[f] && changes[f] != value }) {
            throw EncodaError(.internalError, "frame \(f) measured twice with different changes (\(changes[f]), \(value))")
        }
        for (f, value) in fed {
            changes[f] = value
            measured[f] = true
        }
        var prefix = measuredPrefix
        while prefix < frames.end && measured[prefix] { prefix += 1 }
        guard prefix > measuredPrefix || (prefix == frames.end && !isComplete) else { return [] }
        measuredPrefix = prefix
        return advance()
    }

    /// Decides what the measured prefix allows, in the order `CutDetector` and `ChunkPlanner` decide it.
    private mutating func advance() -> [Chunk] {
        var out: [Chunk] = []
        // Cuts: each judged on the frames up to it and the frame count alone.
        while scanned < measuredPrefix {
            let i = scanned
            scanned += 1
            let score = min(changes[i], abs(changes[i] - changes[i - 1]))
            guard score >= settings.threshold, i - lastCut >= minFrames, frames.end - i >= minFrames else { continue }
            closeShot(end: i, into: &out)
            lastCut = i
        }
        if measuredPrefix == frames.end {
            closeShot(end: frames.end, into: &out)
            finish(into: &out)
        } else if maxShotFrames > 0 {
            // The open shot ends at or after the prefix: once that is m past s + M, its split no longer depends on it.
            while measuredPrefix >= shotStart + maxShotFrames + minFrames {
                let p = CutDetector.splitPoint(start: shotStart, end: measuredPrefix, changes: changes,
                                               maxFrames: maxShotFrames, minFrames: minFrames, keyframes: keyframes)
                take(FrameRange(shotStart, p), into: &out)
                shotStart = p
            }
        }
        emitted += out.count
        return out
    }

    /// The shot from `shotStart` ends at `end` (a cut or the last frame): its remaining splits, as `CutDetector.splits`.
    private mutating func closeShot(end: Int, into out: inout [Chunk]) {
        guard end > shotStart else { return }
        if maxShotFrames > 0 {
            while end - shotStart > maxShotFrames {
                let p = CutDetector.splitPoint(start: shotStart, end: end, changes: changes, maxFrames: maxShotFrames,
                                               minFrames: minFrames, keyframes: keyframes)
                take(FrameRange(shotStart, p), into: &out)
                shotStart = p
            }
        }
        take(FrameRange(shotStart, end), into: &out)
        shotStart = end
    }

    /// One final shot into grouping, as `ChunkPlanner.plan` takes it.
    private mutating func take(_ shot: FrameRange, into out: inout [Chunk]) {
        if let first = group.first, let last = group.last {
            let length = last.end - first.start
            if length >= minimumChunkFrames || length + shot.count > maximumChunkFrames { flush(into: &out) }
        }
        group.append(shot)
        // Long enough, and a shot follows: `plan` flushes it when that shot comes, whatever its length.
        if let first = group.first, shot.end - first.start >= minimumChunkFrames, shot.end < frames.end {
            flush(into: &out)
        }
    }

    private mutating func flush(into out: inout [Chunk]) {
        guard let first = group.first, let last = group.last else { return }
        let chunk = Chunk(id: chunkCount, range: FrameRange(first.start, last.end), shotStarts: group.map(\.start))
        chunkCount += 1
        group = []
        if let earlier = held { out.append(earlier); held = nil } // never: no flush follows a held chunk
        // What follows is shorter than the minimum, so it stays one group to the end, and `plan` joins it to this
        // chunk when the two fit in the maximum.
        if frames.end - chunk.range.end < minimumChunkFrames && frames.end - chunk.range.start <= maximumChunkFrames {
            held = chunk
        } else {
            out.append(chunk)
        }
    }

    /// Every frame is planned: the tail, joined to the held chunk (`ChunkPlanner.plan`'s end-of-file rule) or alone.
    private mutating func finish(into out: inout [Chunk]) {
        if let prev = held, let last = group.last {
            out.append(Chunk(id: prev.id, range: FrameRange(prev.range.start, last.end),
                             shotStarts: prev.shotStarts + group.map(\.start)))
            held = nil
            group = []
            return
        }
        if let prev = held { out.append(prev); held = nil }
        flush(into: &out)
        if let last = held { out.append(last); held = nil } // the tail itself ends at the end: nothing follows it
    }
}

extension SceneSettings {
    /// `maxSceneSeconds` in frames at `frameRate` (0: no limit): the longest shot a plan keeps whole.
    public func maxShotFrames(frameRate: Rational) -> Int {
        maxSceneSeconds > 0 ? max(1, Int((maxSceneSeconds * frameRate.doubleValue).rounded())) : 0
    }
}
