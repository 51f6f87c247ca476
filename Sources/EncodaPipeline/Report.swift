import Synchronization

/// Where the pipeline's words go: the front end (the CLI) installs the sinks once, at start, and decides how a note
/// or the scene pass's count is shown. The pipeline never writes to a terminal itself. Without sinks, nothing is
/// said (an in-process test).
///
/// Notes come from any thread (the audio preparation's, the signal queue's), so the sinks sit behind a lock and are
/// called outside it.
public enum Report {
    public struct Sinks: Sendable {
        /// One line for the person who started the job, without the "encoda: " prefix.
        public var note: @Sendable (String) -> Void
        /// The scene pass's frame count while it runs; nil when it ends (clear the line).
        public var scenePass: @Sendable (Int?) -> Void
        /// Something went wrong that the run survives (a failed attempt, a file it could not remove): said even
        /// where notes are not (--quiet). Without its own sink, a warning goes where notes go.
        public var warn: @Sendable (String) -> Void
        public init(note: @escaping @Sendable (String) -> Void, scenePass: @escaping @Sendable (Int?) -> Void = { _ in },
                    warn: (@Sendable (String) -> Void)? = nil) {
            self.note = note; self.scenePass = scenePass; self.warn = warn ?? note
        }
    }

    private static let sinks = Mutex(Sinks(note: { _ in }))

    public static func install(_ s: Sinks) { sinks.withLock { $0 = s } }

    public static func note(_ line: String) { sinks.withLock { $0.note }(line) }

    public static func warn(_ line: String) { sinks.withLock { $0.warn }(line) }

    static func scenePass(frames: Int?) { sinks.withLock { $0.scenePass }(frames) }
}
