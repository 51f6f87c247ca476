import Foundation
import XCTest

/// What coordinating a job costs does not grow with its chunks (issue 16), seen from outside with strace: after
/// they start, neither the workers' claims nor the coordinator's polls list TMP/results, and the coordinator opens
/// each result record once. The figures per chunk at 100 to 1,000 chunks are bench/coordination.sh's.
final class CoordinationTests: XCTestCase {
    /// 40 chunks of 2 frames (160x120 at 1 fps: encoda's shortest chunk is 2 s), cut by an Av1an scenes.json.
    private func clip(_ s: Scratch, chunks: Int) throws -> (clip: String, scenes: String) {
        let clip = s.file("in.mkv")
        try Tool.ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x120:r=1", "-frames:v", String(2 * chunks),
                         "-c:v", "libx264", "-preset", "ultrafast", "-g", "1", "-pix_fmt", "yuv420p", clip])
        let scenes = (0..<chunks).map { "{\"start_frame\":\(2 * $0),\"end_frame\":\(2 * $0 + 2),\"zone_overrides\":null}" }
        try Data("{\"scenes\":[\(scenes.joined(separator: ","))],\"frames\":\(2 * chunks)}".utf8).write(to: URL(fileURLWithPath: s.file("scenes.json")))
        return (clip, s.file("scenes.json"))
    }

    func testClaimsAndPollsDoNotListResultsAndTheCoordinatorReadsEachRecordOnce() throws {
        let s = Scratch()
        let chunks = 40
        let (clip, scenes) = try clip(s, chunks: chunks)
        let tmp = s.file("tmp"), out = s.file("out.mkv"), trace = s.file("trace")
        let r = try Tool.run("strace", ["-f", "-qq", "-y", "-s", "300", "-e", "trace=getdents64,read", "-o", trace,
                                        Tool.encoda, clip, out, tmp, "--encoder", "h264", "--lossless", "--preset", "ultrafast",
                                        "--scenes-json", scenes, "--max-scene-length", "0", "--workers", "3", "--threads", "1",
                                        "--keep", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip), "frame-exact")
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        let coordinator = try XCTUnwrap(lines.first?.split(separator: " ").first.map(String.init))
        // Listings of results/ that returned names (a listing is one such call here, and one returning 0).
        // (TMP/results only: TMP/analysis/results holds the analysis segments' records, each read once too.)
        let listings = lines.filter { $0.contains("getdents64(") && $0.contains(tmp + "/results>") && !$0.hasSuffix("= 0") }
        let pids = Set(listings.map { $0.split(separator: " ")[0] })
        // A process lists results/ when it starts, when it prunes debris, before it leaves, after 10 s without news:
        // a few times each, however many chunks; before issue 16 every claim listed it twice, the coordinator every poll.
        XCTAssertLessThanOrEqual(listings.count, 6 * pids.count, "\(listings.count) listings by \(pids.count) processes")
        XCTAssertLessThan(listings.count, chunks, "a claim does not list results/")
        // The coordinator reads each record once (to check it), never again on a poll: reads that returned bytes
        // from a descriptor on a record (strace -y names the file).
        var reads: [String: Int] = [:]
        for l in lines where l.hasPrefix(coordinator + " ") && l.contains("read(") && !l.hasSuffix("= 0") {
            if let m = l.range(of: NSRegularExpression.escapedPattern(for: tmp) + #"/results/[0-9]{5}\.json>"#, options: .regularExpression) {
                reads[String(l[m]), default: 0] += 1
            }
        }
        XCTAssertEqual(reads.count, chunks, "every record read by the coordinator")
        XCTAssertEqual(reads.values.max(), 1, "\(reads.filter { $0.value > 1 })")
        // Every chunk is in the journals exactly once: each was encoded and published once.
        var journaled: [Int] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: tmp + "/journal") {
            journaled += try String(contentsOfFile: tmp + "/journal/" + name, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        }
        XCTAssertEqual(journaled.sorted(), Array(0..<chunks))
    }

    func testAJobWhoseRecordsNoJournalNamesResumesWithoutRedoingThem() throws {
        let s = Scratch()
        let (clip, scenes) = try clip(s, chunks: 12)
        let tmp = s.file("tmp"), out = s.file("out.mkv")
        let args = [clip, out, tmp, "--encoder", "h264", "--lossless", "--preset", "ultrafast", "--scenes-json", scenes,
                    "--max-scene-length", "0", "--workers", "2", "--threads", "1", "--keep", "--quiet", "-y"]
        try Tool.mustRun(Tool.encoda, args)
        // As a job of the previous version left it (no journals), with chunks 3 to 7 not done yet.
        try FileManager.default.removeItem(atPath: tmp + "/journal")
        try FileManager.default.removeItem(atPath: tmp + "/logs")
        for id in 3...7 {
            let record = tmp + "/results/" + String(format: "%05d.json", id)
            let file = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])["file"] as? String
            try FileManager.default.removeItem(atPath: record)
            try FileManager.default.removeItem(atPath: tmp + "/chunks/" + XCTUnwrap(file))
        }
        let kept = try (0..<12).filter { !(3...7).contains($0) }.map { try Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + String(format: "%05d.json", $0))) }
        try Tool.mustRun(Tool.encoda, args)
        XCTAssertEqual(try Tool.frameHashes(out), try Tool.frameHashes(clip), "frame-exact")
        let after = try (0..<12).filter { !(3...7).contains($0) }.map { try Data(contentsOf: URL(fileURLWithPath: tmp + "/results/" + String(format: "%05d.json", $0))) }
        XCTAssertEqual(after, kept, "records published before are kept as they were")
        // Only the missing chunks were encoded, and only their lines were written: the others were known from the
        // listing at the start, so no worker claimed one to find it published.
        var encoded: [Int] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: tmp + "/logs") {
            let log = try String(contentsOfFile: tmp + "/logs/" + name, encoding: .utf8)
            encoded += log.components(separatedBy: "\n").compactMap { line in
                line.range(of: #"chunk [0-9]{5}: encoding frames"#, options: .regularExpression).flatMap { Int(line[$0].dropFirst(6).prefix(5)) }
            }
        }
        XCTAssertEqual(encoded.sorted(), Array(3...7))
        var journaled: [Int] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: tmp + "/journal") {
            journaled += try String(contentsOfFile: tmp + "/journal/" + name, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        }
        XCTAssertEqual(journaled.sorted(), Array(3...7))
    }
}
