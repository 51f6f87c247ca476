import EncodaJobs
import EncodaModel
import Foundation

/// Removing a job's state from TMP.
enum JobCleaner {
    /// Removes the job manifest and all work state. The scene cache may stay: it is keyed by the input's
    /// fingerprint and saves a decode on the next job of the same input.
    static func discardJob(_ dir: WorkDirectory, keepSceneCache: Bool) {
        let fm = FileManager.default
        unlink(dir.manifest)
        for sub in WorkDirectory.subdirectories {
            try? fm.removeItem(atPath: dir.root + "/" + sub)
        }
        if !keepSceneCache { unlink(dir.sceneCache) }
        for sub in WorkDirectory.subdirectories { mkdir(dir.root + "/" + sub, 0o777) }
    }
}
