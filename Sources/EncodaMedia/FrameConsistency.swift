import EncodaFFmpeg
import EncodaModel
import Foundation

/// What the scene pass checks on every decoded frame besides its pixels: that the picture keeps the first
/// frame's size and pixel format, and in which field order its interlaced frames are. Both are refused when
/// they change within INPUT, before any encode: one job has one picture size (encoda never scales a part of the
/// stream to fit the rest) and one field order (x264 codes the whole stream with one, and a container holds one).
final class FrameConsistency {
    private let input: String
    private var first: (width: Int, height: Int, format: LibavPixelFormat)?
    /// Frames flagged interlaced in each order, and the first of each (number, seconds).
    private(set) var topFirstFrames = 0
    private(set) var bottomFirstFrames = 0
    private var firstInterlaced: (number: Int, seconds: Double, topFirst: Bool)?

    init(input: String) { self.input = input }

    /// `seconds`: the frame's time from the first frame, as ffmpeg's `-ss`/`-t` count it.
    func offer(_ f: Frame, number n: Int, seconds: Double) throws {
        if let s = first {
            if f.width != s.width || f.height != s.height || f.pixelFormat != s.format {
                throw Self.pictureChangeError(input: input, frame: n, seconds: seconds, from: Self.describe(s.width, s.height, s.format),
                                              to: Self.describe(f.width, f.height, f.pixelFormat))
            }
        } else {
            first = (f.width, f.height, f.pixelFormat)
        }
        guard f.isInterlaced else { return }
        let top = f.topFieldFirst
        if top { topFirstFrames += 1 } else { bottomFirstFrames += 1 }
        guard let i = firstInterlaced else {
            firstInterlaced = (n, seconds, top)
            return
        }
        if i.topFirst != top {
            throw Self.fieldOrderError(input: input, frame: n, seconds: seconds, first: i.number, firstSeconds: i.seconds, firstTopFirst: i.topFirst)
        }
    }

    /// The refusal of a picture that changes at frame `n` (also `SegmentAssembly`'s, so both say the same).
    static func pictureChangeError(input: String, frame n: Int, seconds: Double, from: String, to: String) -> EncodaError {
        changeError(input: input, frame: n, seconds: seconds, what: "its picture changes from \(from) to \(to)",
                    why: "encoda encodes one picture size and pixel format per job and never scales a part of the stream to fit")
    }

    /// The refusal of frame `n`, interlaced in the other order than frame `first`, the first interlaced one.
    static func fieldOrderError(input: String, frame n: Int, seconds: Double, first: Int, firstSeconds: Double, firstTopFirst: Bool) -> EncodaError {
        let order = { (t: Bool) in t ? "top field first" : "bottom field first" }
        return changeError(input: input, frame: n, seconds: seconds,
                           what: "it mixes field orders: frame \(first) (\(Self.time(firstSeconds))) is interlaced \(order(firstTopFirst)), frame \(n) \(order(!firstTopFirst))",
                           why: "encoda encodes one field order per job")
    }

    /// The job's interlacing (see `Interlacing.decide`), once every frame was offered.
    func interlacing(containerFieldOrder: StreamParameters.FieldOrder) -> Interlacing? {
        Interlacing.decide(tffFrames: topFirstFrames, bffFrames: bottomFirstFrames, containerTopFirst: Self.containerTopFirst(containerFieldOrder))
    }

    /// The container's field order as `Interlacing.decide` takes it: nil when it says progressive or nothing.
    static func containerTopFirst(_ order: StreamParameters.FieldOrder) -> Bool? {
        switch order {
        // libavformat's TB/BT ("coded first" differs from "displayed first") is what ffmpeg itself writes for
        // interlaced pictures coded as frames, top field first as TB: the field coded first is the earlier one.
        case .topFirst, .topCodedBottomShown: return true
        case .bottomFirst, .bottomCodedTopShown: return false
        default: return nil
        }
    }

    private static func changeError(input: String, frame n: Int, seconds: Double, what: String, why: String) -> EncodaError {
        let t = String(format: "%.3f", seconds)
        let ext = (input as NSString).pathExtension.isEmpty ? "" : "." + (input as NSString).pathExtension
        return EncodaError(.inputUnsupported,
            "INPUT \(input) changes at frame \(n) (\(Self.time(seconds))): \(what); \(why). Split it there and encode each part: ffmpeg -i \(input) -t \(t) -c copy part1\(ext) and ffmpeg -i \(input) -ss \(t) -c copy part2\(ext)")
    }

    static func describe(_ w: Int, _ h: Int, _ format: LibavPixelFormat) -> String {
        "\(w)x\(h) \(format)"
    }

    static func time(_ seconds: Double) -> String { String(format: "%.3f s", seconds) }
}

extension Interlacing {
    /// The line a normal run prints about an interlaced INPUT: how `encoder` codes it and what OUTPUT's
    /// container (`format`) keeps of its field order.
    public func note(encoder: EncoderKind, format: OutputFormat) -> String {
        let what = "INPUT is interlaced (\(orderName))"
        let ext = "." + format.fileExtension
        if encoder == .h264 {
            return "\(what); x264 encodes it interlaced (MBAFF), with the field order in the H.264 stream" +
                (format.muxer == "matroska" ? " and in the \(ext)" : "")
        }
        let kept: String
        switch format.muxer {
        // libavformat writes Matroska's FieldOrder and MP4's `fiel` box from the stream's field order.
        case "matroska", "mp4": kept = "the field order is kept in the \(ext)"
        case "webm": kept = "the \(ext) marks it interlaced but WebM has no field order element; use .mkv to keep it"
        default: kept = "a \(ext) file cannot hold the field order, so players take it for progressive; use .mkv to keep it"
        }
        return "\(what); SVT-AV1 encodes it as progressive frames of woven fields; \(kept)"
    }
}
