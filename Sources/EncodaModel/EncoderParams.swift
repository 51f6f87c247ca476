/// One `key=value` item of an option string such as `--encoder-params`, with the text it was read from.
public struct EncoderParam: Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    /// How the user wrote it (`film-grain=8`, `--film-grain 8`, `no-mbtree`), for messages.
    public var written: String

    public init(key: String, value: String, written: String) {
        self.key = key; self.value = value; self.written = written
    }

    /// The `key=value` spelling encoda passes to the library.
    public var description: String { "\(key)=\(value)" }
}

/// Reads the option strings passed on to libraries: SVT-AV1 `key=value` pairs separated by ':' or whitespace,
/// x264 option strings `key=value:key=value`, and the command-line spelling Av1an passes to SVT-AV1 and x264
/// (`--film-grain 8 --tune 0`, `--bframes 5`), which is read as `film-grain=8:tune=0` and `bframes=5`.
public enum EncoderParams {
    /// Pure. A key without a value (`no-mbtree`, `--no-mbtree`) gets the value "1", as before. In the
    /// command-line spelling, a `-key` or `--key` without `=` takes the next item as its value unless that item is
    /// itself an option (starts with '-' and is not a number). `option` names the option in messages.
    public static func parse(_ text: String, option: String = "--encoder-params") throws -> [EncoderParam] {
        let items = text.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        var out: [EncoderParam] = []
        var i = 0
        while i < items.count {
            let item = items[i]
            i += 1
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            var key = parts[0]
            let dashed = key.hasPrefix("-")
            while key.hasPrefix("-") { key.removeFirst() }
            guard !key.isEmpty else {
                throw EncodaError(.usage, "\(option) item '\(item)' has no name; write key=value, e.g. \(option) film-grain=8")
            }
            if parts.count > 1 {
                guard !parts[1].isEmpty else {
                    throw EncodaError(.usage, "\(option) item '\(item)' has no value; write \(key)=VALUE")
                }
                out.append(EncoderParam(key: key, value: parts[1], written: item))
            } else if dashed, i < items.count, isValue(items[i]) {
                out.append(EncoderParam(key: key, value: items[i], written: item + " " + items[i]))
                i += 1
            } else if !dashed && Double(key) != nil {
                // A bare number is a value without a key (e.g. "film-grain 8" missing its dashes).
                let hint = out.last.map { "; to give it to \($0.key), write \($0.key)=\(key)" } ?? "; write key=value"
                throw EncodaError(.usage, "\(option) item '\(item)' is a value without a name\(hint)")
            } else {
                out.append(EncoderParam(key: key, value: "1", written: item))
            }
        }
        return out
    }

    /// The `key=value:key=value` spelling of parsed items, for messages.
    public static func canonical(_ params: [EncoderParam]) -> String {
        params.map(\.description).joined(separator: ":")
    }

    /// An item that is the value of the option before it, not an option of its own.
    private static func isValue(_ s: String) -> Bool {
        !s.hasPrefix("-") || Double(s) != nil
    }
}

extension EncoderParams {
    /// Parameter names that make a library read or write a file: the value names it (x264's `dump-yuv`, `stats`,
    /// `cqmfile`, `opencl-clbin`), or the library then writes one of its own names in the current folder (x264's
    /// `pass`: x264_2pass.log; `opencl`: its kernel cache and build log). Checked against x264 0.164's
    /// `x264_param_parse` and SVT-AV1 1.4.1's `svt_av1_enc_parse_parameter`, whose parameters name no file; the
    /// SVT-AV1 application's file options (`fgs-table`, the pass statistics) are listed too, so a library that
    /// learns them is still held. encoda's own `--two-pass` sets the statistics files itself. A job service takes
    /// `--encoder-params` and `--audio-params` from people who may not write where the server can: it refuses these.
    public static let fileNames: Set<String> = [
        // x264
        "dump-yuv", "stats", "pass", "cqmfile", "opencl", "opencl-clbin",
        // SVT-AV1 (its application's names)
        "fgs-table", "stat-file", "input-stat-file", "output-stat-file", "recon", "qpfile", "qp-file",
        // libavcodec encoders' two-pass log (not one of opus, aac or flac, but the name says what it does)
        "passlogfile", "stats-in", "stats-out",
    ]

    /// The first item of `params` whose name is in `fileNames`, read as the libraries read names: `_` for `-`, any
    /// case, and x264's negation (`no-dump-yuv`, `nostats`, which x264 takes as the option itself).
    public static func namingFile(_ params: [EncoderParam]) -> EncoderParam? {
        params.first { p in
            let name = p.key.lowercased().replacingOccurrences(of: "_", with: "-")
            let unnegated = name.hasPrefix("no-") ? String(name.dropFirst(3)) : name.hasPrefix("no") ? String(name.dropFirst(2)) : name
            return fileNames.contains(name) || fileNames.contains(unnegated)
        }
    }
}
