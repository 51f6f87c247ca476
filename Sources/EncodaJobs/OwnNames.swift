import EncodaModel
import EncodaSystem
import Foundation

extension WorkDirectory {
    /// `--mux` prepares INPUT's audio here (see `AudioPreparer` in EncodaMedia, which names its files).
    public var audio: String { root + "/audio" }

    /// `--mux` with a timeline prepares each clip's audio in a folder of its own: TMP/audio/clip-0003 for the third
    /// clip (1-based, as `{index}` counts), so a re-run finds it again.
    public func clipAudio(_ index: Int) -> String { audio + "/" + OwnNames.clipAudioFolder(index) }

    /// The record a coordinator may keep about its run.
    public var coordinatorRecord: String { root + "/coordinator.json" }

    /// Every folder encoda makes in TMP: the protocol's folders, `audio` and `analysis` (whose folders are named as
    /// TMP's and hold the same names).
    public static let ownFolders = subdirectories + ["audio", "probes", "analysis"]
}

/// The names encoda gives its files in TMP, folder by folder. Removing TMP's contents (`clean`, `--restart`, the
/// end of a job) goes by these names, so a file a user put into TMP is never taken for encoda's. A name encoda
/// does not make here is kept; a pattern that is too narrow only leaves a file behind, and says so.
public enum OwnNames {
    /// Files encoda writes at the top of TMP (joined.json: the clips a timeline job has written; summary.json: the
    /// per-chunk table of the last finished job, kept after its cleanup; cancel.json: `CancelMark`).
    public static let topLevel: Set<String> = ["job.json", "scenes.json", "coordinator.json", "joined.json", "summary.json", "analysis.json",
                                               CancelMark.fileName]

    /// True when `name` in the folder `folder` (one of `WorkDirectory.ownFolders`) is a name encoda makes there.
    public static func isOwn(_ name: String, in folder: String) -> Bool {
        guard PathSafety.isPlainFileName(name) else { return false }
        switch folder {
        case "leases": return leaseID(name) != nil || asideName(name) != nil
        case "chunks": return chunkFile(name) != nil || twoPassStats(name)
        case "results", "quarantine", "plan":
            // NNNNN.json, and records moved aside as invalid: NNNNN.json.invalid-X
            if let r = name.range(of: ".json.invalid-") { return isChunkNumber(name[..<r.lowerBound]) && isWord(name[r.upperBound...]) }
            return name.hasSuffix(".json") && isChunkNumber(name.dropLast(5))
        case "failures": // NNNNN-TOKEN-N.json
            guard name.hasSuffix(".json") else { return false }
            let parts = name.dropLast(5).split(separator: "-", omittingEmptySubsequences: false)
            return parts.count == 3 && isChunkNumber(parts[0]) && isWord(parts[1]) && isNumber(parts[2])
        case "workers": // TOKEN.json
            return name.hasSuffix(".json") && isWord(name.dropLast(5))
        case "journal": // TOKEN.txt (ResultJournal)
            return name.hasSuffix(".txt") && isWord(name.dropLast(4))
        case "clock":
            return isClockProbe(name)
        case "probes": // NNNNN-CRF.json records, NNNNN-CRF-TOKEN.chunk files (see ProbeRecord); NNNNN-final.json and
                       // NNNNN-final-TOKEN.chunk (FinalEncodeRecord)
            let ext = name.hasSuffix(".json") ? 5 : name.hasSuffix(".chunk") ? 6 : 0
            let parts = name.dropLast(ext).split(separator: "-", omittingEmptySubsequences: false)
            return ext > 0 && parts.count == (ext == 5 ? 2 : 3) && isChunkNumber(parts[0]) && (isNumber(parts[1]) || parts[1] == "final")
                && parts.dropFirst(2).allSatisfy { isWord($0) }
        case "staging":
            return isStagingTemp(name)
        case "logs": // worker-HOST-PID-SLOT-N.log
            guard name.hasPrefix("worker-"), name.hasSuffix(".log") else { return false }
            let parts = name.dropFirst(7).dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
            return parts.count >= 4 && !parts[0].isEmpty && parts.suffix(3).allSatisfy { isNumber($0) }
        case "audio":
            // audio.json, its temp audio.json.PID.tmp, packets audio-TIME-PID.packets and their .partial
            if name == "audio.json" { return true }
            if name.hasPrefix("audio.json."), name.hasSuffix(".tmp") { return isNumber(name.dropFirst(11).dropLast(4)) }
            var stem = Substring(name)
            if stem.hasSuffix(".partial") { stem = stem.dropLast(8) }
            guard stem.hasPrefix("audio-"), stem.hasSuffix(".packets") else { return false }
            let parts = stem.dropFirst(6).dropLast(8).split(separator: "-", omittingEmptySubsequences: false)
            return parts.count == 2 && parts.allSatisfy { isNumber($0) }
        default:
            return false
        }
    }

