import EncodaModel
import EncodaSystem
import Foundation

/// What a worker's heartbeat remembers between beats.
struct Pulse {
    var lastRenewal = Date.distantPast
    var lastRecord = Date.distantPast
    var written: WorkerRecord? = nil
}

extension Worker {
    /// Starts the heartbeat: it renews the lease of the chunk being encoded every `heartbeatSeconds`, and rewrites
    /// the worker record (its mtime is the worker's heartbeat) as often, or every second while the frames encoded
    /// so far change, so progress moves within a chunk. The first beat happens before any claim, so a renewal is
    /// never due right after a claim was made.
    func startHeartbeat() {
        let interval = max(0.2, options.farm.heartbeatSeconds)
        heartbeat.start { [self] in beat(interval: interval) }
    }

    /// One beat. Its file I/O runs with no lock held; the encoding thread may meanwhile give the chunk up, which
    /// `claimNumber` tells: a lease released on purpose during a renewal is not reported as taken away.
    private func beat(interval: Double) {
        let now = Date()
        let memory = pulse.withLock { $0 }
        let renewDue = now.timeIntervalSince(memory.lastRenewal) >= interval
        let (chunk, claimNumber, lost) = shared.withLock { ($0.current, $0.claimNumber, $0.lostLease) }
        if renewDue, let c = chunk, !lost, !leases.stillHeld(c) || !leases.renew(c) {
            let report = shared.withLock { s -> Bool in
                guard s.claimNumber == claimNumber, !s.lostLease else { return false }
                s.lostLease = true
                return true
            }
            if report { log("chunk \(Chunk.name(c)): the lease is no longer ours (taken over as stale); the result will be discarded") }
        }
        let c = currentChunk
        let record = WorkerRecord(identity: identity, jobID: manifest.jobID, chunk: c,
                                  chunkFrames: c.map { manifest.chunks[$0].range.count },
                                  framesEncoded: c.map { _ in framesEncoded.value })
        var lastRecord = memory.lastRecord
        var written = memory.written
        if record != written || now.timeIntervalSince(lastRecord) >= interval {
            lastRecord = now
            do {
                try AtomicFile.writeJSON(record, to: workerRecord, staging: directory.staging)
                written = record
            } catch {
                _ = FileTimes.touch(workerRecord) // TMP full: keep the heartbeat, with the older content
            }
        }
        pulse.withLock { $0 = Pulse(lastRenewal: renewDue ? now : memory.lastRenewal, lastRecord: lastRecord, written: written) }
    }
}
