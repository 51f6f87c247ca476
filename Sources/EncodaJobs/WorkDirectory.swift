import EncodaModel
import EncodaSystem
import Foundation

/// The layout of TMP. Every name a worker touches is derived here from chunk numbers, never read from a file.
///
///     job.json              the plan (written once)
///     scenes.json           frame index and scene measurements
///     leases/00042.lock     a claim on chunk 42 (O_EXCL), its mtime is the heartbeat
///     chunks/00042-T.chunk  chunk 42 as encoded by the worker with token T
///     results/00042.json    the record that makes chunks/00042-T.chunk trusted (published by link, first wins)
///     journal/T.txt         the results worker T published, one chunk number a line (`ResultJournal`)
///     failures/00042-T.json one failed attempt at chunk 42
///     quarantine/00042.json chunk 42 failed too often
///     workers/T.json        a live worker (heartbeat by mtime)
///     clock/                probe files whose mtime reads the file server's clock
///     staging/              temporary names for write-then-rename
///     logs/                 worker logs
///     plan/00042.json       chunk 42 of a plan that streams (`PlanRecord`, published once by the coordinator)
///     analysis.json         the analysis segments (`AnalysisManifest`, written once before job.json)
///     analysis/             the segments' leases, records (results/NNNNN.json: `SegmentRecord`), journals, failures
///                           and quarantine, laid out as TMP itself (`WorkDirectory.analysis`)
public struct WorkDirectory: Sendable {
    public let root: String

    public init(_ root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    public var manifest: String { root + "/job.json" }
    public var sceneCache: String { root + "/scenes.json" }
    public var leases: String { root + "/leases" }
    public var chunks: String { root + "/chunks" }
    public var results: String { root + "/results" }
    public var failures: String { root + "/failures" }
    public var quarantine: String { root + "/quarantine" }
    public var workers: String { root + "/workers" }
    public var clock: String { root + "/clock" }
    public var staging: String { root + "/staging" }
    public var logs: String { root + "/logs" }
    public var journal: String { root + "/journal" }
    public var plan: String { root + "/plan" }

    public func lease(_ id: Int) -> String { leases + "/\(Chunk.name(id)).lock" }
    public func result(_ id: Int) -> String { results + "/\(Chunk.name(id)).json" }
    public func quarantineRecord(_ id: Int) -> String { quarantine + "/\(Chunk.name(id)).json" }
    public func planRecord(_ id: Int) -> String { plan + "/\(Chunk.name(id)).json" }
    /// The record of the worker whose token is `token` (its mtime is the worker's heartbeat).
    public func workerRecord(_ token: String) -> String { workers + "/\(token).json" }
    public func chunkFileName(_ id: Int, token: String) -> String { "\(Chunk.name(id))-\(token).chunk" }
    public func chunkFile(named name: String) -> String { chunks + "/" + name }

    public static let subdirectories = ["leases", "chunks", "results", "failures", "quarantine", "workers", "clock", "staging", "logs", "journal", "plan"]

    /// Creates TMP and its folders; fails clearly when TMP is not a writable folder.
    public func prepare() throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: root, isDirectory: &isDir) {
            guard isDir.boolValue else { throw EncodaError(.workDirectory, "TMP \(root) is a file, not a folder; give a folder for encoda's work files") }
        } else {
            do { try fm.createDirectory(atPath: root, withIntermediateDirectories: true) } catch {
                throw EncodaError(.workDirectory, "cannot create TMP \(root); check the path and permissions", cause: "\(error.localizedDescription)")
            }
        }
        guard access(root, W_OK | X_OK) == 0 else {
            throw EncodaError(.workDirectory, "TMP \(root) is not writable; choose a folder you can write to")
        }
        for d in Self.subdirectories {
            do { try FileSystem.mkdir(root + "/" + d) } catch where error.errno == .fileExists {} catch {
                throw EncodaError(.workDirectory, "cannot create TMP's folders", error)
            }
        }
        // Prove writability with a real file, as permissions can lie on network shares.
        let probe = staging + "/probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do { FileSystem.close(try FileSystem.open(probe, O_CREAT | O_EXCL | O_WRONLY)) } catch {
            throw EncodaError(.workDirectory, "TMP \(root) is not writable", error, advice: "choose a folder you can write to")
        }
        try? FileSystem.unlink(probe)
    }

    /// Names in a folder, listed fresh from the server. Opening a directory makes the NFS client revalidate
    /// it (close-to-open applies to directories too), so a listing sees names another host created a moment
    /// ago, whereas a lookup of a name that was "not found" here keeps answering from the negative-lookup
    /// cache for up to ~30 s (acdirmin). The protocol therefore learns what exists by listing, never by
    /// probing a name it looked up before. Measured over kernel NFS by scripts/nfs/test-farm.sh.
    public func list(_ dir: String) -> [String] {
        (try? FileSystem.list(dir)) ?? []
    }

    /// True when `path`, a name in the folder `folder`, exists on the file server now. The folder is opened first:
    /// that revalidates it (close-to-open applies to directories), which also drops a "not found" this client
    /// cached for a name in it that another host has created since, so the lookup after it is fresh, as after a
    /// listing, at the cost of one open instead of reading every name. Checked over kernel NFS by
    /// scripts/nfs/test-farm.sh (scenario 0).
    public func exists(_ path: String, in folder: String) -> Bool {
        if let fd = try? FileSystem.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) { FileSystem.close(fd) }
        return (try? FileSystem.stat(path)) != nil
    }

    /// Chunk numbers that have a file named NNNNN<suffix> in `dir`.
    public func chunkIDs(in dir: String, suffix: String) -> Set<Int> {
        var ids = Set<Int>()
        for n in list(dir) where n.hasSuffix(suffix) {
            let stem = n.dropLast(suffix.count)
            if stem.count >= 5, stem.allSatisfy(\.isNumber), let id = Int(stem) { ids.insert(id) }
        }
        return ids
    }
}
