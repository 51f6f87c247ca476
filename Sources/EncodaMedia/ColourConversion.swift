import EncodaFFmpeg
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
    static let fullRangeYUVFormats: [LibavPixelFormat] = [.yuvj420p, .yuvj422p, .yuvj444p, .yuvj440p, .yuvj411p]

    /// - Parameter target: the encoder's pixel format.
    init(source: VideoFacts, picture: OutputPicture, target: PixelFormat) {
        let format = LibavPixelFormat(name: source.pixelFormat) ?? .none
        let isRGB = format.descriptor?.isRGB ?? false
        sourceFullRange = ColourConversion.fullRangeYUVFormats.contains(format) || source.colorRange == Self.fullRange
        sourceMatrix = source.colorMatrix
        if target.isRGB {
            matrix = Self.rgbMatrix
            range = Self.fullRange
        } else if isRGB {
            matrix = picture.height > 576 ? Self.bt709 : Self.smpte170m
            range = Self.limitedRange
        } else {
            matrix = source.colorMatrix
            range = sourceFullRange ? Self.fullRange : source.colorRange
        }
        var v = source
        v.width = picture.width; v.height = picture.height; v.sampleAspectRatio = picture.sampleAspectRatio
        v.colorMatrix = matrix
        v.colorRange = range
        encoded = v
    }

    /// libswscale's matrices and ranges for this conversion (`sws_setColorspaceDetails`).
    var scalerColour: ScalerColour {
        ScalerColour(sourceMatrix: Int32(sourceMatrix), sourceFullRange: sourceFullRange, matrix: Int32(matrix),
                     fullRange: range == Self.fullRange)
    }

    // AVColorSpace and AVColorRange numbers (ISO/IEC 23091-4 code points for the matrices).
    static let rgbMatrix = 0, bt709 = 1, smpte170m = 6
    static let limitedRange = 1, fullRange = 2
}