    /// The folder in TMP/audio holding clip `index`'s prepared audio (0-based `index`): clip-0001 for the first.
    public static func clipAudioFolder(_ index: Int) -> String { String(format: "clip-%04d", index + 1) }

    /// True for a folder `clipAudioFolder` names (clip-NNNN, four digits or more); its files are named as in TMP/audio.
    public static func isClipAudioFolder(_ name: String) -> Bool {
        name.hasPrefix("clip-") && name.count >= 9 && isNumber(name.dropFirst(5))
    }

    /// NNNNN of a lease `NNNNN.lock`.
    public static func leaseID(_ name: String) -> Int? {
        guard name.hasSuffix(".lock") else { return nil }
        let stem = name.dropLast(5)
        return isChunkNumber(stem) ? Int(stem) : nil
    }

    /// A lease moved aside by a stealer (`NNNNN.stale-TOKEN`) or a releaser (`NNNNN.release-TOKEN`): chunk and token.
    public static func asideName(_ name: String) -> (chunk: Int, token: String)? {
        for tag in [".stale-", ".release-"] {
            if let r = name.range(of: tag), isChunkNumber(name[..<r.lowerBound]), isWord(name[r.upperBound...]) {
                return (Int(name[..<r.lowerBound])!, String(name[r.upperBound...]))
            }
        }
        return nil
    }

