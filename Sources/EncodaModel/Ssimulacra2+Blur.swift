import Foundation

/// The Gaussian blur of SSIMULACRA 2 (sigma 1.5, radius 5), separable, eight samples at a time with SIMD: zeros
/// beyond the left and right columns and mirrored rows beyond the top and bottom (edge row repeated), as the
/// reference implementation on PyPI blurs (it pads with zeros along the first axis of its pictures, which its XYB
/// conversion stores transposed, and mirrors along the other). Holds the buffers it reuses from one blur to the next.
struct BlurScratch {
    static let radius = 5
    /// Taps 0...radius of the normalised kernel (it is symmetric).
    static let taps: [Float] = {
        let w = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (1.5 * 1.5)) }
        let sum = w.reduce(0, +)
        return (0...radius).map { Float(w[radius + $0] / sum) }
    }()

    private var rows: [Float] = []
    private var product: [Float] = []
    private var padded: [Float] = []

    mutating func reserve(_ count: Int) {
        if rows.count < count { rows = [Float](repeating: 0, count: count); product = rows }
    }

    /// Blurs `a * b` (sample by sample) into `out`.
    mutating func blurProduct(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, into out: inout [Float],
                              width: Int, height: Int) {
        let n = width * height
        reserve(n)
        var p = product
        product = []
        p.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i + 8 <= n {
                let v = a.loadSIMD(i) * b.loadSIMD(i)
                p.storeSIMD(v, i)
                i += 8
            }
            while i < n { p[i] = a[i] * b[i]; i += 1 }
        }
        p.withUnsafeBufferPointer { blur($0, into: &out, width: width, height: height) }
        product = p
    }

    /// Blurs `src` (`width * height`, row after row) into `out`.
    mutating func blur(_ src: UnsafeBufferPointer<Float>, into out: inout [Float], width: Int, height: Int) {
        let r = BlurScratch.radius
        reserve(width * height)
        if padded.count < width + 2 * r + 8 { padded = [Float](repeating: 0, count: width + 2 * r + 8) }
        let k = BlurScratch.taps
        let k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5]
        // Horizontal: each row copied into `padded` between zeros, then filtered into `rows`.
        rows.withUnsafeMutableBufferPointer { rows in
            padded.withUnsafeMutableBufferPointer { pad in
                for y in 0..<height {
                    let row = y * width
                    for x in 0..<width { pad[r + x] = src[row + x] }
                    for j in 1...r { pad[r - j] = 0; pad[r + width - 1 + j] = 0 }
                    var x = 0
                    while x + 8 <= width {
                        var v = k0 * pad.loadSIMD(x + 5)
                        v += k1 * (pad.loadSIMD(x + 4) + pad.loadSIMD(x + 6))
                        v += k2 * (pad.loadSIMD(x + 3) + pad.loadSIMD(x + 7))
                        v += k3 * (pad.loadSIMD(x + 2) + pad.loadSIMD(x + 8))
                        v += k4 * (pad.loadSIMD(x + 1) + pad.loadSIMD(x + 9))
                        v += k5 * (pad.loadSIMD(x) + pad.loadSIMD(x + 10))
                        rows.storeSIMD(v, row + x)
                        x += 8
                    }
                    while x < width {
                        var s = k0 * pad[x + 5]
                        for j in 1...r { s += k[j] * (pad[x + 5 - j] + pad[x + 5 + j]) }
                        rows[row + x] = s
                        x += 1
                    }
                }
            }
            // Vertical: rows beyond the picture mirror the rows inside it (height is at least 8, above the radius).
            out.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    let source = (y - r...y + r).map { yy in yy < 0 ? -yy - 1 : yy >= height ? 2 * height - 1 - yy : yy }
                    var x = 0
                    while x + 8 <= width {
                        var v = SIMD8<Float>(repeating: 0)
                        for (j, yy) in source.enumerated() { v += k[abs(j - r)] * UnsafeBufferPointer(rows).loadSIMD(yy * width + x) }
                        out.storeSIMD(v, y * width + x)
                        x += 8
                    }
                    while x < width {
                        var s: Float = 0
                        for (j, yy) in source.enumerated() { s += k[abs(j - r)] * rows[yy * width + x] }
                        out[y * width + x] = s
                        x += 1
                    }
                }
            }
        }
    }
}

extension UnsafeBufferPointer where Element == Float {
    @inline(__always) func loadSIMD(_ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    @inline(__always) func loadSIMD(_ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) func storeSIMD(_ v: SIMD8<Float>, _ i: Int) {
        UnsafeMutableRawPointer(baseAddress! + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
