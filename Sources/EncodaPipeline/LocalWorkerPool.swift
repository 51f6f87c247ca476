import EncodaModel
import Foundation
import Synchronization

/// Worker processes started on this machine by a coordinator or by a `worker --workers N` parent.
///
/// Each child gets `--supervised-by PID`: it ignores the terminal's SIGINT (its parent forwards one SIGTERM per
/// signal it gets itself, so a child never counts a Ctrl-C twice) and drains when its parent disappears, even
/// after a `kill -9`. Children run without Swift's crash backtracer (unless SWIFT_BACKTRACE is set), which would
/// otherwise stay behind as an orphan for many minutes after a crash. No wait here can hang: children are
/// waited for with a deadline, then killed.
final class LocalWorkerPool: Sendable {
    /// Read from the signal queue too.
    private let children = Mutex<[Process]>([])
    /// Signalled whenever a child exits.
    let exited = DispatchSemaphore(value: 0)

    /// Starts `encoda worker ARGS --supervised-by <this pid>`, its output into `log` (nil: inherit stderr).
    @discardableResult
    func spawn(arguments: [String], log: FileHandle?) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SelfExecutable.path)
        p.arguments = ["worker"] + arguments + ["--supervised-by", String(getpid())]
        var env = ProcessInfo.processInfo.environment
        if env["SWIFT_BACKTRACE"] == nil { env["SWIFT_BACKTRACE"] = "enable=no" }
        p.environment = env
        if let log { p.standardOutput = log; p.standardError = log }
        p.standardInput = FileHandle.nullDevice
        let exited = exited
        p.terminationHandler = { _ in exited.signal() }
        do { try p.run() } catch {
            throw EncodaError(.internalError, "cannot start a worker process (\(SelfExecutable.path)): \(error)")
        }
        children.withLock { $0.append(p) }
        return p
    }

    var processes: [Process] { children.withLock { $0 } }
    var running: [Process] { processes.filter(\.isRunning) }
    var runningPIDs: Set<Int32> { Set(running.map(\.processIdentifier)) }

    /// Forgets a child that has exited (after its exit was handled).
    func remove(_ p: Process) { children.withLock { $0.removeAll { $0 === p } } }

    /// Sends `sig` to every running child.
    func signalAll(_ sig: Int32) {
        for p in running { kill(p.processIdentifier, sig) }
    }

    /// Waits until no child runs or `timeout` seconds pass; returns true if none runs.
    @discardableResult
    func waitAll(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !running.isEmpty {
            if Date() >= deadline { return false }
            _ = exited.wait(timeout: .now() + 0.1)
        }
        return true
    }

    /// Kills every child that still runs and waits (bounded) until they are reaped. Returns the pids killed.
    @discardableResult
    func killAll() -> Set<Int32> {
        let pids = runningPIDs
        signalAll(SIGKILL)
        if !waitAll(timeout: 5) {
            Report.warn("worker process(es) \(runningPIDs.sorted().map(String.init).joined(separator: ", ")) did not exit after SIGKILL")
        }
        return pids
    }

    /// Asks every child to finish its chunk and leave; a second call asks them to stop now. After `grace`
    /// seconds of a stop, whatever still runs is killed.
    func stop(now: Bool, grace: Double = 1.5) -> Set<Int32> {
        signalAll(SIGTERM)
        guard now else { return [] }
        if waitAll(timeout: grace) { return [] }
        return killAll()
    }
}

/// A process started by a coordinator or worker parent watches that parent: when it is gone (its parent pid
/// changes, as after a `kill -9`), `onOrphaned` runs once.
enum ParentWatch {
    static func start(parent: Int32, onOrphaned: @escaping @Sendable () -> Void) {
        let t = Thread {
            while getppid() == parent { Thread.sleep(forTimeInterval: 0.5) }
            onOrphaned()
        }
        t.start()
    }
}
