import EncodaSystem
import Foundation
import Synchronization
import SystemPackage
import XCTest

/// The one EINTR and ESTALE policy, through fake calls (deterministic) and a real signal during a blocking read.
final class SystemCallTests: XCTestCase {
    /// A fake C call: fails with each errno of `failures` in turn, then returns `result`.
    final class FakeCall {
        var failures: [Int32]
        let result: Int32
        var calls = 0
        init(failing failures: [Int32], then result: Int32 = 7) { self.failures = failures; self.result = result }
        func callAsFunction() -> Int32 {
            calls += 1
            if failures.isEmpty { return result }
            errno = failures.removeFirst()
            return -1
        }
    }

    func testEINTRIsRetriedForEveryKindOfCall() {
        for target in [SystemCall.Target.path, .descriptor] {
            let call = FakeCall(failing: [EINTR, EINTR, EINTR])
            XCTAssertEqual(try SystemCall.retrying(target) { call() }.get(), 7)
            XCTAssertEqual(call.calls, 4)
        }
    }

    func testESTALEIsRetriedByPathOnlyAndAFewTimes() {
        let recovers = FakeCall(failing: [ESTALE, ESTALE])
        XCTAssertEqual(try SystemCall.retrying(.path) { recovers() }.get(), 7)
        XCTAssertEqual(recovers.calls, 3)

        let stays = FakeCall(failing: Array(repeating: ESTALE, count: 50))
        XCTAssertEqual(SystemCall.retrying(.path) { stays() }, .failure(.staleNFSFileHandle))
        XCTAssertEqual(stays.calls, SystemCall.staleAttempts)

        let onDescriptor = FakeCall(failing: [ESTALE])
        XCTAssertEqual(SystemCall.retrying(.descriptor) { onDescriptor() }, .failure(.staleNFSFileHandle))
        XCTAssertEqual(onDescriptor.calls, 1, "a stale descriptor stays stale: only a new lookup helps")
    }

    func testOtherErrorsAreNotRetried() {
        let call = FakeCall(failing: [ENOENT, ENOENT])
        XCTAssertEqual(SystemCall.retrying(.path) { call() }, .failure(.noSuchFileOrDirectory))
        XCTAssertEqual(call.calls, 1)
    }

    /// A sequence that starts with a lookup (open, then read) is repeated whole while it fails with ESTALE.
    func testAStaleSequenceIsRepeatedFromItsLookup() throws {
        var attempts = 0
        let value = try SystemCall.retryingStale { () throws(FileSystemError) -> Int in
            attempts += 1
            if attempts < 3 { throw FileSystemError(.read, "/x", errno: .staleNFSFileHandle) }
            return 42
        }
        XCTAssertEqual(value, 42)
        XCTAssertEqual(attempts, 3)

        attempts = 0
        XCTAssertThrowsError(try SystemCall.retryingStale { () throws(FileSystemError) -> Int in
            attempts += 1
            throw FileSystemError(.read, "/x", errno: .permissionDenied)
        })
        XCTAssertEqual(attempts, 1)
    }

    /// A real signal (installed without SA_RESTART, so the kernel interrupts the call) lands on a thread blocked in
    /// `FileSystem.read` on an empty pipe, again and again until the read was interrupted at least once; the read
    /// then still returns the bytes written afterwards instead of failing with EINTR.
    func testAReadInterruptedByASignalIsResumed() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var previous = sigaction()
        XCTAssertEqual(sigaction(SIGUSR2, &action, &previous), 0)
        defer { sigaction(SIGUSR2, &previous, nil) }

        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }

        struct ReaderState {
            var thread: pthread_t?
            var calls = 0
            var result: Result<[UInt8], any Error>?
        }
        final class Reader: Sendable { let state = Mutex(ReaderState()) }
        let r = Reader()
        let readFD = fds[0]
        let t = Thread {
            r.state.withLock { $0.thread = pthread_self() }
            var buffer = [UInt8](repeating: 0, count: 16)
            let outcome = Result { () throws -> [UInt8] in
                let n = try buffer.withUnsafeMutableBytes { raw in
                    try SystemCall.retrying(.descriptor) { () -> Int in
                        r.state.withLock { $0.calls += 1 }
                        return read(readFD, raw.baseAddress, raw.count)
                    }.mapError { FileSystemError(.read, "pipe", errno: $0) }.get()
                }
                return Array(buffer[0..<n])
            }
            r.state.withLock { $0.result = outcome }
        }
        t.start()
        // Signal the reader until it has made the call a second time: it was interrupted and retried.
        var interrupted = false
        for _ in 0..<2000 {
            let (thread, calls) = r.state.withLock { ($0.thread, $0.calls) }
            if calls >= 2 { interrupted = true; break }
            if let thread { pthread_kill(thread, SIGUSR2) }
            usleep(5_000)
        }
        XCTAssertTrue(interrupted, "the read was never interrupted")
        XCTAssertEqual(write(fds[1], "hello", 5), 5)
        var result: Result<[UInt8], any Error>?
        for _ in 0..<20_000 where result == nil {   // a bound on a hung read, not a timing claim
            result = r.state.withLock { $0.result }
            if result == nil { usleep(1_000) }
        }
        XCTAssertEqual(try result?.get(), Array("hello".utf8))
    }
}
