import EncodaJobs
import EncodaMedia
import EncodaModel
import Foundation
import Synchronization

/// The coordinator's `--mux` step: plan what INPUT's other streams become, prepare the audio in TMP in the
/// background while the video is encoded, and hand the result to the concatenator.
enum MuxStep {
    static func plan(request c: EncodeRequest, inputPath: String, cache: SceneCache, trim: Trim? = nil) throws -> MuxPlan {
        try MuxPlanner.plan(input: inputPath, output: c.output, encoder: c.encoding.settings.encoder, video: cache.video,
                            index: videoIndex(cache, trim), audio: try audioSettings(c, trim))
    }

    /// The audio settings asked for; a part of INPUT (`--start`/`--end`) cuts every track to it.
    static func audioSettings(_ c: EncodeRequest, _ trim: Trim?) throws -> AudioSettings {
        var s = c.mux ?? AudioSettings()
        if trim != nil { s.cutToVideo = true; s.trimmed = true }
        return s
    }

    /// The frames OUTPUT holds, which the other streams are aligned and cut to.
    static func videoIndex(_ cache: SceneCache, _ trim: Trim?) -> FrameIndex {
        trim.map { cache.index.slice($0.range) } ?? cache.index
    }

    /// Says what OUTPUT leaves out of INPUT, one note per kind (see `MuxPlan.leftOutNotes`): with `--mux` what
    /// the plan drops, without it what INPUT holds besides the video. Unless `--quiet`.
    static func noteWhatIsLeftOut(request c: EncodeRequest, inputPath: String, cache: SceneCache, plan: MuxPlan?) throws {
        guard !c.quiet else { return }
        let encoder = c.encoding.settings.encoder
        let format = try OutputFormat.forPath(c.output, encoder: encoder)
        let streams = try plan ?? MuxPlanner.inventory(input: inputPath, output: c.output, encoder: encoder, video: cache.video)
        for line in streams.leftOutNotes(muxed: plan != nil, outputExtension: format.fileExtension, holdsOtherStreams: format.holdsOtherStreams) {
            Report.note(line)
        }
    }
}

/// The audio preparation running beside the video work.
final class AudioJob: Sendable {
    private struct Outcome {
        var result: PreparedAudio?
        var failure: Error?
    }
    /// Written once by the preparing thread.
    private let outcome = Mutex<Outcome?>(nil)
    /// Signalled once the outcome is written; `wait` signals it again for the next waiter.
    private let finished = DispatchSemaphore(value: 0)
    let folder: String

    init(folder: String) { self.folder = folder }

    func complete(_ r: PreparedAudio?, _ e: Error?) {
        outcome.withLock { $0 = Outcome(result: r, failure: e) }
        finished.signal()
    }

    /// Whether the preparation has ended (`wait` returns at once).
    var ended: Bool { outcome.withLock { $0 != nil } }

    /// The failure, if the preparation already failed.
    var failed: Error? { outcome.withLock { $0?.failure } }

    /// Waits for the preparation and returns its record, or throws its error.
    func wait() throws -> PreparedAudio {
        finished.wait()
        finished.signal()
        let o = outcome.withLock { $0 }!
        if let failure = o.failure { throw failure }
        return o.result!
    }
}

extension MuxStep {
    /// The audio configuration checked, before any video work (also when the audio starts later: a plan that streams).
    /// Returns the audio settings and the video's frame index it checked them with, for the preparation.
    @discardableResult
    static func preflight(request c: EncodeRequest, inputPath: String, cache: SceneCache, plan: MuxPlan,
                          trim: Trim? = nil) throws -> (settings: AudioSettings, index: FrameIndex) {
        let settings = try audioSettings(c, trim)
        let index = videoIndex(cache, trim)
        try AudioPreparer.preflight(input: inputPath, plan: plan, settings: settings, video: cache.video, index: index)
        return (settings, index)
    }

