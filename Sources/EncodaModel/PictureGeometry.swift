/// A rectangle of the source picture, in luma samples: `width`x`height` whose top-left corner is at (`x`, `y`).
/// Written `W:H:X:Y` on the command line (the order ffmpeg's crop filter uses).
public struct CropRect: Codable, Sendable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var x: Int
    public var y: Int

    public init(width: Int, height: Int, x: Int, y: Int) {
        self.width = width; self.height = height; self.x = x; self.y = y
    }

    public var description: String { "\(width):\(height):\(x):\(y)" }
    public var right: Int { x + width }
    public var bottom: Int { y + height }

    /// Parses `W:H:X:Y`; nil when the text is not four non-negative integers.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0.trimmingSpaces) }
        guard parts.count == 4, let w = parts[0], let h = parts[1], let x = parts[2], let y = parts[3],
              w >= 0, h >= 0, x >= 0, y >= 0 else { return nil }
        self.init(width: w, height: h, x: x, y: y)
    }

    /// True when this rectangle is the whole `width`x`height` picture.
    public func isFullFrame(width w: Int, height h: Int) -> Bool { x == 0 && y == 0 && width == w && height == h }

    /// The smallest rectangle holding both.
    public func union(_ o: CropRect) -> CropRect {
        let l = min(x, o.x), t = min(y, o.y), r = max(right, o.right), b = max(bottom, o.bottom)
        return CropRect(width: r - l, height: b - t, x: l, y: t)
    }

    /// Checks that the rectangle lies inside a `sourceWidth`x`sourceHeight` picture and that 4:2:0 encoders can
    /// take it (every edge on an even sample). The message names the fix.
    public func validate(sourceWidth: Int, sourceHeight: Int, minimum: Int) throws {
        let what = "--crop \(description) (W:H:X:Y)"
        guard width > 0, height > 0 else {
            throw EncodaError(.usage, "\(what) has an empty picture; width and height must be positive")
        }
        guard right <= sourceWidth, bottom <= sourceHeight else {
            throw EncodaError(.usage, "\(what) reaches to \(right)x\(bottom), outside INPUT's \(sourceWidth)x\(sourceHeight) picture; X+W must be at most \(sourceWidth) and Y+H at most \(sourceHeight)")
        }
        guard width % 2 == 0, height % 2 == 0, x % 2 == 0, y % 2 == 0 else {
            throw EncodaError(.usage, "\(what) has an odd value; 4:2:0 video needs even W, H, X and Y (e.g. --crop \(width & ~1):\(height & ~1):\((x + 1) & ~1):\((y + 1) & ~1))")
        }
        guard width >= minimum, height >= minimum else {
            throw EncodaError(.usage, "\(what) is smaller than the encoder's minimum of \(minimum)x\(minimum)")
        }
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// What the scene pass saw of the picture's borders: for sampled frames, the rectangle outside of which every
/// row and column is black. Stored in the scene cache; the crop decision is recomputed from it on use.
public struct CropAnalysis: Codable, Sendable, Hashable {
    /// Source picture size the samples refer to.
    public var width: Int
    public var height: Int
    /// Frame numbers that were measured.
    public var frames: [Int]
    /// The non-black area of each measured frame (nil: the whole frame was black).
    public var areas: [CropRect?]

    public init(width: Int, height: Int, frames: [Int], areas: [CropRect?]) {
        self.width = width; self.height = height; self.frames = frames; self.areas = areas
    }
}

/// The result of `--autocrop`: a crop, or why none was taken.
public struct CropDecision: Sendable, Hashable {
    /// nil when the picture is not cropped.
    public var crop: CropRect?
    /// One line for `--dry-run` and the log.
    public var explanation: String
}

/// Pure crop detection over the scene pass's samples.
///
/// A crop is taken only when one rectangle dominates: the union of all non-black areas (so no sampled frame
/// loses picture) must also be, within a small tolerance, the area of at least `dominance` of the non-black
/// samples. A film whose aspect ratio changes, bars that come and go, or subtitles burned into the bars
/// make the union larger than what most frames show, so nothing is cropped. Dark scenes show less than the
/// picture area; they neither confirm nor veto.
public enum CropDetector {
    public static let dominance = 0.6
    public static let minimumSamples = 5

    public static func decide(_ a: CropAnalysis) -> CropDecision {
        let seen = a.areas.compactMap { $0 }
        guard seen.count >= minimumSamples else {
            return CropDecision(crop: nil, explanation: "no crop: only \(seen.count) of \(a.areas.count) sampled frames show a picture")
        }
        let union = seen.dropFirst().reduce(seen[0]) { $0.union($1) }
        let tolX = max(2, a.width / 200), tolY = max(2, a.height / 200)
        let matching = seen.filter {
            abs($0.x - union.x) <= tolX && abs($0.right - union.right) <= tolX &&
            abs($0.y - union.y) <= tolY && abs($0.bottom - union.bottom) <= tolY
        }.count
        let share = Double(matching) / Double(seen.count)
        let pct = Int((share * 100).rounded())
        // Even edges for 4:2:0, moving inward so no black line stays.
        let left = (union.x + 1) & ~1, top = (union.y + 1) & ~1
        let right = union.right & ~1, bottom = union.bottom & ~1
        let legal = CropRect(width: max(0, right - left), height: max(0, bottom - top), x: left, y: top)
        if legal.isFullFrame(width: a.width, height: a.height) || (union.isFullFrame(width: a.width, height: a.height)) {
            return CropDecision(crop: nil, explanation: "no crop: the picture fills the frame (\(matching) of \(seen.count) samples reach every edge)")
        }
        guard share >= dominance else {
            return CropDecision(crop: nil, explanation: "no crop: the picture area changes (only \(pct)% of \(seen.count) samples fill \(union); bars come and go or the aspect ratio changes)")
        }
        guard legal.width >= a.width / 4, legal.height >= a.height / 4, legal.width >= 16, legal.height >= 16 else {
            return CropDecision(crop: nil, explanation: "no crop: the detected area \(union) is implausibly small")
        }
        return CropDecision(crop: legal, explanation: "crop \(legal) (W:H:X:Y) detected: \(pct)% of \(seen.count) samples show exactly this area")
    }
}

/// The picture the encoders get: the source after crop and scale, with the sample aspect ratio that keeps the
/// display aspect of the cropped area.
public struct OutputPicture: Codable, Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var sampleAspectRatio: Rational
    /// nil when the whole source picture is used.
    public var crop: CropRect?
    public var scaled: Bool
    /// Clockwise quarter turn (0, 90, 180, 270) applied to the pixels last; `width`x`height` is the turned size.
    public var rotation: Int = 0

    /// Applies `settings`' crop and scale to `source`. Throws a usage error for an impossible request, and for a
    /// `--scale` above the (cropped) picture's height: encoda never upscales.
    public static func make(source: VideoFacts, settings: EncodeSettings) throws -> OutputPicture {
        let minimum = settings.encoder == .av1 ? 64 : 16
        var w = source.width, h = source.height
        var crop: CropRect? = nil
        if let c = settings.crop, !c.isFullFrame(width: source.width, height: source.height) {
            try c.validate(sourceWidth: source.width, sourceHeight: source.height, minimum: minimum)
            crop = c
            w = c.width; h = c.height
        }
        var sar = source.sampleAspectRatio
        // A quarter turn of the pixels (`pixelRotation`) swaps the picture's sides and its sample aspect; --scale
        // then means the height as shown. The crop stays in the stored picture, where the scene pass measures it.
        let turn = settings.pixelRotation ?? 0
        if turn == 90 || turn == 270 { swap(&w, &h); sar = Rational(sar.den, sar.num) }
        guard let target = settings.scaleHeight, target != h else {
            return OutputPicture(width: w, height: h, sampleAspectRatio: sar, crop: crop, scaled: false, rotation: turn)
        }
        guard target % 2 == 0, target >= minimum, target <= 8704 else {
            throw EncodaError(.usage, "--scale \(target) is not a usable height; give an even number of lines from \(minimum) to 8704, e.g. --scale 720")
        }
        // Upscaling adds no picture, only size, and a delivery that was upscaled by accident is hard to spot
        // later; encoda scales down only. (Upscale in a finishing tool, on purpose, where the scaler is chosen.)
        guard target < h else {
            let picture = crop.map { "the \(h) lines of the cropped picture (--crop/--autocrop \($0))" } ?? "INPUT's \(h) lines"
            throw EncodaError(.usage, "--scale \(target) is larger than \(picture); encoda does not upscale: give --scale \(h) or less, or leave --scale out")
        }
        // Keep the display aspect: width follows the height, rounded to even; SAR absorbs the rounding.
        var sw = Int((Double(w) * Double(target) / Double(h)).rounded())
        sw = max(2, (sw + 1) & ~1)
        guard sw >= minimum, sw <= 16384 else {
            throw EncodaError(.usage, "--scale \(target) would make the picture \(sw) wide, outside \(minimum)…16384")
        }
        let num = Int64(sar.num) * Int64(w) * Int64(target)
        let den = Int64(sar.den) * Int64(sw) * Int64(h)
        sar = Rational.reduced(num, den)
        return OutputPicture(width: sw, height: target, sampleAspectRatio: sar, crop: crop, scaled: true, rotation: turn)
    }

    public var summary: String {
        var parts: [String] = []
        if let crop { parts.append("crop \(crop) (W:H:X:Y)") }
        if scaled { parts.append("scaled") }
        if rotation != 0 { parts.append("pixels rotated \(rotation)°") }
        return "\(width)x\(height) SAR \(sampleAspectRatio)" + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }
}

extension Rational {
    /// num/den reduced by their greatest common divisor, brought into 32-bit range (containers store SAR so).
    public static func reduced(_ num: Int64, _ den: Int64) -> Rational {
        func gcd(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? Swift.max(a, 1) : gcd(b, a % b) }
        var n = num, d = den
        let g = gcd(abs(n), abs(d))
        n /= g; d /= g
        while n > Int64(Int32.max) || d > Int64(Int32.max) { n = (n + 1) / 2; d = (d + 1) / 2 }
        return Rational(Int(n), Int(d))
    }
}
