/// Which encoder library encodes the chunks.
public enum EncoderKind: String, Codable, Sendable, CaseIterable {
    case av1
    case h264
    public var codecName: String { self == .av1 ? "av1" : "h264" }
}

/// Everything that decides the bits of an encoded chunk. Two runs with equal settings may share results.
public struct EncodeSettings: Codable, Sendable, Hashable {
    public var encoder: EncoderKind
    /// SVT-AV1 preset number (-1…13) or x264 preset name.
    public var preset: String
    public var crf: Double
    public var lossless: Bool
    /// The pixel format of the encoded pictures (in job.json as libav's name, e.g. "yuv420p").
    public var pixelFormat: PixelFormat
    /// Passed to the encoder: SVT `key=value` pairs separated by ':' or spaces; an x264 option string `k=v:k=v`.
    public var encoderParams: String
    /// Source area to encode (nil: the whole picture). Absent in manifests written before cropping existed.
    public var crop: CropRect?
    /// Output height after cropping, width following the aspect ratio (nil: no scaling).
    public var scaleHeight: Int?
    /// Clockwise quarter turn (90, 180, 270) applied to the pixels, for a rotated source going into a container
    /// that cannot carry its rotation (see `Orientation.decide`); nil: stored as decoded.
    public var pixelRotation: Int? = nil
    /// Rate control and film grain (see RateControl.swift); all absent in plans made before they existed.
    /// `--bitrate`, bits/s: VBR (SVT-AV1) or ABR (x264) at this average instead of constant quality at `crf`.
    public var bitRate: Int? = nil
    /// `--two-pass` (with --bitrate): each chunk is encoded in passes, x264's two or SVT-AV1's three (see RateCorrection).
    public var twoPass: Bool? = nil
    /// `--max-bitrate` and `--bufsize`, bits/s and bits: x264's VBV.
    public var maxBitRate: Int? = nil
    public var bufferSize: Int? = nil
    /// `--film-grain N` (SVT-AV1, 1…50; nil or 0: off).
    public var filmGrain: Int? = nil
    /// `--auto-grain`: a level per chunk, measured while planning and kept in the chunk (`Chunk.filmGrain`).
    public var autoGrain: Bool? = nil
    /// `--target-quality`: each chunk's CRF is searched for (`crf` is then unused); nil: every chunk at `crf`.
    public var quality: QualityTarget? = nil

    public init(encoder: EncoderKind, preset: String, crf: Double, lossless: Bool, pixelFormat: PixelFormat, encoderParams: String,
                crop: CropRect? = nil, scaleHeight: Int? = nil) {
        self.encoder = encoder; self.preset = preset; self.crf = crf; self.lossless = lossless
        self.pixelFormat = pixelFormat; self.encoderParams = encoderParams
        self.crop = crop; self.scaleHeight = scaleHeight
    }

    public var bitDepth: Int { pixelFormat.bitDepth }

    public static func defaultPreset(for encoder: EncoderKind) -> String { encoder == .av1 ? "8" : "medium" }
    public static func defaultCRF(for encoder: EncoderKind) -> Double { encoder == .av1 ? 35 : 23 }
    public static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]

    /// --crf as the user would write it: 30, not 30.0.
    private var crfText: String { crf.isFinite && crf == crf.rounded() && abs(crf) < 1e9 ? String(Int(crf)) : String(crf) }

    /// Checks the combination; throws a usage error naming the fix.
    public func validate() throws {
        switch encoder {
        case .av1:
            guard let p = Int(preset), (-1...13).contains(p) else {
                throw EncodaError(.usage, "--preset \(preset) is not an SVT-AV1 preset; use a number from 0 (slowest) to 13 (fastest)")
            }
            // First: --lossless stands for crf 0, which is out of range for av1, and the user gave no --crf.
            if lossless { throw EncodaError(.usage, "--lossless needs --encoder h264; SVT-AV1 has no lossless mode") }
            guard (1...63).contains(crf) else { throw EncodaError(.usage, "--crf \(crfText) is out of range for av1; use 1…63") }
        case .h264:
            guard Self.x264Presets.contains(preset) else {
                throw EncodaError(.usage, "--preset \(preset) is not an x264 preset; use one of \(Self.x264Presets.joined(separator: ", "))")
            }
            guard (0...51).contains(crf) else { throw EncodaError(.usage, "--crf \(crfText) is out of range for h264; use 0…51") }
        }
        if let q = quality {
            if lossless { throw EncodaError(.usage, "--lossless and --target-quality exclude each other: lossless has no quality to aim for") }
            try q.validate(encoder: encoder, preset: preset)
        }
        guard pixelFormat.isEncodable(by: encoder) else {
            throw EncodaError(.usage, "--pix-fmt \(pixelFormat): SVT-AV1 1.4.1 encodes only 4:2:0 YUV; use yuv420p or yuv420p10le, or --encoder h264 for 4:2:2, 4:4:4 and RGB")
        }
        try validateRateControl()
    }
}

/// Library versions that decide the bits; a worker with different ones refuses the job.
public struct EncoderVersions: Codable, Sendable, Hashable {
    public var encoda: String
    public var svtav1: String
    public var x264: String
    public var libavcodec: String
    public init(encoda: String, svtav1: String, x264: String, libavcodec: String) {
        self.encoda = encoda; self.svtav1 = svtav1; self.x264 = x264; self.libavcodec = libavcodec
    }
}

public enum EncodaVersion {
    public static let current = "0.2.0"
}