    /// Checks the audio configuration now (before any video work), then prepares the audio on a thread of its
    /// own. A failure is reported at once; the supervisor sees it (`AudioJob.failed`) and stops the workers after
    /// their current chunk. If the video finishes first, the failure is thrown when the audio is collected for the join.
    static func start(request c: EncodeRequest, inputPath: String, fingerprint: String, cache: SceneCache, plan: MuxPlan,
                      dir: WorkDirectory, trim: Trim? = nil) throws -> AudioJob {
        let (settings, index) = try preflight(request: c, inputPath: inputPath, cache: cache, plan: plan, trim: trim)
        let job = AudioJob(folder: dir.root + "/audio")
        let video = cache.video, quiet = c.quiet
        let thread = Thread {
            do {
                let started = Date()
                let r = try AudioPreparer.prepare(input: inputPath, fingerprint: fingerprint, plan: plan, settings: settings,
                                                  video: video, index: index, folder: job.folder)
                if !quiet {
                    let what = plan.audio.map { $0.summary }.joined(separator: "; ")
                    Report.note(String(format: "audio ready in %.1f s: %@", Date().timeIntervalSince(started), what.isEmpty ? "no audio" : what))
                    for n in r.notes { Report.note(n) }
                }
                job.complete(r, nil)
            } catch {
                job.complete(nil, error)
                Report.warn("audio problem: \((error as? EncodaError)?.description ?? "\(error)")")
                Report.warn("stopping the video work; finished chunks stay in TMP for the next run")
            }
        }
        thread.start()
        return job
    }

    static func sides(job: AudioJob, inputPath: String, cache: SceneCache, trim: Trim? = nil) throws -> SideStreams {
        let record = try job.wait()
        return try SideStreams(input: inputPath, record: record, folder: job.folder, video: cache.video, index: videoIndex(cache, trim),
                               shiftTimestamps: trim.map { !$0.keepTimestamps } ?? false)
    }
}

/// `--mux` with a timeline: each clip's output carries INPUT's audio, subtitles and chapters cut to the clip, as a
/// `--start`/`--end --mux` trim of the same frames does. Each clip's audio is prepared right before its join, on
/// the coordinator's thread, into a folder of its own (`WorkDirectory.clipAudio`; a re-run reuses a matching
/// record) and removed once the clip is written: a long timeline never holds more than one clip's audio in TMP,
/// and a clip joined early never waits for the audio of the others.
final class ClipAudio {
    let request: EncodeRequest
    let inputPath: String
    let fingerprint: String
    let cache: SceneCache
    let dir: WorkDirectory
    let outputs: [ClipOutput]
    private var plans: [Int: MuxPlan] = [:]

    /// Plans every clip's streams and checks its audio configuration now, before any video work.
    init(request: EncodeRequest, inputPath: String, fingerprint: String, cache: SceneCache, dir: WorkDirectory, outputs: [ClipOutput]) throws {
        self.request = request; self.inputPath = inputPath; self.fingerprint = fingerprint; self.cache = cache; self.dir = dir
        self.outputs = outputs
        for i in outputs.indices {
            let trim = Self.trim(outputs[i])
            let plan = try MuxStep.plan(request: request, inputPath: inputPath, cache: cache, trim: trim)
            try AudioPreparer.preflight(input: inputPath, plan: plan, settings: try MuxStep.audioSettings(request, trim),
                                        video: cache.video, index: MuxStep.videoIndex(cache, trim))
            plans[i] = plan
        }
    }

    /// A clip's frames as `JobManifest.forOutput` trims them.
    static func trim(_ o: ClipOutput) -> Trim { Trim(range: o.range, keepTimestamps: false) }

    /// Clip `i`'s audio, subtitles and chapters, its audio prepared (or reused) in its folder.
    func sides(_ i: Int) throws -> SideStreams {
        let trim = Self.trim(outputs[i])
        let plan = plans[i]!
        let folder = dir.clipAudio(i)
        let started = Date()
        let record: PreparedAudio
        do {
            record = try AudioPreparer.prepare(input: inputPath, fingerprint: fingerprint, plan: plan,
                                               settings: try MuxStep.audioSettings(request, trim), video: cache.video,
                                               index: MuxStep.videoIndex(cache, trim), folder: folder)
        } catch {
            Report.warn("audio problem in clip \(i + 1)/\(outputs.count) \"\(outputs[i].clip)\": \((error as? EncodaError)?.description ?? "\(error)")")
            Report.warn("stopping the video work; finished chunks and written clips stay for the next run")
            throw error
        }
        if !request.quiet {
            let what = plan.audio.map { $0.summary }.joined(separator: "; ")
            Report.note(String(format: "clip %d/%d audio ready in %.1f s: %@", i + 1, outputs.count, Date().timeIntervalSince(started),
                                    what.isEmpty ? "no audio" : what))
            for n in record.notes { Report.note("clip \(i + 1): \(n)") }
        }
        return try SideStreams(input: inputPath, record: record, folder: folder, video: cache.video,
                               index: MuxStep.videoIndex(cache, trim), shiftTimestamps: true)
    }

    /// After clip `i` is written: its prepared audio is not needed again.
    func discard(_ i: Int) {
        var r = Removal()
        OwnFiles.removeClipAudio(dir, dir.clipAudio(i), shown: "audio/" + OwnNames.clipAudioFolder(i), into: &r)
    }
}
