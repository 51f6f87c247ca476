import EncodaModel
import Foundation
import XCTest

/// Which pixel format a job encodes in, what --lossless keeps or refuses, and the lines that announce conversions.
final class PixelFormatTests: XCTestCase {
    private func layout(_ name: String, _ chroma: ChromaSampling?, _ depth: Int, rgb: Bool = false, alpha: Bool = false) -> PixelLayout {
        PixelLayout(name: name, chroma: chroma, bitDepth: depth, isRGB: rgb, hasAlpha: alpha)
    }

    func testLosslessKeepsWhatX264CanCodeWithoutAWord() throws {
        let kept: [(PixelLayout, PixelFormat)] = [
            (layout("yuv422p10le", .c422, 10), .yuv422p10le),
            (layout("yuv444p", .c444, 8), .yuv444p),
            (layout("yuvj422p", .c422, 8), .yuv422p),
            (layout("yuv420p10le", .c420, 10), .yuv420p10le),
            (layout("rgb24", .c444, 8, rgb: true), .gbrp),
            (layout("gbrp10le", .c444, 10, rgb: true), .gbrp10le),
        ]
        for (source, format) in kept {
            let c = try PixelFormatChoice.make(source: source, encoder: .h264, lossless: true, requested: nil)
            XCTAssertEqual(c.format, format, source.name)
            XCTAssertEqual(c.conversions, [], source.name)
        }
    }

    func testLosslessRefusesWhatItCannotKeepAndNamesThePixFmtToConvertTo() {
        let refused: [(PixelLayout, String)] = [
            (layout("yuv422p12le", .c422, 12), "--pix-fmt yuv422p10le"),
            (layout("yuva420p", .c420, 8, alpha: true), "--pix-fmt yuv420p"),
            (layout("yuva444p10le", .c444, 10, alpha: true), "--pix-fmt yuv444p10le"),
            (layout("yuv411p", ChromaSampling(shiftX: 2, shiftY: 0), 8), "--pix-fmt yuv422p"),
            (layout("gray", nil, 8), "--pix-fmt yuv420p"),
            (layout("rgba", .c444, 8, rgb: true, alpha: true), "--pix-fmt gbrp"),
            (layout("rgb48le", .c444, 16, rgb: true), "--pix-fmt gbrp10le"),
        ]
        for (source, fix) in refused {
            XCTAssertThrowsError(try PixelFormatChoice.make(source: source, encoder: .h264, lossless: true, requested: nil), source.name) {
                let e = $0 as? EncodaError
                XCTAssertEqual(e?.exitStatus, 65, source.name)
                XCTAssertTrue(e?.message.contains("INPUT is \(source.summary) (\(source.name))") == true, e?.message ?? "")
                XCTAssertTrue(e?.message.contains(fix) == true, "\(source.name): \(e?.message ?? "")")
                XCTAssertFalse(e?.message.contains("\n") ?? true)
            }
        }
        // With --pix-fmt the same sources are accepted, and each conversion is one line.
        let c = try? PixelFormatChoice.make(source: layout("yuva444p12le", .c444, 12, alpha: true), encoder: .h264, lossless: true,
                                            requested: .yuv422p10le)
        XCTAssertEqual(c?.format, .yuv422p10le)
        XCTAssertEqual(c?.conversions, [
            "INPUT is 4:4:4 12-bit with alpha (yuva444p12le); --pix-fmt yuv422p10le asks for 4:2:2, so the chroma is subsampled to yuv422p10le",
            "INPUT is 4:4:4 12-bit with alpha (yuva444p12le); --pix-fmt yuv422p10le asks for 10 bits, so the samples are rounded to 10 bits (yuv422p10le)",
            "INPUT is 4:4:4 12-bit with alpha (yuva444p12le); x264 encodes no alpha, so the alpha channel is dropped",
        ])
    }

    func testWithoutLosslessTheDefaultIs420AtTheSourcesDepthAndEveryConversionIsSaid() throws {
        let av1 = try PixelFormatChoice.make(source: layout("yuv422p10le", .c422, 10), encoder: .av1, lossless: false, requested: nil)
        XCTAssertEqual(av1.format, .yuv420p10le)
        XCTAssertEqual(av1.conversions, ["INPUT is 4:2:2 10-bit (yuv422p10le); SVT-AV1 encodes 4:2:0, so the chroma is subsampled to yuv420p10le"])

        let x264 = try PixelFormatChoice.make(source: layout("yuv444p12le", .c444, 12), encoder: .h264, lossless: false, requested: nil)
        XCTAssertEqual(x264.format, .yuv420p10le)
        XCTAssertEqual(x264.conversions.count, 2, "\(x264.conversions)")
        XCTAssertTrue(x264.conversions[0].contains("--pix-fmt yuv444p10le keeps 4:4:4"), x264.conversions[0])

        let rgb = try PixelFormatChoice.make(source: layout("rgb24", .c444, 8, rgb: true), encoder: .h264, lossless: false, requested: nil,
                                             outputHeight: 240)
        XCTAssertEqual(rgb.format, .yuv420p)
        XCTAssertEqual(rgb.conversions.count, 1)
        XCTAssertTrue(rgb.conversions[0].contains("converted to YUV (yuv420p, BT.601 matrix, limited range)"), rgb.conversions[0])

        let plain = try PixelFormatChoice.make(source: layout("yuv420p", .c420, 8), encoder: .av1, lossless: false, requested: nil)
        XCTAssertEqual(plain.format, .yuv420p)
        XCTAssertEqual(plain.conversions, [])
    }

    /// SVT-AV1 takes 4:2:0 YUV only; x264 every format.
    func testAV1RefusesOtherFormatsThan420() {
        for f in PixelFormat.allCases {
            let s = EncodeSettings(encoder: .av1, preset: "8", crf: 35, lossless: false, pixelFormat: f, encoderParams: "")
            if f == .yuv420p || f == .yuv420p10le { XCTAssertNoThrow(try s.validate()) } else {
                XCTAssertThrowsError(try s.validate(), f.rawValue) { XCTAssertEqual(($0 as? EncodaError)?.exitStatus, 64) }
            }
            XCTAssertNoThrow(try EncodeSettings(encoder: .h264, preset: "medium", crf: 23, lossless: false, pixelFormat: f, encoderParams: "").validate())
        }
        XCTAssertEqual(PixelFormat(argument: "rgb24"), .gbrp)
        XCTAssertNil(PixelFormat(argument: "yuv420p12le"))
    }

    /// job.json keeps the pixel format as libav's name, as it always did.
    func testSettingsKeepThePixelFormatAsItsNameInJSON() throws {
        let s = EncodeSettings(encoder: .h264, preset: "medium", crf: 0, lossless: true, pixelFormat: .yuv422p10le, encoderParams: "")
        let json = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
        XCTAssertTrue(json.contains(#""pixelFormat":"yuv422p10le""#), json)
        let old = #"{"encoder":"av1","preset":"8","crf":35,"lossless":false,"pixelFormat":"yuv420p10le","encoderParams":""}"#
        XCTAssertEqual(try JSONDecoder().decode(EncodeSettings.self, from: Data(old.utf8)).pixelFormat, .yuv420p10le)
    }
}
