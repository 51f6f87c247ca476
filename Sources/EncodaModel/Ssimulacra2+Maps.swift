import Foundation

/// The 1-norms and 4-norms of SSIMULACRA 2's three error maps at one scale, per XYB channel: `ssim[c][0]` is the
/// mean of channel c's SSIM error map and `ssim[c][1]` its 4-norm; likewise for the edge maps.
struct ScaleErrors {
    var ssim: [[Double]] = []
    var artefact: [[Double]] = []
    var detailLost: [[Double]] = []

    /// - Parameters: a, b: the reference's and the distorted picture's positive XYB planes, `width * height` each.
    init(_ a: [[Float]], _ b: [[Float]], width: Int, height: Int, scratch: inout BlurScratch) {
        let n = width * height
        scratch.reserve(n)
        for c in 0..<3 {
            let (s, art, lost) = ScaleErrors.channel(a[c], b[c], width: width, height: height, scratch: &scratch)
            ssim.append(s); artefact.append(art); detailLost.append(lost)
        }
    }

    private static let c2: Float = 0.0009

    /// The three maps of one channel, reduced to their norms.
    private static func channel(_ a: [Float], _ b: [Float], width: Int, height: Int,
                                scratch: inout BlurScratch) -> ([Double], [Double], [Double]) {
        let n = width * height
        var mu1 = [Float](repeating: 0, count: n), mu2 = mu1, s11 = mu1, s22 = mu1, s12 = mu1
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                scratch.blur(a, into: &mu1, width: width, height: height)
                scratch.blur(b, into: &mu2, width: width, height: height)
                scratch.blurProduct(a, a, into: &s11, width: width, height: height)
                scratch.blurProduct(b, b, into: &s22, width: width, height: height)
                scratch.blurProduct(a, b, into: &s12, width: width, height: height)
            }
        }
        // Sums of d and d⁴ for the SSIM error, the artefact and the detail-lost maps, per row in Float, in Double overall.
        var sums = [Double](repeating: 0, count: 6)
        for y in 0..<height {
            var d1: Float = 0, d4: Float = 0, a1: Float = 0, a4: Float = 0, l1: Float = 0, l4: Float = 0
            for x in y * width..<(y + 1) * width {
                let m1 = mu1[x], m2 = mu2[x]
                let numM = 1 - (m1 - m2) * (m1 - m2)
                let numS = 2 * (s12[x] - m1 * m2) + c2
                let denS = (s11[x] - m1 * m1) + (s22[x] - m2 * m2) + c2
                let d = max(0, 1 - numM * numS / denS)
                d1 += d
                d4 += (d * d) * (d * d)
                let e = (1 + abs(b[x] - m2)) / (1 + abs(a[x] - m1)) - 1
                let art = max(e, 0), lost = max(-e, 0)
                a1 += art
                a4 += (art * art) * (art * art)
                l1 += lost
                l4 += (lost * lost) * (lost * lost)
            }
            for (i, v) in [d1, d4, a1, a4, l1, l4].enumerated() { sums[i] += Double(v) }
        }
        let count = Double(n)
        func norms(_ i: Int) -> [Double] { [sums[i] / count, pow(sums[i + 1] / count, 0.25)] }
        return (norms(0), norms(2), norms(4))
    }
}
