import EncodaFFmpeg
import EncodaModel
import Foundation

/// Per-frame scores of one file measured against another, as `encoda score` reports them.
public struct FileScore: Sendable {
    /// Index of each scored frame in presentation order (0, K, 2K, … with `every` K).
    public var frames: [Int]
    /// The score of each frame in `frames`.
    public var scores: [Double]
    /// Frames in both files.
    public var frameCount: Int
    public var width: Int
    public var height: Int
}

/// Decodes a distorted file and its reference in presentation order, pairs their frames one to one and scores the
/// pairs with `FramePairScorer`.
public enum FileScorer {
    /// - Parameters:
    ///   - every: score every K-th frame (frames 0, K, 2K, …); the others are decoded, and skipped unless the
    ///     metric needs them (VMAF's motion feature: `FramePairScorer.wants`).
    ///   - vmafFFmpeg: the ffmpeg with libvmaf (`VmafFFmpeg.locate`), for `.vmaf`.
    /// Throws an input error when a file is missing or has no video, when the frame counts differ (naming both) and
    /// when the picture sizes differ.
    public static func score(distorted: String, reference: String, metric: QualityMetric, every: Int = 1,
                             vmafFFmpeg: String?) throws -> FileScore {
        precondition(every >= 1)
        let dist = try reader(distorted, role: "DIST")
        let ref = try reader(reference, role: "REF")
        try sameLength(distorted, reference)
        let scorer = try FramePairScorer(metric: metric, vmafFFmpeg: vmafFFmpeg, every: every)
        var frames: [Int] = []
        var n = 0
        var size = (0, 0)
        while true {
            let hasDist = try dist.next(), hasRef = try ref.next()
            if !hasDist || !hasRef {
                if hasDist || hasRef {
                    // One ended first: count the rest of the other so the message names both lengths.
                    let longer = hasDist ? dist : ref
                    var more = 1
                    while try longer.next() { more += 1 }
                    let (d, r) = hasDist ? (n + more, n) : (n, n + more)
                    throw EncodaError(.inputUnsupported, "DIST has \(d) frames and REF has \(r); score needs the same frames in both (cut REF to DIST's range first)")
                }
                break
            }
            if n == 0 {
                size = (dist.frame.width, dist.frame.height)
                guard size == (ref.frame.width, ref.frame.height) else {
                    throw EncodaError(.inputUnsupported, "DIST is \(size.0)x\(size.1) and REF is \(ref.frame.width)x\(ref.frame.height); score compares pictures of the same size (scale REF to DIST's size first, e.g. ffmpeg -vf scale=\(size.0):\(size.1))")
                }
            }
            if scorer.wants(n) { try scorer.add(reference: ref.frame, distorted: dist.frame) }
            if n % every == 0 { frames.append(n) }
            n += 1
        }
        guard n > 0 else { throw EncodaError(.inputDamaged, "DIST \(distorted) has no frames to score") }
        return FileScore(frames: frames, scores: try scorer.finish(), frameCount: n, width: size.0, height: size.1)
    }

    /// Refuses files of different lengths before any scoring. Counting packets (no decoding) settles it almost
    /// always; only when those counts differ (a field-coded stream has two packets per frame) are both files decoded
    /// to count frames.
    private static func sameLength(_ distorted: String, _ reference: String) throws {
        let packets = try [distorted, reference].map { try count($0, decode: false) }
        guard packets[0] != packets[1] else { return }
        let frames = try [distorted, reference].map { try count($0, decode: true) }
        guard frames[0] == frames[1] else {
            throw EncodaError(.inputUnsupported, "DIST has \(frames[0]) frames and REF has \(frames[1]); score needs the same frames in both (cut REF to DIST's range first)")
        }
    }

    /// Packets of the video stream that make a frame (edit-list hidden ones left out), or decoded frames.
    private static func count(_ path: String, decode: Bool) throws -> Int {
        let r = try reader(path, role: "")
        var n = 0
        if decode {
            while try r.next() { n += 1 }
            return n
        }
        let packet = Packet()
        while try r.demuxer.readInput(into: packet) {
            if packet.streamIndex == r.streamIndex && !packet.isDiscarded { n += 1 }
        }
        return n
    }

    private static func reader(_ path: String, role: String) throws -> FrameReader {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EncodaError(.inputUnreadable, "\(role) \(path) does not exist; check the path")
        }
        let demuxer: Demuxer
        do { demuxer = try Demuxer.input(path) } catch let e as EncodaError {
            throw EncodaError(e.code, e.message.replacingOccurrences(of: "INPUT", with: role), cause: e.cause)
        }
        guard let stream = demuxer.videoStreamIndex() else {
            throw EncodaError(.inputUnsupported, "\(role) \(path) has no video stream to score")
        }
        return try FrameReader(demuxer: demuxer, streamIndex: stream, threads: 0, frameStep: 1)
    }
}
