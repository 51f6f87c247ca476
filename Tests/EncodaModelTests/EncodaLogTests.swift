import EncodaModel
import Logging
import XCTest

final class EncodaLogTests: XCTestCase {
    func testFlagsMakeTheThreshold() {
        let table: [(quiet: Bool, verbosity: Int, level: Logger.Level)] = [
            (false, 0, .notice), (true, 0, .warning), (false, 1, .info), (false, 2, .debug), (false, 5, .trace), (true, 2, .warning),
        ]
        for row in table {
            XCTAssertEqual(EncodaLog.level(quiet: row.quiet, verbosity: row.verbosity), row.level, "\(row)")
        }
    }

    /// libav was silenced before: its lines stay hidden at the default level and with --quiet.
    func testLibavLinesAreDetail() {
        let table: [(libav: Int32, level: Logger.Level)] = [(0, .info), (16, .info), (24, .info), (32, .debug), (40, .trace), (56, .trace)]
        for row in table { XCTAssertEqual(EncodaLog.level(libav: row.libav), row.level, "\(row)") }
        XCTAssertEqual(EncodaLog.libavThreshold(for: .notice), -8)
        XCTAssertEqual(EncodaLog.libavThreshold(for: .warning), -8)
        XCTAssertEqual(EncodaLog.libavThreshold(for: .info), 24)
        for level in [Logger.Level.notice, .warning, .error] {
            XCTAssertTrue((0...56).allSatisfy { EncodaLog.level(libav: Int32($0)) < level }, "\(level)")
        }
    }
}
