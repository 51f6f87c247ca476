import CFFmpeg
import EncodaModel

/// The colour of the pictures the encoder receives, and how the output is tagged.
///
/// Pictures already in the encoder's 4:2:0 format go to it untouched and keep the source's colour description.
/// Anything else is converted by libswscale (`PictureConverter`), whose defaults turn RGB into BT.601
/// limited-range YUV and full-range YUV into limited range; the output used to carry the source's tags
/// regardless, so an RGB source came out tagged with the identity ("RGB") matrix, which players show in false
/// colours, and full-range 4:2:2 came out tagged full range with limited-range pixels. The conversion is now
/// pinned down and the tags follow it:
/// - RGB sources are converted with BT.709 coefficients (BT.601 / SMPTE 170M at 576 lines or fewer) into
///   limited range, and tagged so; primaries and transfer stay as the source has them.
/// - YUV sources keep their matrix (YUV to YUV does not touch it) and their range: full stays full.
/// - RGB output (`gbrp`, `gbrp10le`) is tagged with the identity ("GBR") matrix, full range, which is what its
///   pixels are: an RGB source goes in unchanged, a YUV source is converted with its own matrix and range.
struct ColourConversion: Sendable {
    let sourceMatrix: Int
    let sourceFullRange: Bool
    /// AVColorSpace of the encoder's pictures.
    let matrix: Int
    /// AVColorRange of the encoder's pictures: 0 unspecified, 1 limited, 2 full.
    let range: Int
    /// The source's facts as the encoder's pictures have them: the output picture's size and aspect, this colour.
    let encoded: VideoFacts

    /// The (deprecated) JPEG pixel formats: YUV whose range is full by definition, whatever the stream's tag says.
    static let fullRangeYUVFormats = [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P,
                                      AV_PIX_FMT_YUVJ411P]

    /// - Parameter target: the encoder's pixel format.
    init(source: VideoFacts, picture: OutputPicture, target: PixelFormat) {
        let format = av_get_pix_fmt(source.pixelFormat)
        let flags = av_pix_fmt_desc_get(format)?.pointee.flags ?? 0
        sourceFullRange = ColourConversion.fullRangeYUVFormats.contains(format) || source.colorRange == Int(AVCOL_RANGE_JPEG.rawValue)
        sourceMatrix = source.colorMatrix
        if target.isRGB {
            matrix = Int(AVCOL_SPC_RGB.rawValue)
            range = Int(AVCOL_RANGE_JPEG.rawValue)
        } else if flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0 {
            matrix = Int(picture.height > 576 ? AVCOL_SPC_BT709.rawValue : AVCOL_SPC_SMPTE170M.rawValue)
            range = Int(AVCOL_RANGE_MPEG.rawValue)
        } else {
            matrix = source.colorMatrix
            range = sourceFullRange ? Int(AVCOL_RANGE_JPEG.rawValue) : source.colorRange
        }
        var v = source
        v.width = picture.width; v.height = picture.height; v.sampleAspectRatio = picture.sampleAspectRatio
        v.colorMatrix = matrix
        v.colorRange = range
        encoded = v
    }

    /// Sets libswscale's matrices and ranges for this conversion on `context`.
    /// The corresponding C function is `sws_setColorspaceDetails`.
    func configure(_ context: OpaquePointer) {
        let inverse = sws_getCoefficients(Int32(sourceMatrix))
        let table = sws_getCoefficients(Int32(matrix))
        _ = sws_setColorspaceDetails(context, inverse, sourceFullRange ? 1 : 0, table,
                                     range == Int(AVCOL_RANGE_JPEG.rawValue) ? 1 : 0, 0, 1 << 16, 1 << 16)
    }
}