    /// Chunk and worker token of a chunk file `NNNNN-TOKEN.chunk`.
    public static func chunkFile(_ name: String) -> (chunk: Int, token: String)? {
        guard name.hasSuffix(".chunk") else { return nil }
        let parts = name.dropLast(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, isChunkNumber(parts[0]), isWord(parts[1]) else { return nil }
        return (Int(parts[0])!, String(parts[1]))
    }

    /// x264's --two-pass stats of a chunk file: `NNNNN-TOKEN.chunk.x264stats`, its `.mbtree`, and their `.temp` names.
    static func twoPassStats(_ name: String) -> Bool {
        guard let r = name.range(of: ".chunk.x264stats") else { return false }
        let rest = name[r.upperBound...]
        return chunkFile(String(name[..<r.lowerBound]) + ".chunk") != nil && ["", ".temp", ".mbtree", ".mbtree.temp"].contains(rest)
    }

    /// Clock probes are named after their owner and always carry a process id: `HOST-PID-TOKEN` (workers),
    /// `coordinator-HOST-PID`, `status-HOST-PID-TOKEN`, `clean-HOST-PID-TOKEN`.
    static func isClockProbe(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count >= 2 && !parts[0].isEmpty && parts.dropFirst().contains { isNumber($0) } && parts.allSatisfy { !$0.isEmpty }
    }

    /// `AtomicFile`'s temps (`N.tmp`) and `WorkDirectory.prepare`'s writability probes (`probe-PID-N`).
    static func isStagingTemp(_ name: String) -> Bool {
        if name.hasSuffix(".tmp") { return isNumber(name.dropLast(4)) }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "probe" && isNumber(parts[1]) && isNumber(parts[2])
    }

    static func isChunkNumber<S: StringProtocol>(_ s: S) -> Bool { s.count >= 5 && isNumber(s) }
    static func isNumber<S: StringProtocol>(_ s: S) -> Bool { !s.isEmpty && s.count <= 20 && s.allSatisfy { $0.isASCII && $0.isNumber } }
    /// A worker token or a random tag: letters and digits.
    static func isWord<S: StringProtocol>(_ s: S) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
}

/// What removing encoda's files from TMP did.
public struct Removal: Sendable {
    /// Files removed, and their sizes added up.
    public var files = 0
    public var bytes: Int64 = 0
    /// Paths relative to TMP that were kept because encoda does not make such names ("logs/my.log", "notes.txt",
    /// "chunks/mine/" for a folder).
    public var kept: [String] = []
    /// Paths relative to TMP that are encoda's but could not be removed, with the reason.
    public var failed: [String] = []
    public init() {}
}

/// Removes encoda's own files from TMP, by name (`OwnNames`), and nothing else.
public enum OwnFiles {
    /// Removes the files encoda names in `folders` (names of `WorkDirectory.ownFolders`) and the top-level files in
    /// `topLevel`. A folder left empty is removed when `removeEmptyFolders`. With `listForeign`, names at the top
    /// of TMP that encoda does not make are reported as kept too.
    public static func remove(_ dir: WorkDirectory, folders: [String], topLevel: Set<String>,
                              removeEmptyFolders: Bool, listForeign: Bool) -> Removal {
        var r = Removal()
        for name in topLevel.sorted() where OwnNames.topLevel.contains(name) {
            removeFile(dir.root + "/" + name, shown: name, into: &r)
        }
        for folder in folders where WorkDirectory.ownFolders.contains(folder) {
            let path = dir.root + "/" + folder
            if folder == "analysis" {
                let a = remove(dir.analysis, folders: WorkDirectory.analysisSubdirectories, topLevel: [],
                               removeEmptyFolders: removeEmptyFolders, listForeign: true)
                r.files += a.files; r.bytes += a.bytes
                r.kept += a.kept.map { folder + "/" + $0 }; r.failed += a.failed.map { folder + "/" + $0 }
                if removeEmptyFolders { rmdir(path) }
                continue
            }
            for name in dir.list(path).sorted() {
                if folder == "audio" && OwnNames.isClipAudioFolder(name) && isFolder(path + "/" + name) {
                    removeClipAudio(dir, path + "/" + name, shown: folder + "/" + name, into: &r)
                } else if OwnNames.isOwn(name, in: folder) {
                    removeFile(path + "/" + name, shown: folder + "/" + name, into: &r)
                } else {
                    r.kept.append(folder + "/" + name + (isFolder(path + "/" + name) ? "/" : ""))
                }
            }
            if removeEmptyFolders { try? FileSystem.rmdir(path) } // fails, as it should, on a folder that still holds something
        }
        if listForeign {
            for name in dir.list(dir.root).sorted() where !OwnNames.topLevel.contains(name) && !WorkDirectory.ownFolders.contains(name) {
                r.kept.append(name + (isFolder(dir.root + "/" + name) ? "/" : ""))
            }
        }
        r.kept.sort()
        return r
    }

    /// Removes one clip's prepared audio (TMP/audio/clip-NNNN, named as in TMP/audio) and the folder, once it
    /// holds nothing else: it belongs to one job, and the next job makes it again.
    public static func removeClipAudio(_ dir: WorkDirectory, _ path: String, shown: String, into r: inout Removal) {
        for name in dir.list(path).sorted() {
            if OwnNames.isOwn(name, in: "audio") {
                removeFile(path + "/" + name, shown: shown + "/" + name, into: &r)
            } else {
                r.kept.append(shown + "/" + name + (isFolder(path + "/" + name) ? "/" : ""))
            }
        }
        try? FileSystem.rmdir(path)
    }

    private static func isFolder(_ path: String) -> Bool {
        (try? FileSystem.stat(path, followLink: false))?.isFolder ?? false
    }

    /// Unlinks one file (never a folder; a symbolic link itself, not what it points to) and counts its size.
    private static func removeFile(_ path: String, shown: String, into r: inout Removal) {
        guard let st = try? FileSystem.stat(path, followLink: false) else { return } // not there: nothing to do
        if (st.st_mode & S_IFMT) == S_IFDIR { r.kept.append(shown + "/"); return }
        do {
            try FileSystem.unlink(path)
            r.files += 1
            r.bytes += Int64(st.st_size)
        } catch where error.errno != .noSuchFileOrDirectory {
            r.failed.append("\(shown) (\(error.reason))")
        } catch {}
    }
}
