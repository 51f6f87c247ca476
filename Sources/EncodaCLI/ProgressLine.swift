import EncodaJobs
import EncodaModel
import EncodaPipeline
import Foundation
import Synchronization

/// The coordinator's progress on stderr, as Av1an and ffmpeg show it: frames and percentage, elapsed time, fps,
/// ETA, bit rate and estimated size, counting the frames workers have encoded so far inside their chunks (from
/// their heartbeat records), so it moves within a chunk and ends at 100 %.
///
/// - On a terminal: one live line, redrawn in place, with one line per live worker under it (host:pid, chunk,
///   frames of the chunk) when the terminal has rows enough. Notes (`Diagnostics.note`) are printed above it:
///   the live lines are cleared, the note printed, the lines drawn again.
/// - Otherwise (a log file, a pipe): a plain line every 10 s, and a last one when the encode ends.
final class ProgressLine: JobProgressView, Sendable {
    let directory: WorkDirectory
    let manifest: JobManifest
    let quiet: Bool
    let tty = isatty(2) != 0
    private let clock: ServerClock
    /// What is drawn and what it was drawn from; notes arrive from other threads (`message`).
    private struct Drawing {
        var started = Date()
        var baseFrames = 0
        var lastPrint = Date.distantPast
        var lastState: JobState?
        var lastWorkers = 0
        /// Lines of the live region on the terminal now; the cursor stands at the end of its last line.
        var drawn = 0
        var lastLines: [String] = []
    }
    private let drawing = Mutex(Drawing())

    init(directory: WorkDirectory, manifest: JobManifest, quiet: Bool) {
        self.directory = directory; self.manifest = manifest; self.quiet = quiet
        clock = ServerClock(directory: directory, owner: "progress-\(HostName.current)-\(getpid())")
    }

    deinit { clock.remove() }

    func start(framesAlreadyDone: Int) {
        drawing.withLock { $0.started = Date(); $0.baseFrames = framesAlreadyDone }
        if tty && !quiet { NoteRoute.display = { [weak self] line in self?.message(line) } }
    }

    /// Called often (every poll); draws at most every 0.5 s on a terminal, every 10 s otherwise.
    func update(state: JobState, workers: Int) {
        guard !quiet else { return }
        drawing.withLock { d in
            d.lastState = state; d.lastWorkers = workers
            let now = Date()
            guard now.timeIntervalSince(d.lastPrint) >= (tty ? 0.5 : 10) else { return }
            d.lastPrint = now
            show(&d, state, workers: workers, final: false)
        }
    }

    /// Draws the last figures once more (100 % when every chunk is done) and leaves them on their own line.
    func finish() {
        NoteRoute.display = nil
        guard !quiet else { return }
        drawing.withLock { d in
            if let s = d.lastState { show(&d, s, workers: d.lastWorkers, final: true) }
            if tty && d.drawn > 0 { write("\n"); d.drawn = 0 }
        }
    }

    /// Prints `line` (ending in a newline) above the live lines.
    func message(_ line: String) {
        drawing.withLock { d in
            let region = d.lastLines
            write(erase(d) + line)
            d.drawn = 0
            if !region.isEmpty { draw(&d, region) }
        }
    }

    // MARK: figures

    struct Figures {
        var framesDone: Int
        var total: Int
        var elapsed: Double
        var fps: Double
        var kbps: Double?
        var estimatedBytes: Double?
    }

    /// Frames done (finished chunks plus frames encoded so far in running ones), rate and estimates.
    private func figures(_ state: JobState, live: [WorkerRecord.Seen], started: Date, baseFrames: Int) -> Figures {
        let total = manifest.outputFrameCount
        let whole = state.framesDone(manifest)
        let partial = WorkerRecord.framesInProgress(live, manifest: manifest, state: state).values.reduce(0, +)
        let done = min(total, whole + partial)
        let elapsed = Date().timeIntervalSince(started)
        let fps = elapsed > 0 ? Double(max(0, done - baseFrames)) / elapsed : 0
        // Bit rate and size from the chunks finished so far (a running chunk's size is not known until it is done).
        let estimate = manifest.sizeEstimate(bytes: state.bytesDone(), frames: whole)
        return Figures(framesDone: done, total: total, elapsed: elapsed, fps: fps, kbps: estimate?.kbps, estimatedBytes: estimate?.outputBytes)
    }

