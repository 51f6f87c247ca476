import EncodaModel
import XCTest

/// --bitrate's text, the sharing of bits between chunks, the rate and grain checks, and --auto-grain's levels.
final class RateControlTests: XCTestCase {
    func testBitRatesAreReadInTheirThreeSpellings() {
        let table: [(String, Int?)] = [
            ("2500k", 2_500_000), ("2.5M", 2_500_000), ("2500000", 2_500_000), ("2500K", 2_500_000), ("2.5m", 2_500_000),
            ("800k", 800_000), ("10k", 10_000), ("2000M", 2_000_000_000),
            ("9k", nil), ("2001M", nil), ("0", nil), ("-5M", nil), ("fast", nil), ("", nil), ("k", nil), ("1e6", nil),
            ("2.5 M", nil), ("nan", nil), ("2,5M", nil),
        ]
        for (text, bits) in table { XCTAssertEqual(BitRateText.parse(text), bits, text) }
        XCTAssertEqual(BitRateText.format(2_500_000), "2500k")
    }

    func testBitsAreSharedByComplexityAndAddUpToTheTarget() {
        // (frames, complexities, target) → rates
        let table: [([Int], [Double]?, Int, [Int])] = [
            ([50, 50], [1, 1], 1_000_000, [1_000_000, 1_000_000]),          // equal: every chunk at the target
            ([50, 50], nil, 1_000_000, [1_000_000, 1_000_000]),             // nothing known (old scene cache)
            ([50, 50], [0, 0], 1_000_000, [1_000_000, 1_000_000]),
            ([50, 50], [1, 3], 1_000_000, [500_000, 1_500_000]),            // in proportion
            ([100, 50], [1, 4], 600_000, [300_000, 1_200_000]),
            ([50, 50], [1, 1000], 1_000_000, [250_000, 1_750_000]),         // the floor of a quarter holds
        ]
        for (frames, cx, target, expected) in table {
            let rates = BitAllocation.rates(frames: frames, complexities: cx, target: target)
            XCTAssertEqual(rates.count, expected.count)
            for (r, e) in zip(rates, expected) { XCTAssertEqual(Double(r), Double(e), accuracy: Double(e) * 0.001, "\(frames) \(String(describing: cx))") }
        }
        // Whatever the spread, the frame-weighted mean is the target and every rate stays within 1/4…4 times it.
        let frames = [12, 48, 30, 7, 90, 25]
        let rates = BitAllocation.rates(frames: frames, complexities: [1, 50, 3, 0.01, 9, 200], target: 800_000)
        let mean = Double(zip(frames, rates).reduce(0) { $0 + $1.0 * $1.1 }) / Double(frames.reduce(0, +))
        XCTAssertEqual(mean, 800_000, accuracy: 800)
        XCTAssertTrue(rates.allSatisfy { $0 >= 200_000 && $0 <= 3_200_000 }, "\(rates)")
    }

    func testComplexityIsTheMeanSourcePacketLeavingOutKeyframes() {
        let chunks = [Chunk(id: 0, range: FrameRange(0, 4), shotStarts: [0]), Chunk(id: 1, range: FrameRange(4, 6), shotStarts: [4]),
                      Chunk(id: 2, range: FrameRange(6, 7), shotStarts: [6])]
        // Frame 0 and 6 are keyframes: 0's big packet does not count; chunk 2 holds only a keyframe, so it does.
        let sizes: [Int32] = [9000, 100, 200, 300, 1000, 3000, 5000]
        XCTAssertEqual(BitAllocation.complexities(chunks, packetSizes: sizes, keyframes: [0, 6]), [200, 2000, 5000])
        XCTAssertNil(BitAllocation.complexities(chunks, packetSizes: nil, keyframes: [0]))
        XCTAssertNil(BitAllocation.complexities(chunks, packetSizes: [1, 2], keyframes: [0]))
    }

