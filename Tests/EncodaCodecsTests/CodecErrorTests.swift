@testable import EncodaCodecs
import EncodaModel
import XCTest

/// The overlays name what failed (`CodecError.Code`, the C function) and hand callers the message encoda has always
/// printed, as an `EncodaError`.
final class CodecErrorTests: XCTestCase {
    private func config(_ encoder: EncoderKind, preset: String, params: String) -> EncoderConfiguration {
        let video = VideoFacts(width: 64, height: 64, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 25),
                               frameRate: Rational(25, 1), sampleAspectRatio: Rational(1, 1), colorPrimaries: 2,
                               colorTransfer: 2, colorMatrix: 2, colorRange: 0, chromaLocation: 0, codecName: "none",
                               streamIndex: 0)
        let settings = EncodeSettings(encoder: encoder, preset: preset, crf: 30, lossless: false, pixelFormat: .yuv420p,
                                      encoderParams: params)
        return EncoderConfiguration(settings: settings, video: video, width: 64, height: 64, threads: 1)
    }

    private func codecError(_ body: () throws -> Void) -> CodecError? {
        do { try body() } catch let e as CodecError { return e } catch { XCTFail("not a CodecError: \(error)") }
        return nil
    }

    func testX264FailuresAreNamed() throws {
        let table: [(params: String, code: CodecError.Code, function: String, kind: EncodaError.Code, mentions: String)] = [
            ("no-such-option=1", .x264UnknownOption, "x264_param_parse", .usage, "x264 has no option named no-such-option"),
            ("bframes=many", .x264BadOptionValue, "x264_param_parse", .usage, "x264 cannot use the value many for bframes"),
            ("crop-rect=400,0,0,0", .x264OpenFailed, "x264_encoder_open", .usage, "x264 refused the configuration"),
        ]
        for row in table {
            let e = codecError { _ = try X264Encoder(config(.h264, preset: "ultrafast", params: row.params)) }
            XCTAssertEqual(e?.code, row.code, row.params)
            XCTAssertEqual(e?.function, row.function, row.params)
            XCTAssertEqual(e?.encodaError.code, row.kind, row.params)
            XCTAssertTrue(e?.encodaError.message.contains(row.mentions) == true, "\(row.params): \(e?.encodaError.message ?? "")")
        }
        let preset = codecError { _ = try X264Encoder(config(.h264, preset: "no-such-preset", params: "")) }
        XCTAssertEqual(preset?.code, .x264UnknownPreset)
    }

    func testSvtAv1FailuresAreNamed() throws {
        let unknown = codecError { _ = try SvtAv1Encoder(config(.av1, preset: "12", params: "no-such-key=3")) }
        XCTAssertEqual(unknown?.code, .svtAv1UnknownParameter)
        XCTAssertEqual(unknown?.function, "svt_av1_enc_parse_parameter")
        let refused = codecError { _ = try SvtAv1Encoder(config(.av1, preset: "12", params: "film-grain=99")) }
        XCTAssertEqual(refused?.code, .svtAv1(.badParameter))
        XCTAssertEqual(refused?.function, "svt_av1_enc_set_parameter")
        XCTAssertTrue(refused?.encodaError.message.contains("EB_ErrorBadParameter, 0x80001005") == true, refused?.encodaError.message ?? "")
    }

    /// The public surface keeps throwing `EncodaError`, which every caller (the CLI's error line, the worker's
    /// failure record) reads.
    func testTheFactoryHandsOnEncodaErrors() {
        XCTAssertThrowsError(try EncoderFactory.make(config(.h264, preset: "ultrafast", params: "no-such-option=1"))) { error in
            XCTAssertEqual((error as? EncodaError)?.code, .usage, "\(error)")
        }
    }

    func testSvtAv1StatusText() {
        XCTAssertEqual(SvtAv1Status.insufficientResources.text, "EB_ErrorInsufficientResources, 0x80001000: not enough memory or threads")
        XCTAssertEqual(SvtAv1Status.max.text, "EB_ErrorMax, 0x7fffffff: the encode failed")
        XCTAssertEqual(SvtAv1Status.unknown(0x8000_9999).text, "unknown SVT-AV1 error 0x80009999")
    }
}