    static func mainLine(_ f: Figures, workers: Int) -> String {
        let pct = f.total > 0 ? 100 * f.framesDone / f.total : 0
        let left = f.total - f.framesDone
        let eta = left == 0 ? "0:00" : f.fps > 0 ? clock(Double(left) / f.fps) : "--:--"
        var parts = [String(format: "%d/%d frames (%d%%)", f.framesDone, f.total, pct),
                     "elapsed " + clock(f.elapsed), String(format: "%.1f fps", f.fps), "ETA " + eta]
        parts.append(f.kbps.map { String(format: "%.0f kb/s", $0) } ?? "-- kb/s")
        parts.append(f.estimatedBytes.map { String(format: "est. %.1f MB", $0 / 1e6) } ?? "est. -- MB")
        parts.append("workers \(workers)")
        return parts.joined(separator: "  ")
    }

    static func workerLine(_ w: WorkerRecord.Seen) -> String {
        let who = "\(w.record.host):\(w.record.pid)"
        guard let c = w.record.chunk else { return "  \(who)  waiting for work" }
        return "  \(who)  chunk \(Chunk.name(c))  \(w.record.framesEncoded ?? 0)/\(w.record.chunkFrames ?? 0) frames"
    }

    private func show(_ d: inout Drawing, _ state: JobState, workers: Int, final: Bool) {
        let now = (try? clock.now()) ?? Date().timeIntervalSince1970
        let live = WorkerRecord.live(directory, now: now, within: manifest.farmSettings.leaseSeconds)
        let f = figures(state, live: live, started: d.started, baseFrames: d.baseFrames)
        let main = Self.mainLine(f, workers: workers)
        guard tty else {
            write("encoda: " + main + "\n")
            return
        }
        var lines = [main]
        let rows = Self.terminalSize().rows
        if !final && !live.isEmpty && rows >= live.count + 4 { lines += live.map(Self.workerLine) }
        draw(&d, lines)
    }

    // MARK: terminal

    /// Moves to the first live line and clears from there to the end of the screen.
    private func erase(_ d: Drawing) -> String {
        guard d.drawn > 0 else { return "" }
        return "\r" + (d.drawn > 1 ? "\u{1B}[\(d.drawn - 1)A" : "") + "\u{1B}[J"
    }

    private func draw(_ d: inout Drawing, _ lines: [String]) {
        // Lines are cut to the terminal's width: a line that wrapped would take two rows and spoil the count.
        let width = max(20, Self.terminalSize().columns - 1)
        let cut = lines.map { $0.count > width ? String($0.prefix(width)) : $0 }
        write(erase(d) + cut.joined(separator: "\n"))
        d.drawn = cut.count
        d.lastLines = lines
    }

    private func write(_ s: String) {
        guard !s.isEmpty else { return }
        StandardError.write(s)
    }

    static func terminalSize() -> (rows: Int, columns: Int) {
        var ws = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 else { return (24, 80) }
        return (Int(ws.ws_row), Int(ws.ws_col))
    }

    // MARK: text

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }

    static func summary(_ w: WrittenOutput) -> String {
        summary(output: w.output, frames: w.frames, bytes: w.bytes, seconds: w.seconds, frameRate: w.frameRate,
                framesEncoded: w.framesEncoded, encodeSeconds: w.encodeSeconds, joinSeconds: w.joinSeconds)
    }

    /// The line that ends a job: where OUTPUT went, frames, size (MB and bytes), bit rate, the run's time and
    /// the average rate of the frames encoded in this run.
    static func summary(output: String, frames: Int, bytes: Int64, seconds: Double, frameRate: Double,
                        framesEncoded: Int, encodeSeconds: Double, joinSeconds: Double) -> String {
        var s = String(format: "wrote %@: %d frames, %.2f MB (%lld bytes)", output, frames, Double(bytes) / 1e6, bytes)
        if frameRate > 0, frames > 0 { s += String(format: ", %.0f kb/s", Double(bytes) * 8 / (Double(frames) / frameRate) / 1000) }
        s += " in " + clock(seconds)
        if framesEncoded > 0 && encodeSeconds > 0 {
            s += String(format: ", %.1f fps average", Double(framesEncoded) / encodeSeconds)
            if framesEncoded < frames { s += " over the \(framesEncoded) frames encoded in this run" }
        } else {
            s += " (every chunk was encoded before this run)"
        }
        return s + String(format: "; joined in %.3f s", joinSeconds)
    }
}
