/// `--auto-grain`: from the noise measured in a chunk's pictures to SVT-AV1's film grain level.
public enum GrainLevel {
    /// Below this noise (standard deviation, in 8-bit luma steps) a picture counts as clean: no grain synthesis.
    /// Compression and the scaling of clean sources leave about 0.3–0.8 of measured noise on flat areas.
    public static let cleanBelow = 1.0
    /// Levels per step of noise: SVT-AV1's denoiser at level L removes noise of roughly L/4 steps (level 8 for
    /// light grain of σ≈2, level 20 for heavy grain of σ≈5).
    public static let levelsPerStep = 4.0

    /// Pure. The level (0 = off, 1…50) for a measured noise σ; nil (not measurable) is off.
    public static func level(noise: Double?) -> Int {
        guard let s = noise, s.isFinite, s >= cleanBelow else { return 0 }
        return min(EncodeSettings.maxFilmGrain, max(1, Int((s * levelsPerStep).rounded())))
    }

    /// Pure. The levels of one file's chunks made to agree on whether film grain is present at all: when any chunk
    /// has grain, a clean chunk gets level 1 instead of 0. SVT-AV1 writes `film_grain_params_present` into the
    /// sequence header, and an MP4 or MKV track carries one sequence header (av1C) for the whole stream, so a file
    /// whose chunks disagree would change it mid-stream, which players need not follow. Level 1 denoises almost
    /// nothing.
    public static func agreeing(_ levels: [Int]) -> [Int] {
        guard levels.contains(where: { $0 > 0 }) else { return levels }
        return levels.map { max($0, 1) }
    }
}

extension GrainLevel {
    /// Side of the square blocks the noise is measured in.
    public static let block = 16

    /// Pure. The noise σ (8-bit luma steps) of a picture, measured on its flattest areas: in each 16×16 block,
    /// Immerkær's estimator (the mean absolute response to the Laplacian-difference mask [1 −2 1; −2 4 −2; 1 −2 1],
    /// times √(π/2)/6, which is σ for Gaussian noise on a smooth area); texture and edges raise a block's figure,
    /// so the picture's is the 25th percentile over its blocks. Blocks near black or white (mean below 20 or above
    /// 235), where noise is clipped, are left out; nil when no block is left.
    public static func noise(luma: [UInt8], width: Int, height: Int) -> Double? {
        guard width >= block + 2, height >= block + 2, luma.count >= width * height else { return nil }
        var figures: [Double] = []
        var by = 1
        while by + block <= height - 1 {
            var bx = 1
            while bx + block <= width - 1 {
                var sum = 0, total = 0
                for y in by..<(by + block) {
                    let row = y * width
                    for x in bx..<(bx + block) {
                        let i = row + x
                        let a = Int(luma[i - width - 1]) - 2 * Int(luma[i - width]) + Int(luma[i - width + 1])
                        let b = -2 * Int(luma[i - 1]) + 4 * Int(luma[i]) - 2 * Int(luma[i + 1])
                        let c = Int(luma[i + width - 1]) - 2 * Int(luma[i + width]) + Int(luma[i + width + 1])
                        sum += abs(a + b + c)
                        total += Int(luma[i])
                    }
                }
                let n = Double(block * block)
                let mean = Double(total) / n
                if mean >= 20 && mean <= 235 { figures.append((Double.pi / 2).squareRoot() / 6 * Double(sum) / n) }
                bx += block
            }
            by += block
        }
        guard !figures.isEmpty else { return nil }
        figures.sort()
        return figures[(figures.count - 1) / 4]
    }
}
