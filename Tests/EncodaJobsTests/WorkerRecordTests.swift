import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

final class WorkerRecordTests: XCTestCase {
    /// The workers a worker following a plan that streams counts: fresh records of this job, whether they carry the
    /// job's id (encoding a chunk) or the analysis's (analysing a segment); not a stale record, not another job's.
    func testCountTakesFreshRecordsOfTheJobAndOfItsAnalysis() throws {
        let job = try TestJob(chunks: 2)
        defer { job.remove() }
        let dir = job.dir
        func write(_ name: String, jobID: String?, age: Double = 0) throws {
            let path = dir.workers + "/tok\(name).json"
            try AtomicFile.writeJSON(WorkerRecord(identity: job.identity(name), jobID: jobID), to: path, staging: dir.staging)
            guard age > 0 else { return }
            let t = Date().timeIntervalSince1970 - age
            var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
            XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        }
        try write("a", jobID: "job-1")        // encoding a chunk
        try write("b", jobID: "analysis-1")   // analysing a segment
        try write("c", jobID: "job-1", age: 120) // killed two minutes ago
        try write("d", jobID: "job-2")        // another job's (an earlier job in the same TMP)
        try write("e", jobID: nil)
        let now = Date().timeIntervalSince1970
        XCTAssertEqual(WorkerRecord.count(dir, now: now, within: 30, jobIDs: ["job-1", "analysis-1"]), 2)
        XCTAssertEqual(WorkerRecord.count(dir, now: now, within: 30, jobIDs: ["job-1"]), 1, "only the job's id: the analysing worker is missed")
        XCTAssertEqual(WorkerRecord.count(dir, now: now, within: 300, jobIDs: ["job-1", "analysis-1"]), 3, "within a longer lease the killed one still counts")
    }
}
