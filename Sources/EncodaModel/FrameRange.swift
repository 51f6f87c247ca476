/// A half-open range of frame numbers in presentation order: `start` is the first frame, `end` is one past the last.
public struct FrameRange: Codable, Sendable, Hashable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(_ start: Int, _ end: Int) {
        precondition(start <= end, "FrameRange start \(start) after end \(end)")
        self.start = start
        self.end = end
    }

    public var count: Int { end - start }
    public func contains(_ frame: Int) -> Bool { frame >= start && frame < end }
    public var description: String { "[\(start), \(end))" }
}

/// A rational number, as libav uses for time bases, frame rates and aspect ratios.
public struct Rational: Codable, Sendable, Hashable, CustomStringConvertible {
    public var num: Int
    public var den: Int
    public init(_ num: Int, _ den: Int) { self.num = num; self.den = den }
    public var doubleValue: Double { den == 0 ? 0 : Double(num) / Double(den) }
    public var isValid: Bool { num > 0 && den > 0 }
    public var description: String { "\(num)/\(den)" }
}
