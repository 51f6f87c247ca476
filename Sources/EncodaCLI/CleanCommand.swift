import ArgumentParser
import EncodaJobs
import EncodaModel
import EncodaPipeline
import EncodaSystem
import Foundation

struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean", abstract: "Remove a finished or abandoned job's state from TMP.",
        discussion: "Refuses while a worker's claim or heartbeat is fresh (by the file server's clock), unless --force. Only files encoda made are removed, recognised by their names folder by folder; anything else in TMP stays and is listed, and a folder is removed only when it is left empty. Cleaning a clean or empty folder succeeds.")
    @Argument(help: "The job's work folder.") var tmp: String
    @Flag(name: .long, help: "Only clear quarantine and failure records, so quarantined chunks are retried on the next run.") var quarantine = false
    @Flag(name: .long, help: "Clean even while workers hold fresh claims.") var force = false

    func run() throws {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.root, isDirectory: &isDir) else {
            print("nothing to clean: \(dir.root) does not exist")
            return
        }
        guard isDir.boolValue else { throw EncodaError(.workDirectory, "TMP \(dir.root) is a file, not a folder; nothing was removed") }
        if quarantine {
            var n = 0
            for (folder, path) in [("quarantine", dir.quarantine), ("failures", dir.failures)] {
                for name in dir.list(path) where OwnNames.isOwn(name, in: folder) { if (try? FileSystem.unlink(path + "/" + name)) != nil { n += 1 } }
            }
            print("cleared \(n) quarantine and failure record(s) in \(dir.root); the next run retries those chunks")
            return
        }
        // Names alone are not enough in a folder that is no TMP at all (a home folder has logs/, maybe results/):
        // only a folder with encoda's records or its protocol folders is cleaned.
        let fm = FileManager.default
        let looksLikeTMP = OwnNames.topLevel.contains { fm.fileExists(atPath: dir.root + "/" + $0) }
            || [dir.leases, dir.results, dir.workers].allSatisfy { fm.fileExists(atPath: $0) }
        guard looksLikeTMP else {
            print("nothing to clean: \(dir.root) holds no encoda job (no job.json or scenes.json, no leases, results and workers folders)")
            return
        }
        if !force { try JobCleaner.refuseWhileWorkersAreActive(dir) }
        let r = OwnFiles.remove(dir, folders: WorkDirectory.ownFolders, topLevel: OwnNames.topLevel, removeEmptyFolders: true, listForeign: true)
        print(r.files == 0 ? "nothing to clean in \(dir.root)"
                           : "removed \(r.files) file(s) encoda made in \(dir.root) (\(JobCleaner.size(r.bytes)))")
        if !r.kept.isEmpty { print("kept \(r.kept.count) item(s) encoda did not make: \(r.kept.joined(separator: ", "))") }
        if !r.failed.isEmpty {
            throw EncodaError(.workDirectory, "could not remove \(r.failed.count) file(s) in \(dir.root): \(r.failed.joined(separator: ", "))")
        }
    }
}
