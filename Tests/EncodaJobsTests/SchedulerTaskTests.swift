import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

/// Which engine task a worker runs as, from the environment each engine sets, and that it reaches the records.
final class SchedulerTaskTests: XCTestCase {
    func testTheTaskIsNamedFromTheEnginesEnvironment() {
        let cases: [([String: String], String?)] = [
            ([:], nil),
            (["SLURM_JOB_ID": "125"], "slurm:125"),
            (["SLURM_JOB_ID": "130", "SLURM_ARRAY_JOB_ID": "125", "SLURM_ARRAY_TASK_ID": "4"], "slurm:125_4"),
            (["SLURM_JOB_ID": "125", "SLURM_NTASKS": "4", "SLURM_PROCID": "2"], "slurm:125.2"),
            (["SLURM_JOB_ID": "125", "SLURM_NTASKS": "1", "SLURM_PROCID": "0"], "slurm:125"),
            (["CUE_JOB": "show-shot-encoda-job1", "CUE_FRAME": "0003-workers"], "opencue:show-shot-encoda-job1/0003-workers"),
            (["CUE_JOB": "j"], nil),
            (["ENCODA_WORKER_NAME": "k8s:encoda-job1-2-x7q", "SLURM_JOB_ID": "9"], "k8s:encoda-job1-2-x7q"),
            (["ENCODA_WORKER_NAME": "  ", "SLURM_JOB_ID": "9"], "slurm:9"),
            (["ENCODA_WORKER_NAME": "a\nb"], "a b"),
            (["ENCODA_WORKER_NAME": String(repeating: "x", count: 500)], String(repeating: "x", count: 200)),
        ]
        for (env, expected) in cases { XCTAssertEqual(SchedulerTask.name(environment: env), expected, "\(env)") }
    }

    func testResultRecordsNameTheTaskThatEncodedTheChunk() throws {
        let job = try TestJob(chunks: 3); defer { job.remove() }
        let me = WorkerIdentity(host: "node7", pid: getpid(), token: "t1", task: "slurm:125_4")
        let w = Worker(directory: job.dir, manifest: job.manifest, encoder: FakeEncoder(), identity: me, options: WorkerOptions())
        XCTAssertEqual(Set(try w.run()), [0, 1, 2])
        for id in 0..<3 {
            let r = try JSONCoding.read(ChunkResult.self, from: job.dir.result(id), what: "result")
            XCTAssertEqual(r.worker.task, "slurm:125_4")
            XCTAssertEqual(r.worker, me)
        }
    }

    func testSubmitSpecQuotesWhatShellPythonAndYAMLWouldReadOtherwise() {
        XCTAssertEqual(SubmitSpec.shellQuote("/shared/jobs/job1"), "/shared/jobs/job1")
        XCTAssertEqual(SubmitSpec.shellQuote("/shared/my job's"), "'/shared/my job'\\''s'")
        XCTAssertEqual(SubmitSpec.shellQuote("$HOME"), "'$HOME'")
        XCTAssertEqual(SubmitSpec.quoted("/a/b \"c\"\\"), "\"/a/b \\\"c\\\"\\\\\"")
        XCTAssertEqual(SubmitSpec(tmp: "/shared/Jobs/Trailer_v2", workers: 2, threads: 1).jobName, "encoda-trailer-v2")
        // Cut to 40 characters, a name must still end in a letter or digit (Kubernetes refuses "encoda-aaa…a-").
        let long = SubmitSpec(tmp: "/shared/jobs/" + String(repeating: "a", count: 39) + "-b", workers: 2, threads: 1).jobName
        XCTAssertEqual(long, "encoda-" + String(repeating: "a", count: 39))
        XCTAssertEqual(SubmitSpec(tmp: "/shared/jobs/---", workers: 2, threads: 1).jobName, "encoda-job")
    }
}
