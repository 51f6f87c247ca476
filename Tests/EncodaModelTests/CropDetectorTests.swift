import EncodaModel
import XCTest

/// The pure crop decision over scene-pass samples.
final class CropDetectorTests: XCTestCase {
    private let picture = CropRect(width: 1920, height: 800, x: 0, y: 140)
    private let full = CropRect(width: 1920, height: 1080, x: 0, y: 0)

    private func analysis(_ areas: [CropRect?]) -> CropAnalysis {
        CropAnalysis(width: 1920, height: 1080, frames: Array(areas.indices), areas: areas)
    }

    func testLetterboxWithDarkScenesAndBlackFramesIsCropped() {
        let dark = CropRect(width: 1500, height: 500, x: 200, y: 300) // a dark scene shows less than the picture
        let d = CropDetector.decide(analysis(Array(repeating: picture, count: 80) + Array(repeating: dark, count: 30) + Array(repeating: nil, count: 10)))
        XCTAssertEqual(d.crop, picture)
    }

    func testBarsThatComeAndGoAreNotCropped() {
        let d = CropDetector.decide(analysis(Array(repeating: picture, count: 50) + Array(repeating: full, count: 50)))
        XCTAssertNil(d.crop)
    }

    func testChangingAspectRatioIsNotCropped() {
        let wide = CropRect(width: 1920, height: 1040, x: 0, y: 20)
        let d = CropDetector.decide(analysis(Array(repeating: picture, count: 70) + Array(repeating: wide, count: 30)))
        XCTAssertNil(d.crop, d.explanation)
    }

    func testOddEdgesMoveInwardToEvenNumbers() {
        let odd = CropRect(width: 1917, height: 801, x: 1, y: 139)
        let d = CropDetector.decide(analysis(Array(repeating: odd, count: 20)))
        XCTAssertEqual(d.crop, CropRect(width: 1916, height: 800, x: 2, y: 140))
    }

    func testTooFewSamplesMeanNoCrop() {
        XCTAssertNil(CropDetector.decide(analysis([picture, nil, nil])).crop)
    }

    func testScaleKeepsDisplayAspect() throws {
        let video = VideoFacts(width: 1920, height: 1080, pixelFormat: "yuv420p", bitDepth: 8, timeBase: Rational(1, 25), frameRate: Rational(25, 1),
                               sampleAspectRatio: Rational(1, 1), colorPrimaries: 2, colorTransfer: 2, colorMatrix: 2, colorRange: 0,
                               chromaLocation: 0, codecName: "h264", streamIndex: 0)
        var s = EncodeSettings(encoder: .h264, preset: "ultrafast", crf: 23, lossless: false, pixelFormat: .yuv420p, encoderParams: "")
        s.crop = picture
        s.scaleHeight = 400
        let p = try OutputPicture.make(source: video, settings: s)
        XCTAssertEqual(p.width, 960)
        XCTAssertEqual(p.height, 400)
        XCTAssertEqual(p.sampleAspectRatio, Rational(1, 1))
        s.crop = CropRect(width: 1920, height: 800, x: 0, y: 300) // reaches below the picture
        XCTAssertThrowsError(try OutputPicture.make(source: video, settings: s))
    }

    func testOldSettingsJSONStillDecodes() throws {
        let json = #"{"encoder":"h264","preset":"medium","crf":23,"lossless":false,"pixelFormat":"yuv420p","encoderParams":""}"#
        let s = try JSONDecoder().decode(EncodeSettings.self, from: Data(json.utf8))
        XCTAssertNil(s.crop)
        XCTAssertNil(s.scaleHeight)
    }
}
