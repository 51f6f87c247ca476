import EncodaJobs
import EncodaModel
import EncodaPipeline
import Foundation

/// Decides, before any work, whether OUTPUT may be written: never over INPUT (by path, symlink or hard link),
/// never over a file encoda keeps in TMP, and over any other existing file only when the user said so.
enum OutputGuard {
    /// The file's identity on its device, or nil when it does not exist. Symlinks are followed.
    static func identity(_ path: String) -> (dev: UInt64, ino: UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// The path with symlinks resolved as far as they exist (the folder when the file itself does not).
    static func resolved(_ path: String) -> String {
        let abs = JobSetup.absolute(path)
        if let r = realpath(abs, nil) { defer { free(r) }; return String(cString: r) }
        let dir = (abs as NSString).deletingLastPathComponent
        if let r = realpath(dir, nil) {
            defer { free(r) }
            return (String(cString: r) as NSString).appendingPathComponent((abs as NSString).lastPathComponent)
        }
        return abs
    }

    /// Throws unless OUTPUT may be written. `overwrite` is `-y`/`--overwrite`; `ask` asks on a terminal
    /// (only when both stdin and stderr are terminals; never without one).
    static func check(input: String, output: String, tmp: String, overwrite: Bool,
                      ask: (String) -> Bool = OutputGuard.askOnTerminal) throws {
        let outPath = resolved(output)
        let inPath = resolved(input)
        let outID = identity(outPath)
        if outPath == inPath || (outID != nil && outID.map({ $0 == identity(inPath) ?? (0, 0) }) == true) {
            throw EncodaError(.usage, "OUTPUT \(output) is INPUT \(input)\(outPath == inPath ? "" : " (the same file through a link)"); encoda never writes over its source. Give OUTPUT another name (INPUT OUTPUT TMP is the order)")
        }
        // A file encoda owns in TMP (its plan, its cache, anything in its folders) is never an OUTPUT.
        let tmpRoot = resolved(tmp)
        let outDir = (outPath as NSString).deletingLastPathComponent
        let name = (outPath as NSString).lastPathComponent
        let owned = (outDir == tmpRoot && ["job.json", "scenes.json", "coordinator.json"].contains(name))
            || WorkDirectory.subdirectories.contains { outDir == tmpRoot + "/" + $0 || outDir.hasPrefix(tmpRoot + "/" + $0 + "/") }
            || (outDir == tmpRoot + "/audio" || outDir.hasPrefix(tmpRoot + "/audio/"))
        if owned {
            throw EncodaError(.usage, "OUTPUT \(output) lies in encoda's own files in TMP \(tmp); write OUTPUT elsewhere (e.g. beside TMP)")
        }
        guard outID != nil, !overwrite else { return }
        if ask("OUTPUT \(output) exists. Overwrite it? [y/N] ") { return }
        throw EncodaError(.outputInvalid, "OUTPUT \(output) exists; add -y (--overwrite) to replace it, or choose another name")
    }

    /// Asks a yes/no question when a person can answer it; answers no otherwise.
    static func askOnTerminal(_ question: String) -> Bool {
        guard isatty(0) != 0, isatty(2) != 0 else { return false }
        StandardError.write("encoda: " + question)
        guard let line = readLine() else { return false }
        return ["y", "yes"].contains(line.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
