import EncodaFFmpeg
import EncodaModel
import Foundation

/// Opens INPUT and describes its video stream, rejecting inputs that cannot be encoded with a clear message.
enum InputProbe {
    /// An image sequence (a pattern or a folder, see `ImageSequence`) plays at `frameRate`, or at the rate its
    /// images carry, or at 24 fps; other inputs ignore `frameRate`.
    static func open(_ path: String, frameRate: Rational? = nil) throws -> (Demuxer, VideoFacts) {
        let demuxer: Demuxer
        var sequenceRate: Rational? = nil
        if let seq = try ImageSequence.resolve(path) {
            try seq.checkContiguous()
            let rate = frameRate ?? ImageSequenceSource.frameRate(seq, requested: nil).rate
            demuxer = try ImageSequenceSource.open(seq, rate: rate)
            sequenceRate = rate
        } else {
            demuxer = try Demuxer.input(path)
        }
        guard let vi = demuxer.videoStreamIndex() else {
            if demuxer.hasAudio() {
                throw EncodaError(.inputUnsupported, "INPUT \(path) has audio but no video stream; encoda encodes video, give a file with a video track")
            }
            throw EncodaError(.inputUnsupported, "INPUT \(path) has no video stream; give a video file")
        }
        let par = demuxer.parameters(of: vi)
        var bitDepth = 8
        var fmtName = "unknown"
        if let desc = par.pixelFormat.descriptor {
            bitDepth = desc.depth
            fmtName = desc.name
        }
        var rate = par.averageFrameRate
        // A raw stream has no container frame rate: its average rate is measured on timestamps libav made up.
        // Its own (r_frame_rate: the bitstream's timing information, else libav's default) is the one it was made
        // from; `rawStreamNote` says which was assumed.
        if rate.num <= 0 || rate.den <= 0 || demuxer.isRawElementaryStream { rate = par.realFrameRate }
        if rate.num <= 0 || rate.den <= 0 { rate = LibavRational(25, 1) }
        if let r = sequenceRate { rate = LibavRational(Int(Int32(r.num)), Int(Int32(r.den))) }
        var sar = par.sampleAspectRatio
        if sar.num <= 0 || sar.den <= 0 { sar = par.codecSampleAspectRatio }
        if sar.num <= 0 || sar.den <= 0 { sar = LibavRational(1, 1) }
        var facts = VideoFacts(
            width: par.width, height: par.height, pixelFormat: fmtName, bitDepth: bitDepth,
            timeBase: par.timeBase.rational, frameRate: rate.rational, sampleAspectRatio: sar.rational,
            colorPrimaries: par.colorPrimaries, colorTransfer: par.colorTransfer,
            colorMatrix: par.colorMatrix, colorRange: par.colorRange,
            chromaLocation: par.chromaLocation,
            codecName: par.codecName, streamIndex: vi)
        SourceMetadataIO.readStream(of: demuxer, stream: vi, into: &facts)
        guard facts.width > 0, facts.height > 0 else {
            throw EncodaError(.inputUnsupported, "INPUT \(path) has a video stream without a picture size; the file may be damaged")
        }
        return (demuxer, facts)
    }

    /// For a raw elementary stream, the line that says which frame rate was assumed and how to give another; nil
    /// for files in a container.
    static func rawStreamNote(_ demuxer: Demuxer, facts: VideoFacts) -> String? {
        guard demuxer.isRawElementaryStream else { return nil }
        let r = facts.frameRate
        let fps = r.den == 1 ? "\(r.num)" : String(format: "%.3f", r.doubleValue)
        return "INPUT is a raw \(facts.codecName) stream without container timing: assuming \(fps) fps, the stream's own rate (r_frame_rate); if that is wrong, put it in a container at the right rate first: ffmpeg -framerate RATE -i \(shellQuoted(demuxer.path)) -c copy \(shellQuoted(remuxedPath(demuxer.path)))"
    }

    /// The path the remux commands in messages suggest: INPUT with a .mkv extension.
    static func remuxedPath(_ path: String) -> String {
        ((path as NSString).deletingPathExtension) + ".mkv"
    }

    /// `s` as one shell word (single quotes when it holds anything but plain path characters).
    static func shellQuoted(_ s: String) -> String {
        let plain = s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "/._-+,=:@".unicodeScalars.contains($0) }
        return plain && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Checks that frames of this size can be encoded as 4:2:0.
    static func checkEncodable(_ facts: VideoFacts, encoder: EncoderKind) throws {
        if facts.width % 2 != 0 || facts.height % 2 != 0 {
            throw EncodaError(.inputUnsupported,
                "INPUT is \(facts.width)x\(facts.height); 4:2:0 encoding needs an even width and height. Crop or scale it to \(facts.width & ~1)x\(facts.height & ~1) first (e.g. ffmpeg -vf crop=\(facts.width & ~1):\(facts.height & ~1):0:0)")
        }
        if encoder == .av1 && (facts.width < 64 || facts.height < 64) {
            throw EncodaError(.inputUnsupported, "INPUT is \(facts.width)x\(facts.height); SVT-AV1 needs at least 64x64. Use --encoder h264 or scale it up")
        }
        if facts.width > 16384 || facts.height > 8704 {
            throw EncodaError(.inputUnsupported, "INPUT is \(facts.width)x\(facts.height), larger than the encoders accept (16384x8704)")
        }
    }

    /// The container's frame count, else one estimated from the stream or file duration; 0 when unknown.
    static func estimatedFrameCount(_ demuxer: Demuxer, facts: VideoFacts) -> Int {
        let promised = promisedFrameCount(demuxer, stream: facts.streamIndex)
        if promised > 0 { return promised }
        let duration = demuxer.parameters(of: facts.streamIndex).duration
        var seconds = 0.0
        if duration > 0 && duration != noPTS {
            seconds = Double(duration) * facts.timeBase.doubleValue
        } else if demuxer.duration > 0 {
            seconds = Double(demuxer.duration) / Double(Demuxer.durationTimeBase)
        }
        return seconds > 0 ? Int(seconds * facts.frameRate.doubleValue) : 0
    }

    /// Frame count the container promises, or 0 when unknown.
    /// An image sequence promises one frame per image (image2 gives that count as the stream's duration).
    static func promisedFrameCount(_ demuxer: Demuxer, stream: Int) -> Int {
        if isImageSequence(demuxer) { return Int(max(0, demuxer.parameters(of: stream).duration)) }
        return Int(demuxer.parameters(of: stream).frameCount)
    }

    static func isImageSequence(_ demuxer: Demuxer) -> Bool {
        demuxer.formatName == "image2"
    }
}
