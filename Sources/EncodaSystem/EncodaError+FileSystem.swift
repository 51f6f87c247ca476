import EncodaModel

extension EncodaError {
    /// An error whose message says what encoda was doing, then the failed call, then what the user can do:
    /// "cannot publish the result: rename /t/staging/1.tmp → /t/results/00001.json: No space left on device; check
    /// free space in TMP".
    public init(_ code: Code, _ doing: String, _ error: FileSystemError, advice: String? = nil) {
        self.init(code, "\(doing): \(error)" + (advice.map { "; " + $0 } ?? ""))
    }
}
