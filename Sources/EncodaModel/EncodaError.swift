/// The one error type of encoda. `message` says what happened and what to do about it.
public struct EncodaError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable, Codable, CaseIterable {
        case usage            // bad options or option combination
        case inputUnreadable  // INPUT missing, unreadable, not media
        case inputUnsupported // INPUT is media but cannot be encoded as asked (no video, odd size, ...)
        case inputDamaged     // INPUT decodes with errors, truncated, zero frames
        case outputInvalid    // OUTPUT cannot be written or cannot hold the codec
        case workDirectory    // TMP unusable, or holds a different job
        case stateCorrupt     // a file in TMP is malformed or hostile
        case encoder          // the encoder library refused or failed
        case chunkFailed      // one or more chunks failed for good (quarantined)
        case versionMismatch  // this worker's libraries differ from the job's
        case interrupted      // stopped by a signal
        case internalError
    }

    public var code: Code
    public var message: String
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }

    /// The process exit status for this error; the only table mapping errors to statuses.
    public var exitStatus: Int32 {
        switch code {
        case .usage: return 64
        case .inputUnreadable, .inputUnsupported, .inputDamaged: return 65
        case .outputInvalid: return 73
        case .workDirectory, .stateCorrupt: return 74
        case .encoder, .chunkFailed: return 70
        case .versionMismatch: return 78
        case .interrupted: return 130
        case .internalError: return 70
        }
    }
}
