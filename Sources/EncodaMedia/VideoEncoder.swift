import EncodaModel

/// One compressed frame as an encoder returned it. `pts`/`dts` count frames from the chunk's first frame
/// (dts may be negative for reordered streams).
struct EncodedPacket {
    var data: UnsafeRawBufferPointer
    var pts: Int64
    var dts: Int64
    var isKey: Bool
}

/// The planes of one 4:2:0 picture in the encoder's pixel format, borrowed for the duration of a call.
struct PictureRef {
    var planes: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    /// Line sizes in bytes.
    var strides: (Int, Int, Int)
    var width: Int
    var height: Int
}

/// What a chunk encode needs from an encoder library.
protocol VideoEncoder: AnyObject {
    /// Codec configuration for containers (AV1 sequence header OBU / H.264 SPS+PPS in Annex B).
    var extradata: [UInt8] { get }
    /// Encodes one picture. `forceKeyframe` makes it a keyframe (a shot start inside the chunk).
    /// Calls `output` for every packet that became ready.
    func encode(_ picture: PictureRef, pts: Int64, forceKeyframe: Bool, output: (EncodedPacket) throws -> Void) throws
    /// Drains every delayed packet.
    func finish(output: (EncodedPacket) throws -> Void) throws
}

/// Everything an encoder is configured from.
struct EncoderConfiguration {
    var settings: EncodeSettings
    var video: VideoFacts
    var width: Int
    var height: Int
    var threads: Int
}

enum EncoderFactory {
    static func make(_ config: EncoderConfiguration) throws -> VideoEncoder {
        switch config.settings.encoder {
        case .av1: return try SvtAv1Encoder(config)
        case .h264: return try X264Encoder(config)
        }
    }
}

/// Splits "key=value" pairs separated by ':' or whitespace (SVT-AV1 and x264 option strings).
func parseKeyValuePairs(_ text: String) throws -> [(String, String)] {
    var out: [(String, String)] = []
    for item in text.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\n" }) {
        let s = String(item)
        if s.isEmpty { continue }
        let parts = s.split(separator: "=", maxSplits: 1).map(String.init)
        var key = parts[0]
        while key.hasPrefix("-") { key.removeFirst() }
        guard !key.isEmpty else { throw EncodaError(.usage, "--encoder-params item '\(s)' has no name; write key=value") }
        out.append((key, parts.count > 1 ? parts[1] : "1"))
    }
    return out
}
