import EncodaJobs
import EncodaModel
import EncodaSystem
import Foundation
import XCTest

/// What killed processes leave in TMP is pruned while the job runs, and only that: nothing a live worker may
/// still use, nothing encoda does not name, never a published chunk file. Real files in a temporary TMP; ages are
/// set on the files (mtime) and read back by the server-clock probe, as on a share.
final class DebrisTests: XCTestCase {
    private var job: TestJob!
    private let locality = ProcessLiveness.currentLocality

    override func setUpWithError() throws { job = try TestJob(chunks: 4) }
    override func tearDown() { job.remove() }

    private var dir: WorkDirectory { job.dir }
    private var judge: WorkerIdentity { WorkerIdentity(host: "judge-host", pid: getpid(), token: "judge", locality: locality) }

    private func debris(lease: Double = 30) -> Debris {
        Debris(directory: dir, leaseSeconds: lease, judge: judge, clock: ServerClock(directory: dir, owner: "judge-host-\(getpid())-judge"))
    }

    private func write(_ path: String, _ text: String = "x", age: Double = 0) {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)), path)
        if age > 0 { setAge(path, age) }
    }

    private func setAge(_ path: String, _ seconds: Double) {
        let t = Date().timeIntervalSince1970 - seconds
        var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0, path)
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A worker's record in workers/, `age` seconds since its last heartbeat.
    private func workerRecord(_ w: WorkerIdentity, age: Double = 0) throws {
        let path = dir.workers + "/\(w.token).json"
        try AtomicFile.writeJSON(w, to: path, staging: dir.staging)
        if age > 0 { setAge(path, age) }
    }

    private func publish(_ id: Int, file: String, by w: WorkerIdentity) throws {
        write(dir.chunkFile(named: file), "chunk \(id)")
        let r = ChunkResult(jobID: job.manifest.jobID, chunk: id, file: file, frames: 10, bytes: 7, crc32: 0, worker: w,
                            startedAt: 0, finishedAt: 0, seekSeconds: 0, framesSkipped: 0)
        XCTAssertTrue(try AtomicFile.publishJSONExclusive(r, to: dir.result(id), staging: dir.staging))
    }

    private func lease(_ id: Int, by w: WorkerIdentity, age: Double = 0) throws {
        let data = try JSONCoding.encode(LeaseOwner(jobID: job.manifest.jobID, chunk: id, worker: w))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.lease(id), contents: data))
        if age > 0 { setAge(dir.lease(id), age) }
    }

    private func deadProcess() throws -> pid_t {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    // MARK: chunk files

    func testOrphanChunkFilesOfGoneWorkersGoAndEverythingLiveStays() throws {
        let live = WorkerIdentity(host: "other-host", pid: 7, token: "livew")
        let gone = WorkerIdentity(host: "other-host", pid: 8, token: "gonew")
        try workerRecord(live)
        try workerRecord(gone, age: 120)
        try publish(0, file: dir.chunkFileName(0, token: "gonew"), by: gone)
        let published = dir.chunkFile(named: dir.chunkFileName(0, token: "gonew"))
        setAge(published, 600)
        // A killed worker's half-written chunk (old, its worker gone); a live worker's chunk, even an old file;
        // a young chunk of a worker nobody knows (it may be starting on another host).
        let orphan = dir.chunkFile(named: dir.chunkFileName(1, token: "gonew"))
        let liveOld = dir.chunkFile(named: dir.chunkFileName(2, token: "livew"))
        let unknownYoung = dir.chunkFile(named: dir.chunkFileName(3, token: "newcomer"))
        let unknownOld = dir.chunkFile(named: dir.chunkFileName(3, token: "oldtimer"))
        write(orphan, age: 120); write(liveOld, age: 600); write(unknownYoung); write(unknownOld, age: 120)
        let mine = dir.chunks + "/mine.mkv"
        write(mine, age: 600)

        let t = debris().prune()
        XCTAssertEqual(t.orphanChunks, 2)
        XCTAssertFalse(exists(orphan)); XCTAssertFalse(exists(unknownOld))
        XCTAssertTrue(exists(published), "the published chunk file is never pruned, however old")
        XCTAssertTrue(exists(liveOld), "a live worker's chunk stays")
        XCTAssertTrue(exists(unknownYoung), "a young chunk of an unknown worker stays")
        XCTAssertTrue(exists(mine), "a name encoda does not make stays")
        XCTAssertEqual(t.workerRecords, 1, "the gone worker's record")
        XCTAssertFalse(exists(dir.workers + "/gonew.json")); XCTAssertTrue(exists(dir.workers + "/livew.json"))
    }

    func testAPublishedChunksOtherFileGoesOnceItsWorkerIsGoneNotWhileItWorks() throws {
        let winner = WorkerIdentity(host: "a", pid: 1, token: "winner")
        let loser = WorkerIdentity(host: "b", pid: 2, token: "loser")
        let busy = WorkerIdentity(host: "c", pid: 3, token: "busy")
        try publish(1, file: dir.chunkFileName(1, token: "winner"), by: winner)
        try publish(2, file: dir.chunkFileName(2, token: "winner"), by: winner)
        // The loser was killed after its encode (no record, no lease); its file is young.
        let lost = dir.chunkFile(named: dir.chunkFileName(1, token: "loser"))
        write(lost)
        // Another worker still holds a fresh lease on chunk 2 (it took it over and encodes it again): its file stays.
        try lease(2, by: busy)
        let redo = dir.chunkFile(named: dir.chunkFileName(2, token: "busy"))
        write(redo)
        _ = loser
        let t = debris().prune()
        XCTAssertFalse(exists(lost), "a file its chunk's record does not name, of a worker that is gone")
        XCTAssertTrue(exists(redo), "a worker with a fresh lease may still be writing it")
        XCTAssertTrue(exists(dir.lease(2)), "a fresh lease of a published chunk stays")
        XCTAssertEqual(t.orphanChunks, 1)
    }

    func testAProvablyDeadLocalWorkersFilesGoAtOnce() throws {
        let dead = WorkerIdentity(host: judge.host, pid: try deadProcess(), token: "deadw", locality: locality)
        try workerRecord(dead) // fresh heartbeat, but its process is gone
        let young = dir.chunkFile(named: dir.chunkFileName(1, token: "deadw"))
        write(young)
        try lease(1, by: dead) // fresh lease of an unpublished chunk: stealing it is the lease protocol's job
        let t = debris().prune()
        XCTAssertFalse(exists(dir.workers + "/deadw.json"))
        XCTAssertFalse(exists(young))
        XCTAssertTrue(exists(dir.lease(1)), "a lease of an unpublished chunk is left to the claim protocol")
        XCTAssertEqual(t.workerRecords, 1); XCTAssertEqual(t.orphanChunks, 1)
    }

    // MARK: leases

    func testStaleLeasesOfPublishedChunksGoFreshOnesAndOpenChunksStay() throws {
        let w = WorkerIdentity(host: "a", pid: 1, token: "wa")
        try publish(0, file: dir.chunkFileName(0, token: "wa"), by: w)
        try publish(1, file: dir.chunkFileName(1, token: "wa"), by: w)
        try lease(0, by: w, age: 120)   // published, stale: garbage
        try lease(1, by: w)             // published, fresh: its owner may still be releasing it
        try lease(2, by: w, age: 120)   // open, stale: a stealer takes it
        let t = debris().prune()
        XCTAssertEqual(t.publishedLeases, 1)
        XCTAssertFalse(exists(dir.lease(0)))
        XCTAssertTrue(exists(dir.lease(1)))
        XCTAssertTrue(exists(dir.lease(2)))
        XCTAssertEqual(dir.list(dir.leases).sorted(), ["00001.lock", "00002.lock"], "no aside name is left behind")
    }

    func testLeasesLeftAsideByGoneWorkersGo() throws {
        let live = WorkerIdentity(host: "a", pid: 1, token: "livew")
        try workerRecord(live)
        let dead = WorkerIdentity(host: judge.host, pid: try deadProcess(), token: "deadw", locality: locality)
        try workerRecord(dead)
        let deadAside = dir.leases + "/00001.stale-deadw"
        let goneRelease = dir.leases + "/00002.release-gonew"
        let liveAside = dir.leases + "/00003.stale-livew"
        for p in [deadAside, goneRelease, liveAside] { write(p, "{}", age: 600) }
        // Moved aside just now (ctime), however old the lease inside: a steal or a release may be under way, unless
        // the worker that moved it is provably dead.
        XCTAssertEqual(debris(lease: 30).prune().leaseAsides, 1)
        XCTAssertFalse(exists(deadAside))
        XCTAssertTrue(exists(goneRelease)); XCTAssertTrue(exists(liveAside))
        // With no grace left for the move itself, a worker nobody knows (no record, no lease) is gone.
        XCTAssertEqual(debris(lease: -1).prune().leaseAsides, 2)
        XCTAssertFalse(exists(goneRelease))
    }

    // MARK: temps, records, probes

    func testOldTempsRecordsAndProbesGoYoungOnesStay() throws {
        let oldTemp = dir.staging + "/1234567.tmp", youngTemp = dir.staging + "/7654321.tmp"
        let oldProbe = dir.staging + "/probe-99-12", notOurs = dir.staging + "/notes.tmp"
        write(oldTemp, age: 120); write(youngTemp); write(oldProbe, age: 120); write(notOurs, age: 600)
        let oldClock = dir.clock + "/other-host-77-abc", youngClock = dir.clock + "/coordinator-host-5"
        let oldStatus = dir.clock + "/status-host-9-xyz", notProbe = dir.clock + "/readme"
        write(oldClock, age: 120); write(youngClock); write(oldStatus, age: 600); write(notProbe, age: 600)
        let gone = WorkerIdentity(host: "h", pid: 77, token: "abc")
        try workerRecord(gone, age: 120)
        try workerRecord(WorkerIdentity(host: "h", pid: 78, token: "fresh"))

        let t = debris().prune()
        XCTAssertEqual(dir.list(dir.staging).sorted(), ["7654321.tmp", "notes.tmp"])
        XCTAssertEqual(dir.list(dir.clock).sorted(), ["coordinator-host-5", "judge-host-\(getpid())-judge", "readme"],
                       "the judge's own probe stays too")
        XCTAssertEqual(dir.list(dir.workers).sorted(), ["fresh.json"])
        XCTAssertEqual(t.stagingTemps, 2); XCTAssertEqual(t.clockProbes, 2); XCTAssertEqual(t.workerRecords, 1)
        XCTAssertEqual(t.bytes, 4 + Int64(try JSONCoding.encode(gone).count), "sizes of what was removed")
    }

    func testNothingIsPrunedInACleanRunningJob() throws {
        let w = WorkerIdentity(host: "a", pid: 1, token: "wa")
        try workerRecord(w)
        try publish(0, file: dir.chunkFileName(0, token: "wa"), by: w)
        try lease(1, by: w)
        write(dir.chunkFile(named: dir.chunkFileName(1, token: "wa")))
        let before = dir.list(dir.chunks).sorted() + dir.list(dir.leases).sorted() + dir.list(dir.results).sorted()
        XCTAssertEqual(debris().prune(), Debris.Tally())
        XCTAssertEqual(dir.list(dir.chunks).sorted() + dir.list(dir.leases).sorted() + dir.list(dir.results).sorted(), before)
    }

    // MARK: in the worker

    func testAStartingWorkerPrunesAndStillFinishesTheJob() throws {
        let gone = WorkerIdentity(host: "elsewhere", pid: 5, token: "gonew")
        try workerRecord(gone, age: 300)
        let orphan = dir.chunkFile(named: dir.chunkFileName(2, token: "gonew"))
        write(orphan, age: 300)
        write(dir.staging + "/42.tmp", age: 300)
        let logged = LogLines()
        let w = worker(job, "A", FakeEncoder())
        w.log = { logged.append($0) }
        XCTAssertEqual(try w.run().sorted(), [0, 1, 2, 3])
        let lines = logged.all
        XCTAssertFalse(exists(orphan))
        XCTAssertEqual(dir.list(dir.staging), [])
        XCTAssertEqual(dir.list(dir.workers), [], "the gone worker's record went; the worker's own left with it")
        XCTAssertTrue(lines.contains { $0.hasPrefix("removed debris of earlier workers: 1 orphan chunk file(s), 1 stale temp(s) in staging") }, "\(lines)")
        XCTAssertEqual(dir.list(dir.chunks).count, 4, "the published chunk files")
    }

    // MARK: names

    func testEncodaNamesAreRecognisedAndOthersAreNot() {
        let own: [(String, String)] = [
            ("leases", "00042.lock"), ("leases", "00042.stale-ab12cd34ef56"), ("leases", "00042.release-ab12cd34ef56"),
            ("chunks", dir.chunkFileName(42, token: "ab12cd34ef56")), ("chunks", dir.chunkFileName(123_456, token: "t")),
            ("results", "00042.json"), ("results", "00042.json.invalid-3735928559"), ("results", "00042.json.invalid-ab12cd34ef56"),
            ("failures", "00042-ab12cd34ef56-12345.json"), ("quarantine", "00042.json"), ("workers", "ab12cd34ef56.json"),
            ("clock", "node-1.example.org-4242-ab12cd34ef56"), ("clock", "coordinator-node-1-4242"),
            ("clock", "status-node-1-4242-ab12cd34ef56"), ("clock", "clean-node-1-4242-ab12cd34ef56"),
            ("staging", "18446744073709551615.tmp"), ("staging", "probe-4242-123"),
            ("logs", "worker-node-1.example.org-4242-0-3.log"),
            ("audio", "audio.json"), ("audio", "audio.json.4242.tmp"), ("audio", "audio-1764650000-4242.packets"),
            ("audio", "audio-1764650000-4242.packets.partial"),
            ("chunks", "00042-ab12cd34ef56.chunk.x264stats"), ("chunks", "00042-ab12cd34ef56.chunk.x264stats.mbtree.temp"),
            ("journal", "ab12cd34ef56.txt"),
            ("probes", "00042-28.json"), ("probes", "00042-28-ab12cd34ef56.chunk"),
            ("probes", "00042-final.json"), ("probes", "00042-final-ab12cd34ef56.chunk"),
        ]
        for (folder, name) in own { XCTAssertTrue(OwnNames.isOwn(name, in: folder), "\(folder)/\(name)") }
        let foreign: [(String, String)] = [
            ("logs", "my.log"), ("logs", "worker-notes.log"), ("chunks", "mine.mkv"), ("chunks", "00042.chunk"),
            ("chunks", "42-tok.chunk"), ("results", "00042.json.bak"), ("results", "notes.json"), ("leases", "00042.lock.old"),
            ("workers", "my worker.json"), ("clock", "readme"), ("clock", "x-y"), ("staging", "notes.tmp"), ("staging", "probe"),
            ("audio", "music.flac"), ("audio", "audio.json.bak"), ("failures", "00042.json"), ("quarantine", "../job.json"),
            ("elsewhere", "00042.json"), ("chunks", "00042-ab12cd34ef56.chunk.x264stats.bak"), ("chunks", "mine.chunk.x264stats"),
            ("journal", "notes.md"), ("journal", "../ab12.txt"),
            ("probes", "00042-best.json"), ("probes", "00042-final.chunk"), ("probes", "final.json"), ("probes", "00042-final-x-y.chunk"),
        ]
        for (folder, name) in foreign { XCTAssertFalse(OwnNames.isOwn(name, in: folder), "\(folder)/\(name)") }
    }

    func testRemovingEncodasFilesKeepsAUsersFilesAndListsThem() throws {
        XCTAssertEqual(try worker(job, "A", FakeEncoder()).run().count, 4)
        write(dir.logs + "/my.log", "mine")
        write(dir.root + "/notes.txt", "mine")
        write(dir.chunks + "/mine.mkv", "mine")
        try FileManager.default.createDirectory(atPath: dir.results + "/00007.json", withIntermediateDirectories: false)
        mkdir(dir.audio, 0o777)
        write(dir.audio + "/audio.json", "{}")
        write(dir.sceneCache, "{}")
        let r = OwnFiles.remove(dir, folders: WorkDirectory.ownFolders, topLevel: OwnNames.topLevel, removeEmptyFolders: true, listForeign: true)
        XCTAssertEqual(r.kept.sorted(), ["chunks/mine.mkv", "logs/my.log", "notes.txt", "results/00007.json/"])
        XCTAssertEqual(r.failed, [])
        XCTAssertEqual(r.files, 4 + 4 + 1 + 2 + 1, "chunk files, result records, the worker's journal, job.json and scenes.json, audio.json")
        XCTAssertEqual(dir.list(dir.root).sorted(), ["chunks", "logs", "notes.txt", "results"])
        XCTAssertEqual(dir.list(dir.chunks), ["mine.mkv"])
        XCTAssertEqual(dir.list(dir.logs), ["my.log"])
        XCTAssertEqual(dir.list(dir.results), ["00007.json"])
        // Again: nothing of encoda's is left, the user's files still are.
        let again = OwnFiles.remove(dir, folders: WorkDirectory.ownFolders, topLevel: OwnNames.topLevel, removeEmptyFolders: true, listForeign: true)
        XCTAssertEqual(again.files, 0)
        XCTAssertEqual(again.kept.sorted(), r.kept.sorted())
    }
}

