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
        // Sums of d and d⁴ for the SSIM error, the artefact and the detail-lost maps: eight samples at a time, in
        // Float within a row, in Double overall.
        var sums = [Double](repeating: 0, count: 6)
        let c2 = ScaleErrors.c2
        mu1.withUnsafeBufferPointer { mu1 in mu2.withUnsafeBufferPointer { mu2 in
        s11.withUnsafeBufferPointer { s11 in s22.withUnsafeBufferPointer { s22 in s12.withUnsafeBufferPointer { s12 in
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
            for y in 0..<height {
                var v = [SIMD8<Float>](repeating: .zero, count: 6)
                var x = y * width
                let end = x + width
                while x + 8 <= end {
                    let m1 = mu1.loadSIMD(x), m2 = mu2.loadSIMD(x)
                    let numM = 1 - (m1 - m2) * (m1 - m2)
                    let numS = 2 * (s12.loadSIMD(x) - m1 * m2) + c2
                    let denS = (s11.loadSIMD(x) - m1 * m1) + (s22.loadSIMD(x) - m2 * m2) + c2
                    let d = pointwiseMax(.zero, 1 - numM * numS / denS)
                    let e = (1 + magnitude(b.loadSIMD(x) - m2)) / (1 + magnitude(a.loadSIMD(x) - m1)) - 1
                    let art = pointwiseMax(e, .zero), lost = pointwiseMax(-e, .zero)
                    v[0] += d; v[1] += (d * d) * (d * d)
                    v[2] += art; v[3] += (art * art) * (art * art)
                    v[4] += lost; v[5] += (lost * lost) * (lost * lost)
                    x += 8
                }
                var r = v.map { $0.sum() }
                while x < end {
                    let m1 = mu1[x], m2 = mu2[x]
                    let numM = 1 - (m1 - m2) * (m1 - m2)
                    let numS = 2 * (s12[x] - m1 * m2) + c2
                    let denS = (s11[x] - m1 * m1) + (s22[x] - m2 * m2) + c2
                    let d = max(0, 1 - numM * numS / denS)
                    let e = (1 + abs(b[x] - m2)) / (1 + abs(a[x] - m1)) - 1
                    let art = max(e, 0), lost = max(-e, 0)
                    r[0] += d; r[1] += (d * d) * (d * d)
                    r[2] += art; r[3] += (art * art) * (art * art)
                    r[4] += lost; r[5] += (lost * lost) * (lost * lost)
                    x += 1
                }
                for i in 0..<6 { sums[i] += Double(r[i]) }
            }
        } }
        } } }
        } }
        let count = Double(n)
        func norms(_ i: Int) -> [Double] { [sums[i] / count, pow(sums[i + 1] / count, 0.25)] }
        return (norms(0), norms(2), norms(4))
    }
}

/// |v| for each lane (the sign bit cleared).
@inline(__always) private func magnitude(_ v: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: SIMD8<Float>.self)
}
