import EncodaModel
import XCTest

final class AVCConfigurationTests: XCTestCase {
    private let sps: [UInt8] = [0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9]
    private let pps: [UInt8] = [0x68, 0xEB, 0xE3, 0xCB]
    private let sei: [UInt8] = [0x06, 0x05, 0x01]

    private func prefixed(_ nals: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for n in nals {
            let length = UInt32(n.count)
            out += [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
            out += n
        }
        return out
    }

    func testSplitsLengthPrefixedNALUnitsAndRejectsBuffersTheyDoNotTile() {
        let units = AVCConfiguration.nalUnits(prefixed([sps, pps, sei]))
        XCTAssertEqual(units?.map(Array.init), [sps, pps, sei])
        XCTAssertNil(AVCConfiguration.nalUnits(prefixed([sps]) + [0, 0]), "a torn length")
        XCTAssertNil(AVCConfiguration.nalUnits([0, 0, 0, 9] + sps), "a length past the end")
        XCTAssertNil(AVCConfiguration.nalUnits([0, 0, 0, 1, 0x67]).flatMap { AVCConfiguration.record(nalUnits: $0, chromaFormat: 1, bitDepth: 8) },
                     "an SPS too short to name its profile")
    }

    func testHighProfileRecordCarriesParameterSetsAndTheChromaExtension() {
        let units = AVCConfiguration.nalUnits(prefixed([sps, pps, sei]))!
        let record = AVCConfiguration.record(nalUnits: units, chromaFormat: 1, bitDepth: 10)
        // version, profile, compatibility, level, 4-byte lengths, one SPS; the PPS; 4:2:0, 10-bit luma/chroma, no SPS ext.
        XCTAssertEqual(record, [1, 0x64, 0x00, 0x1F, 0xFF, 0xE1, 0, 6] + sps + [1, 0, 4] + pps + [0xFD, 0xFA, 0xFA, 0])
    }

    func testMainProfileRecordHasNoExtensionAndParameterSetsAreRequired() {
        let main: [UInt8] = [0x67, 0x4D, 0x40, 0x1E, 0x95]
        XCTAssertEqual(AVCConfiguration.record(nalUnits: AVCConfiguration.nalUnits(prefixed([main, pps]))!, chromaFormat: 1, bitDepth: 8),
                       [1, 0x4D, 0x40, 0x1E, 0xFF, 0xE1, 0, 5] + main + [1, 0, 4] + pps)
        XCTAssertNil(AVCConfiguration.record(nalUnits: AVCConfiguration.nalUnits(prefixed([sps]))!, chromaFormat: 1, bitDepth: 8), "no PPS")
        XCTAssertNil(AVCConfiguration.record(nalUnits: AVCConfiguration.nalUnits(prefixed([pps, sei]))!, chromaFormat: 1, bitDepth: 8), "no SPS")
    }
}