extension DebrisTests {
    /// Before it removes the chunks, the coordinator waits for workers still in their work loop: those with a fresh
    /// heartbeat that are not provably dead.
    func testLiveWorkersAreThoseWithAFreshHeartbeatNotProvablyDead() throws {
        try AtomicFile.writeJSON(WorkerIdentity(host: "far", pid: 3, token: "fresh"), to: dir.workers + "/fresh.json", staging: dir.staging)
        XCTAssertEqual(debris().liveWorkers(), 1)
        try AtomicFile.writeJSON(WorkerIdentity(host: "far", pid: 4, token: "stale"), to: dir.workers + "/stale.json", staging: dir.staging)
        let t = Date().timeIntervalSince1970 - 120
        var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, dir.workers + "/stale.json", &times, 0), 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        try AtomicFile.writeJSON(WorkerIdentity(host: "judge-host", pid: p.processIdentifier, token: "dead", locality: ProcessLiveness.currentLocality),
                                 to: dir.workers + "/dead.json", staging: dir.staging)
        try AtomicFile.writeJSON(WorkerIdentity(host: "judge-host", pid: getpid(), token: "judge"), to: dir.workers + "/judge.json", staging: dir.staging)
        XCTAssertEqual(debris().liveWorkers(), 1, "only the fresh one on another machine")
    }
}
