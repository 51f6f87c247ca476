import Foundation

/// A picture as SSIMULACRA 2 reads it: gamma-encoded sRGB, one Float per sample in 0...1, interleaved R, G, B,
/// row after row without padding (`pixels.count == width * height * 3`).
public struct SRGBImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height * 3, "SRGBImage: \(pixels.count) samples for \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// SSIMULACRA 2, the perceptual full-reference metric of the JPEG XL project: 100 for identical pictures, about 90
/// and above visually lossless, 70 high quality, 50 medium, 30 low; heavily distorted pictures go negative.
///
/// The algorithm as published (libjxl's tools/ssimulacra2): both pictures go to linear RGB and then to the
/// positive XYB colour space; at each of 6 scales (halved in linear RGB between scales, while both sides are at
/// least 8 pixels) every XYB channel is blurred with a Gaussian of sigma 1.5 to get local means, variances and
/// covariance, giving an SSIM error map (without the luminance term) and two edge maps — artefacts the distorted
/// picture adds (ringing, blocking) and detail it loses (blur). The mean (1-norm) and the 4-norm of each of the 3
/// maps × 3 channels × 6 scales are weighted by the published 108 weights and mapped to a score by the published
/// polynomial. The blur is the separable Gaussian the `ssimulacra2` package on PyPI uses (radius 5, zeros beyond
/// the top and bottom, mirrored at the sides), which encoda is validated against; libjxl's recursive Gaussian
/// approximates the same kernel.
public enum Ssimulacra2 {
    /// The score of `distorted` against `reference`, which must have the same size.
    public static func score(reference: SRGBImage, distorted: SRGBImage) -> Double {
        precondition(reference.width == distorted.width && reference.height == distorted.height,
                     "Ssimulacra2: pictures of different sizes")
        var ref = LinearRGB(reference)
        var dist = LinearRGB(distorted)
        var scales: [ScaleErrors] = []
        var scratch = BlurScratch()
        for scale in 0..<scaleCount {
            if ref.width < 8 || ref.height < 8 { break }
            let a = ref.positiveXYB()
            let b = dist.positiveXYB()
            scales.append(ScaleErrors(a, b, width: ref.width, height: ref.height, scratch: &scratch))
            if scale < scaleCount - 1 {
                ref = ref.halved()
                dist = dist.halved()
            }
        }
        return finalScore(scales)
    }

    static let scaleCount = 6

    /// Weights of the 108 error norms, in the order channel (X, Y, B) → scale → norm (1, 4) → map (SSIM,
    /// artefact, detail lost), as published with the metric.
    static let weights: [Double] = [
        0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0, 0.0, 0.0004371155730107379, 0.0,
        1.1041726426657346, 0.00066284834129271, 0.00015231632783718752, 0.0, 0.0016406437456599754, 0.0,
        1.8422455520539298, 11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653, 0.0,
        1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833, 0.0,
        0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053, 0.0004550992113792063, 0.0, 0.0,
        0.0013648766163243398, 0.0, 0.0, 0.0, 0.0, 0.0, 7.466890328078848, 0.0, 17.445833984131262,
        0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296, 1.027889937768264,
        225.20515300849274, 0.0, 0.0, 19.213238186143016, 0.0011401524586618361, 0.001237755635509985,
        176.39317598450694, 0.0, 0.0, 24.43300999870476, 0.28520802612117757, 0.0004485436923833408, 0.0, 0.0, 0.0,
        34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0008680556573291698, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0005313191874358747, 0.0, 0.00016533814161379112, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0004179171803251336, 0.0017290828234722833, 0.0, 0.0020827005846636437, 0.0, 0.0, 8.826982764996862,
        23.19243343998926, 0.0, 95.1080498811086, 0.9863978034400682, 0.9834382792465353, 0.0012286405048278493,
        171.2667255897307, 0.9807858872435379, 0.0, 0.0, 0.0, 0.0005130064588990679, 0.0, 0.00010854057858411537,
    ]

    /// The weighted sum of the error norms, mapped to the score by the published cubic and power law.
    static func finalScore(_ scales: [ScaleErrors]) -> Double {
        var sum = 0.0
        var i = 0
        for c in 0..<3 {
            for s in scales {
                for n in 0..<2 {
                    sum += weights[i] * abs(s.ssim[c][n])
                    sum += weights[i + 1] * abs(s.artefact[c][n])
                    sum += weights[i + 2] * abs(s.detailLost[c][n])
                    i += 3
                }
            }
        }
        var x = sum * 0.9562382616834844
        x = 2.326765642916932 * x - 0.020884521182843837 * x * x + 6.248496625763138e-05 * x * x * x
        return x > 0 ? 100 - 10 * pow(x, 0.6276336467831387) : 100
    }
}