    func testRateAndGrainCombinationsAreCheckedWithOneLineEach() {
        func settings(_ encoder: EncoderKind, _ change: (inout EncodeSettings) -> Void) -> EncodeSettings {
            var s = EncodeSettings(encoder: encoder, preset: EncodeSettings.defaultPreset(for: encoder), crf: EncodeSettings.defaultCRF(for: encoder),
                                   lossless: false, pixelFormat: .yuv420p, encoderParams: "")
            change(&s)
            return s
        }
        let refused: [(EncodeSettings, String)] = [
            (settings(.h264) { $0.bitRate = 1_000_000; $0.lossless = true; $0.crf = 0 }, "--bitrate and --lossless"),
            (settings(.h264) { $0.twoPass = true }, "--two-pass needs --bitrate"),
            (settings(.h264) { $0.maxBitRate = 2_000_000 }, "--max-bitrate needs --bufsize"),
            (settings(.h264) { $0.bufferSize = 2_000_000 }, "--bufsize needs --max-bitrate"),
            (settings(.h264) { $0.bitRate = 3_000_000; $0.maxBitRate = 2_000_000; $0.bufferSize = 4_000_000 }, "is below --bitrate"),
            (settings(.av1) { $0.maxBitRate = 2_000_000; $0.bufferSize = 4_000_000 }, "SVT-AV1 1.4.1 has no VBV"),
            (settings(.h264) { $0.filmGrain = 8 }, "--film-grain needs --encoder av1"),
            (settings(.av1) { $0.filmGrain = 51 }, "--film-grain 51 is out of range"),
            (settings(.h264) { $0.autoGrain = true }, "--auto-grain needs --encoder av1"),
            (settings(.av1) { $0.autoGrain = true; $0.filmGrain = 8 }, "not both"),
        ]
        for (s, message) in refused {
            XCTAssertThrowsError(try s.validate(), message) { e in
                let error = e as? EncodaError
                XCTAssertEqual(error?.code, .usage)
                XCTAssertTrue(error?.message.contains(message) == true, "\(error?.message ?? "") lacks \(message)")
                XCTAssertFalse(error?.message.contains("\n") == true)
            }
        }
        let accepted = [settings(.h264) { $0.bitRate = 1_000_000; $0.twoPass = true; $0.maxBitRate = 2_000_000; $0.bufferSize = 4_000_000 },
                        settings(.h264) { $0.maxBitRate = 2_000_000; $0.bufferSize = 4_000_000 }, // capped CRF
                        settings(.av1) { $0.bitRate = 500_000; $0.filmGrain = 50 }, settings(.av1) { $0.autoGrain = true },
                        settings(.av1) { $0.bitRate = 500_000; $0.twoPass = true }]
        for s in accepted { XCTAssertNoThrow(try s.validate()) }
    }

    func testGrainLevelsFollowTheMeasuredNoise() {
        let table: [(Double?, Int)] = [(nil, 0), (0, 0), (0.9, 0), (1.0, 4), (2, 8), (5, 20), (12.4, 50), (40, 50), (.nan, 0)]
        for (noise, level) in table { XCTAssertEqual(GrainLevel.level(noise: noise), level, "\(String(describing: noise))") }
    }

    func testChunkLevelsAgreeOnWhetherGrainIsPresent() {
        XCTAssertEqual(GrainLevel.agreeing([0, 8, 0, 20]), [1, 8, 1, 20])
        XCTAssertEqual(GrainLevel.agreeing([0, 0]), [0, 0])
        XCTAssertEqual(GrainLevel.agreeing([]), [])
    }

    func testNoiseIsMeasuredOnFlatAreasAndNotOnEdges() {
        let (w, h) = (160, 96)
        // A deterministic Gaussian noise source (Box–Muller on a fixed LCG).
        var state: UInt64 = 42
        func uniform() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        func gaussian() -> Double { (-2 * log(max(uniform(), 1e-12))).squareRoot() * cos(2 * .pi * uniform()) }
        // Clean: flat grey with hard-edged bars in a quarter of it. Noisy: the same plus noise of σ 4.
        let clean = (0..<(w * h)).map { i -> UInt8 in (i % w) < w / 4 && (i % w) % 8 < 4 ? 200 : 110 }
        let noisy = clean.map { UInt8(max(0, min(255, (Double($0) + 4 * gaussian()).rounded()))) }
        XCTAssertEqual(GrainLevel.noise(luma: clean, width: w, height: h) ?? -1, 0, accuracy: 0.01)
        XCTAssertEqual(GrainLevel.noise(luma: noisy, width: w, height: h) ?? -1, 4, accuracy: 0.6)
        XCTAssertNil(GrainLevel.noise(luma: [UInt8](repeating: 0, count: w * h), width: w, height: h), "black: no block to measure")
    }
}
