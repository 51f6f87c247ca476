/// Which pixel format the chunks are encoded in, and every way that differs from INPUT's, one line each.
///
/// - `--pix-fmt` decides when given (SVT-AV1 takes only 4:2:0, see `EncodeSettings.validate`).
/// - `--lossless` keeps INPUT's chroma, bit depth and RGB-ness, which x264 can for 4:2:0, 4:2:2 and 4:4:4 YUV and
///   planar RGB at 8 and 10 bits. What it cannot keep (other bit depths, alpha, other chroma samplings,
///   greyscale) is refused unless `--pix-fmt` says what to convert to: a lossless encode of something else is
///   not lossless.
/// - Otherwise: 4:2:0 YUV at INPUT's bit depth (8, or 10 for anything deeper), what players take everywhere and
///   what encoda always made; `--pix-fmt` asks for 4:2:2 or 4:4:4 from x264.
public struct PixelFormatChoice: Sendable, Hashable {
    public var format: PixelFormat
    /// One line per conversion (RGB/YUV, chroma, bit depth, alpha), for `Diagnostics.note` and the plan.
    public var conversions: [String]

    /// - Parameter outputHeight: the encoded picture's height, which picks the matrix an RGB source is
    ///   converted with (see `ColourConversion`); nil when not known.
    public static func make(source: PixelLayout, encoder: EncoderKind, lossless: Bool, requested: PixelFormat?,
                            outputHeight: Int? = nil) throws -> PixelFormatChoice {
        let keep = nearest(source)
        let format: PixelFormat
        if let requested {
            format = requested
        } else if lossless {
            if !isKeptExactly(source) {
                throw EncodaError(.inputUnsupported, "INPUT is \(source.summary) (\(source.name)); \(whyNotKept(source)), so --lossless cannot keep it; add --pix-fmt \(keep) to encode it converted to \(keep) (lossless from there on)")
            }
            format = keep
        } else {
            format = PixelFormat.with(chroma: .c420, bitDepth: keep.bitDepth, rgb: false)!
        }
        return PixelFormatChoice(format: format, conversions: conversions(source: source, format: format, encoder: encoder,
                                                                          requested: requested != nil, outputHeight: outputHeight))
    }

    /// The encodable format closest to `source`: its chroma (or the nearest that holds every sample), 8 bits up
    /// to 8, else 10, RGB for RGB.
    public static func nearest(_ source: PixelLayout) -> PixelFormat {
        let chroma = source.isRGB ? .c444 : source.chroma?.nearestEncodable ?? .c420
        return PixelFormat.with(chroma: chroma, bitDepth: source.bitDepth > 8 ? 10 : 8, rgb: source.isRGB)!
    }

    /// Whether x264 can encode `source`'s samples as they are (a rearrangement such as packed RGB into planes is fine).
    public static func isKeptExactly(_ s: PixelLayout) -> Bool {
        guard !s.hasAlpha, s.bitDepth == 8 || s.bitDepth == 10, let c = s.chroma else { return false }
        return s.isRGB || c == .c420 || c == .c422 || c == .c444
    }

    private static func whyNotKept(_ s: PixelLayout) -> String {
        var reasons: [String] = []
        if s.hasAlpha { reasons.append("x264 encodes no alpha") }
        if s.bitDepth != 8 && s.bitDepth != 10 { reasons.append("x264 encodes 8 or 10 bits") }
        if s.chroma == nil { reasons.append("encoda encodes greyscale as YUV") }
        else if !s.isRGB, let c = s.chroma, c != .c420, c != .c422, c != .c444 { reasons.append("x264 encodes 4:2:0, 4:2:2 or 4:4:4, not \(c)") }
        return reasons.joined(separator: " and ")
    }

    private static func conversions(source s: PixelLayout, format f: PixelFormat, encoder: EncoderKind, requested: Bool,
                                    outputHeight: Int?) -> [String] {
        let who = encoder == .av1 ? "SVT-AV1" : "x264"
        let input = "INPUT is \(s.summary) (\(s.name))"
        var lines: [String] = []
        // RGB ↔ YUV; greyscale.
        if s.isRGB && !f.isRGB {
            let matrix = outputHeight.map { $0 > 576 ? "BT.709 matrix" : "BT.601 matrix" } ?? "BT.709 matrix above 576 lines, else BT.601"
            let why = requested ? "--pix-fmt \(f) asks for YUV" : encoder == .av1 ? "SVT-AV1 encodes YUV" : "without --lossless, H.264 is encoded as 4:2:0 YUV (--pix-fmt \(nearest(s)) keeps RGB)"
            lines.append("\(input); \(why), so it is converted to YUV (\(f), \(matrix), limited range)")
        } else if !s.isRGB && f.isRGB {
            lines.append("\(input); --pix-fmt \(f) asks for RGB, so it is converted to RGB")
        } else if s.chroma == nil {
            lines.append("\(input); it is encoded as \(f) with neutral chroma")
        }
        // Chroma, when both sides are YUV.
        if !s.isRGB && !f.isRGB, let c = s.chroma, c != f.chroma {
            let fewer = c.shiftX + c.shiftY < f.chroma.shiftX + f.chroma.shiftY
            let why = requested ? "--pix-fmt \(f) asks for \(f.chroma)"
                : encoder == .av1 ? "SVT-AV1 encodes 4:2:0"
                : "without --lossless, H.264 is encoded as 4:2:0 (--pix-fmt \(nearest(s)) keeps \(c.nearestEncodable))"
            lines.append("\(input); \(why), so the chroma is \(fewer ? "subsampled" : "upsampled") to \(f)")
        }
        // Bit depth.
        if s.bitDepth != f.bitDepth {
            let why = requested ? "--pix-fmt \(f) asks for \(f.bitDepth) bits" : "\(who) encodes 8 or 10 bits"
            let how = s.bitDepth > f.bitDepth ? "the samples are rounded to \(f.bitDepth) bits" : "the samples are widened to \(f.bitDepth) bits"
            lines.append("\(input); \(why), so \(how) (\(f))")
        }
        if s.hasAlpha {
            lines.append("\(input); \(who) encodes no alpha, so the alpha channel is dropped")
        }
        return lines
    }
}
