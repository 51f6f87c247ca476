import ArgumentParser
import EncodaJobs
import EncodaModel
import EncodaPipeline
import EncodaSystem
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's state and progress: analysing, encoding, joining, finished, failed or interrupted; frames, rate, ETA; chunks running (by whom), failed, quarantined; workers alive.",
        discussion: "Only reads TMP (it works on a read-only mount and on a full disk). Ages are judged by the file server's clock when TMP is writable, else by this machine's clock (the JSON says which). --json prints one object whose fields are described in docs/status.schema.json.")
    @Argument(help: "The job's work folder.") var tmp: String
    @Flag(name: .long, help: "Machine-readable output (one JSON object, see docs/status.schema.json).") var json = false

    func run() throws {
        let dir = WorkDirectory(JobSetup.absolute(tmp))
        let report = try JobStatus.report(dir)
        if json {
            print(String(decoding: try JSONCoding.encode(report), as: UTF8.self))
            return
        }
        printText(report)
    }

    private func printText(_ r: JobStatus.Report) {
        let pct = r.percentDone.map { " (\($0)%)" } ?? ""
        let frames = r.frames.map { "\(r.framesDone)/\($0) frames\(pct)" } ?? "frames not known yet"
        let chunks = r.chunks.map { ", \(r.chunksDone)/\($0) chunks done" + (r.planning == true ? " (of those planned so far)" : "") } ?? ""
        print("job \(r.jobID ?? "(being planned)") in \(r.tmp): \(r.state), \(frames)\(chunks), \(r.workersAlive) worker(s) alive")
        if let i = r.input { print("  input       \(i)") }
        if let o = r.output {
            let there = r.outputExists.map { $0 ? (r.outputBytes.map { String(format: " (%.2f MB)", Double($0) / 1e6) } ?? "") : " (not written)" } ?? ""
            print("  output      \(o)\(there)")
        }
        if let s = r.settings {
            let params = s.encoderParams.isEmpty ? "" : " params \(s.encoderParams)"
            print("  settings    \(s.encoder) preset \(s.preset) \(s.qualityText)\(s.pixelFormat.map { " " + $0 } ?? "")\(params)")
        }
        if let c = r.coordinator {
            let state = c.alive.map { $0 ? "running" : "gone" } ?? "on another machine"
            print("  coordinator \(c.host) pid \(c.pid) (\(state)), phase \(c.phase)")
        }
        var rates: [String] = []
        if let e = r.elapsedSeconds { rates.append("elapsed \(ProgressLine.clock(e))") }
        if let f = r.fps { rates.append(String(format: "%.1f fps", f)) }
        if let e = r.etaSeconds { rates.append("ETA \(ProgressLine.clock(e))") }
        if let k = r.kbps { rates.append(String(format: "%.0f kb/s", k)) }
        if let b = r.estimatedBytes, r.state != "finished" { rates.append(String(format: "est. %.1f MB", Double(b) / 1e6)) }
        if !rates.isEmpty { print("  progress    " + rates.joined(separator: ", ")) }
        if let e = r.error { print("  error       \(e)") }
        for (i, c) in (r.clips ?? []).enumerated() {
            let state = c.written ? "written" : "\(c.framesDone)/\(c.frames) frames, \(c.chunksDone)/\(c.chunks) chunks done"
            print("  clip \(i + 1)/\(r.clips!.count)    \"\(c.clip)\": \(state) -> \(c.path)")
        }
        if let a = r.analysis {
            let by = a.byWorker.map { "\($0.host) \($0.segments)" }.joined(separator: ", ")
            print("  analysis    \(a.segmentsDone)/\(a.segments) segments, \(a.framesDone)/\(a.frames) frames" + (by.isEmpty ? "" : " (by \(by))"))
            for x in a.running {
                print(String(format: "  analysing   segment %@ on %@ pid %d (heartbeat %.0f s ago%@)", Chunk.name(x.segment), x.host, x.pid,
                             x.heartbeatAgeSeconds, x.stale ? ", stale: another worker will take it over" : ""))
            }
            for q in a.quarantined { print("  quarantined segment \(Chunk.name(q.segment)): \(q.error)") }
        }
        for x in r.running {
            let since = x.runningSeconds.map { String(format: " for %.0f s", $0) } ?? ""
            let got = x.framesEncoded.map { ", \($0)/\(x.frames) frames" } ?? ""
            print(String(format: "  running     %@ on %@ pid %d%@%@%@ (heartbeat %.0f s ago%@)", Chunk.name(x.chunk), x.host, x.pid,
                         x.task.map { " [\($0)]" } ?? "", since, got,
                         x.heartbeatAgeSeconds, x.stale ? ", stale: another worker will take it over" : ""))
        }
        for f in r.failed { print("  failed      \(Chunk.name(f.chunk)): \(f.attempts) attempt(s) of \(r.maxAttempts ?? 0)") }
        for q in r.quarantined { print("  quarantined \(Chunk.name(q.chunk)): \(q.error)") }
        for i in r.invalid ?? [] {
            print("  invalid     \(Chunk.name(i.chunk)): \(i.record) does not check out (\(i.error)); the next worker or run moves it aside and encodes the chunk again")
        }
        for w in r.workers {
            let doing = w.chunk.map { c in "chunk \(Chunk.name(c))" + (w.framesEncoded.map { ", \($0)/\(w.chunkFrames ?? 0) frames" } ?? "") } ?? "waiting for work"
            print(String(format: "  worker      %@ pid %d%@: %@ (heartbeat %.0f s ago)", w.host, w.pid, w.task.map { " [\($0)]" } ?? "", doing, w.heartbeatAgeSeconds))
        }
        if let n = r.chunks, r.chunksDone == n, r.planning != true, r.quarantined.isEmpty, r.state != "finished" { print("  all chunks done") }
        if let q = r.summary {
            let aim = q.metric.map { " (\($0.rawValue) target \(q.target.map(QualityTarget.describe) ?? "?"), pooled by \(q.pool?.rawValue ?? "mean"))" }
                ?? q.bitRate.map { " (--bitrate \($0 / 1000) kb/s shared by complexity)" } ?? ""
            print("  summary\(aim)")
            for line in q.lines { print("    " + line) }
        }
    }
}
