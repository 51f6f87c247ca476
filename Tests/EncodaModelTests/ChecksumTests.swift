import EncodaModel
import XCTest

final class ChecksumTests: XCTestCase {
    func testStandardCheckValue() {
        // The catalogued check value of CRC-32/ISO-HDLC for the ASCII digits "123456789".
        let digits = Array("123456789".utf8)
        XCTAssertEqual(digits.withUnsafeBytes { CRC32.checksum($0) }, 0xCBF4_3926)
    }

    func testContinuesAcrossPieces() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let whole = bytes.withUnsafeBytes { CRC32.checksum($0) }
        let first = bytes[..<33_333].withUnsafeBytes { CRC32.checksum($0) }
        let both = bytes[33_333...].withUnsafeBytes { CRC32.checksum($0, initial: first) }
        XCTAssertEqual(both, whole)
        let u1 = bytes[..<5].withUnsafeBytes { CRC32.uninverted(0, $0) }
        XCTAssertEqual(bytes[5...].withUnsafeBytes { CRC32.uninverted(u1, $0) }, bytes.withUnsafeBytes { CRC32.uninverted(0, $0) })
    }

    func testUninvertedFormMatchesLibavutil() {
        // av_crc(av_crc_get_table(AV_CRC_32_IEEE_LE), 0, "123456789", 9), the form chunk records carry.
        let digits = Array("123456789".utf8)
        XCTAssertEqual(digits.withUnsafeBytes { CRC32.uninverted(0, $0) }, 0x2DFD_2D88)
    }
}
