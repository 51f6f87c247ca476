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
