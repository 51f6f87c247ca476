import Foundation

/// A picture in linear RGB, one plane per channel: what SSIMULACRA 2 halves between scales.
struct LinearRGB {
    var width: Int
    var height: Int
    /// R, G and B planes, `width * height` each.
    var planes: [[Float]]

    init(width: Int, height: Int, planes: [[Float]]) {
        self.width = width; self.height = height; self.planes = planes
    }

    /// Decodes the sRGB transfer curve (IEC 61966-2-1) and splits the channels.
    init(_ image: SRGBImage) {
        width = image.width
        height = image.height
        let n = width * height
        var r = [Float](repeating: 0, count: n), g = r, b = r
        image.pixels.withUnsafeBufferPointer { src in
            r.withUnsafeMutableBufferPointer { r in
                g.withUnsafeMutableBufferPointer { g in
                    b.withUnsafeMutableBufferPointer { b in
                        for i in 0..<n {
                            r[i] = LinearRGB.linear(src[3 * i])
                            g[i] = LinearRGB.linear(src[3 * i + 1])
                            b[i] = LinearRGB.linear(src[3 * i + 2])
                        }
                    }
                }
            }
        }
        planes = [r, g, b]
    }

    @inline(__always) static func linear(_ v: Float) -> Float {
        v <= 0.04045 ? v / 12.92 : powf((v + 0.055) / 1.055, 2.4)
    }

    /// Half the size (rounded up) by averaging 2×2 blocks; a block cut off by the right or bottom edge averages
    /// the pixels it has.
    func halved() -> LinearRGB {
        let w2 = (width + 1) / 2, h2 = (height + 1) / 2
        let out = planes.map { plane -> [Float] in
            var o = [Float](repeating: 0, count: w2 * h2)
            plane.withUnsafeBufferPointer { p in
                o.withUnsafeMutableBufferPointer { o in
                    for y in 0..<h2 {
                        let y0 = 2 * y, y1 = min(2 * y + 1, height - 1)
                        let rows = Float(y1 - y0 + 1)
                        for x in 0..<w2 {
                            let x0 = 2 * x, x1 = min(2 * x + 1, width - 1)
                            var s = p[y0 * width + x0]
                            if x1 != x0 { s += p[y0 * width + x1] }
                            if y1 != y0 {
                                s += p[y1 * width + x0]
                                if x1 != x0 { s += p[y1 * width + x1] }
                            }
                            o[y * w2 + x] = s / (rows * Float(x1 - x0 + 1))
                        }
                    }
                }
            }
            return o
        }
        return LinearRGB(width: w2, height: h2, planes: out)
    }

    /// The opsin absorbance matrix and bias of JPEG XL's XYB.
    private static let m: [Float] = [0.30, 0.622, 0.078,
                                     0.23, 0.692, 0.078,
                                     0.24342268924547819, 0.20476744424496821, 1 - 0.24342268924547819 - 0.20476744424496821]
    private static let bias: Float = 0.0037930732552754493
    private static let cbrtBias: Float = cbrtf(bias)

    /// XYB, shifted and scaled so that every channel is positive and of similar magnitude, as SSIMULACRA 2 uses it:
    /// X·14 + 0.42, Y + 0.01, (B − Y) + 0.55. Eight pixels at a time.
    func positiveXYB() -> [[Float]] {
        let n = width * height
        var x = [Float](repeating: 0, count: n), y = x, b = x
        let m = LinearRGB.m, bias = LinearRGB.bias, cb = LinearRGB.cbrtBias
        let (m00, m01, m02, m10, m11, m12, m20, m21, m22) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
        planes[0].withUnsafeBufferPointer { r in
            planes[1].withUnsafeBufferPointer { g in
                planes[2].withUnsafeBufferPointer { bl in
                    x.withUnsafeMutableBufferPointer { x in
                        y.withUnsafeMutableBufferPointer { y in
                            b.withUnsafeMutableBufferPointer { b in
                                var i = 0
                                while i + 8 <= n {
                                    let rr = r.loadSIMD(i), gg = g.loadSIMD(i), bb = bl.loadSIMD(i)
                                    let m0 = cubeRoot(pointwiseMax(.zero, m00 * rr + m01 * gg + m02 * bb + bias)) - cb
                                    let m1 = cubeRoot(pointwiseMax(.zero, m10 * rr + m11 * gg + m12 * bb + bias)) - cb
                                    let m2 = cubeRoot(pointwiseMax(.zero, m20 * rr + m21 * gg + m22 * bb + bias)) - cb
                                    let yy = 0.5 * (m0 + m1)
                                    x.storeSIMD(0.5 * (m0 - m1) * 14 + 0.42, i)
                                    y.storeSIMD(yy + 0.01, i)
                                    b.storeSIMD((m2 - yy) + 0.55, i)
                                    i += 8
                                }
                                while i < n {
                                    let m0 = cbrtf(max(0, m00 * r[i] + m01 * g[i] + m02 * bl[i] + bias)) - cb
                                    let m1 = cbrtf(max(0, m10 * r[i] + m11 * g[i] + m12 * bl[i] + bias)) - cb
                                    let m2 = cbrtf(max(0, m20 * r[i] + m21 * g[i] + m22 * bl[i] + bias)) - cb
                                    let yy = 0.5 * (m0 + m1)
                                    x[i] = 0.5 * (m0 - m1) * 14 + 0.42
                                    y[i] = yy + 0.01
                                    b[i] = (m2 - yy) + 0.55
                                    i += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return [x, y, b]
    }
}

/// The cube root of each lane (0 for lanes at or below 0): a first guess from the exponent bits (the float's bit
/// pattern divided by 3, plus a constant), then three Newton steps, which reach Float precision.
@inline(__always) func cubeRoot(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let x = pointwiseMax(v, SIMD8(repeating: 1e-30))
    var y = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) / 3 &+ 709_958_130, to: SIMD8<Float>.self)
    for _ in 0..<3 { y = (2 * y + x / (y * y)) * (1 / 3 as Float) }
    return y.replacing(with: SIMD8<Float>.zero, where: v .<= SIMD8<Float>.zero)
}
