import Foundation

/// One probe of a chunk's CRF search, recorded in TMP/probes/NNNNN-CRF.json the moment it is scored, so a
/// killed job resumes without encoding it again. Published exclusively: the first record for a CRF stands.
public struct ProbeRecord: Codable, Sendable {
    public static let formatVersion = 1
    public var formatVersion: Int
    public var jobID: String
    public var chunk: Int
    public var crf: Int
    /// The chunk's pooled score at `crf`.
    public var score: Double
    /// Frames scored (every `probeRate`-th frame of the chunk).
    public var framesScored: Int
    /// The encoded chunk, a plain name in TMP/probes (it may be gone: a chosen probe's file becomes the chunk's).
    public var file: String
    public var bytes: Int64
    public var crc32: UInt32
    /// Seconds the encode and its scoring took.
    public var seconds: Double
    /// True for the encode at the range's end that follows a search in which no probe met the target.
    public var final: Bool

    public init(jobID: String, chunk: Int, crf: Int, score: Double, framesScored: Int, file: String, bytes: Int64,
                crc32: UInt32, seconds: Double, final: Bool) {
        self.formatVersion = Self.formatVersion
        self.jobID = jobID; self.chunk = chunk; self.crf = crf; self.score = score; self.framesScored = framesScored
        self.file = file; self.bytes = bytes; self.crc32 = crc32; self.seconds = seconds; self.final = final
    }

    public var point: ProbePoint { ProbePoint(crf: crf, score: score) }

    /// The record's name for chunk `id` at `crf`: NNNNN-CRF.json.
    public static func name(chunk id: Int, crf: Int) -> String { "\(Chunk.name(id))-\(crf).json" }
    /// The probe file's name: NNNNN-CRF-TOKEN.chunk.
    public static func fileName(chunk id: Int, crf: Int, token: String) -> String { "\(Chunk.name(id))-\(crf)-\(token).chunk" }
}

/// What the CRF search of a chunk decided, kept in its result record.
public struct ChunkQuality: Codable, Sendable, Equatable {
    public var crf: Int
    /// The chunk's pooled score at `crf`, as measured.
    public var score: Double
    public var target: Double
    public var metric: QualityMetric
    public var outcome: CRFSearch.Outcome
    /// Every encode the search made, in CRF order (the chosen one among them).
    public var probes: [ProbePoint]
    /// Seconds all the chunk's encodes took, and the chosen one alone.
    public var probeSeconds: Double
    public var finalSeconds: Double
    /// `--probe-preset`: the preset `probes` were encoded at (`score` is then the final encode's, at the job's
    /// preset), and the CRF shift from the probe chosen to the final encode (`PresetCorrection`); nil otherwise.
    public var probePreset: String? = nil
    public var crfShift: Int? = nil
    public init(crf: Int, score: Double, target: Double, metric: QualityMetric, outcome: CRFSearch.Outcome, probes: [ProbePoint],
                probeSeconds: Double, finalSeconds: Double, probePreset: String? = nil, crfShift: Int? = nil) {
        self.crf = crf; self.score = score; self.target = target; self.metric = metric; self.outcome = outcome
        self.probes = probes; self.probeSeconds = probeSeconds; self.finalSeconds = finalSeconds
        self.probePreset = probePreset; self.crfShift = crfShift
    }

    /// A search on probes at a faster preset chose a CRF whose final encode misses the target by more than the
    /// search's tolerance (the shift measured on earlier chunks was off for this one).
    public var finalMissed: Bool {
        probePreset != nil && outcome == .reached && score < target - PresetCorrection.tolerance
    }
}

/// The table at the end of a job: each chunk's frames, CRF, score and bit rate. Written as TMP/summary.json (kept
/// after the job's cleanup) and shown by `encoda status`.
public struct JobSummary: Codable, Sendable, Equatable {
    public static let formatVersion = 1
    public struct Row: Codable, Sendable, Equatable {
        public var chunk: Int
        public var frames: Int
        public var crf: Double
        /// Absent without a quality target.
        public var score: Double?
        public var kbps: Double
        public var bytes: Int64
        public var probes: Int?
        public var outcome: CRFSearch.Outcome?
        public var probeSeconds: Double?
        public var finalSeconds: Double?
        /// `--probe-preset`: the final encode's CRF is the probe chosen's less this.
        public var crfShift: Int? = nil
        /// `--probe-preset`: the final encode missed the target by more than the search's tolerance.
        public var finalMissed: Bool? = nil
        /// `--bitrate`: the chunk's share of it, kbit/s, as the plan gave it.
        public var shareKbps: Double? = nil
    }
    public var formatVersion: Int
    public var jobID: String
    public var metric: QualityMetric?
    public var target: Double?
    public var pool: ScorePooling?
    /// `--bitrate`, bits/s: the rate the chunks' shares add up to.
    public var bitRate: Int? = nil
    public var chunks: [Row]

    /// Pure: the rows of `results` (one per chunk id) for `manifest`'s chunks, in plan order.
    public init(manifest: JobManifest, results: [Int: ChunkResult]) {
        formatVersion = Self.formatVersion
        jobID = manifest.jobID
        let q = manifest.settings.quality
        metric = q?.metric; target = q?.target; pool = q?.pool
        bitRate = manifest.settings.bitRate
        let rate = manifest.video.frameRate.doubleValue
        chunks = manifest.chunks.compactMap { c in
            guard let r = results[c.id] else { return nil }
            let seconds = rate > 0 ? Double(r.frames) / rate : 0
            return Row(chunk: c.id, frames: r.frames, crf: r.quality.map { Double($0.crf) } ?? manifest.settings.crf,
                       score: r.quality?.score, kbps: seconds > 0 ? Double(r.bytes) * 8 / seconds / 1000 : 0, bytes: r.bytes,
                       probes: r.quality?.probes.count, outcome: r.quality?.outcome,
                       probeSeconds: r.quality?.probeSeconds, finalSeconds: r.quality?.finalSeconds,
                       crfShift: r.quality?.crfShift, finalMissed: r.quality?.finalMissed == true ? true : nil,
                       shareKbps: c.bitRate.map { Double($0) / 1000 })
        }
    }

    /// Whether a job with these settings has a summary: one that chooses each chunk's quality or rate.
    public static func applies(to settings: EncodeSettings) -> Bool { settings.quality != nil || settings.bitRate != nil }

    /// `--bitrate`: the chunks' video, in kbit/s over their frames, and how far it is from the rate asked for.
    public var overall: (kbps: Double, off: Double)? {
        guard let bitRate, bitRate > 0 else { return nil }
        let frames = chunks.reduce(0) { $0 + $1.frames }
        // Each row's seconds are its frames over the same rate, so kb/s weighted by frames is the whole's.
        guard frames > 0 else { return nil }
        let kbps = chunks.reduce(0.0) { $0 + $1.kbps * Double($1.frames) } / Double(frames)
        return (kbps, kbps / (Double(bitRate) / 1000) - 1)
    }

    /// Chunks encoded at an end of the CRF range because the target lay beyond it.
    public var outsideRange: [Row] { chunks.filter { $0.outcome == .unreachable || $0.outcome == .exceeded } }

    /// The table as text lines: a header, one line per chunk, and the chunks that missed the target.
    public var lines: [String] {
        // Each heading right-aligned over its column, as the numbers below it are.
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let score = metric.map { right(String($0.rawValue.prefix(11)), 11) } ?? ""
        // A --bitrate job has no CRF: its chunks' shares instead.
        let rate = bitRate != nil
        let scoreColumn = metric != nil ? score + "  " : ""
        var out = ["chunk  " + right("frames", 6) + "  " + (rate ? right("share", 7) : right("crf", 4)) + "  " + scoreColumn + right("kb/s", 7) + (metric != nil ? "  probes" : "")]
        for r in chunks {
            var l = "\(Chunk.name(r.chunk))  " + String(format: "%6d  ", r.frames)
                + (rate ? String(format: "%7.0f  ", r.shareKbps ?? 0) : String(format: "%4.0f  ", r.crf))
            if metric != nil { l += (r.score.map { String(format: "%11.2f", $0) } ?? String(repeating: " ", count: 11)) + "  " }
            l += String(format: "%7.0f", r.kbps)
            if let p = r.probes { l += String(format: "  %6d", p) }
            if r.outcome == .unreachable { l += "  below target at the range's best end" }
            if r.outcome == .exceeded { l += "  above target at the range's worst end" }
            if let c = r.crfShift { l += "  probes chose crf \(Int(r.crf) + c)" }
            if r.finalMissed == true { l += "  final encode below target (the probe preset's shift was off)" }
            out.append(l)
        }
        if let o = overall, let bitRate {
            let frames = chunks.reduce(0) { $0 + $1.frames }
            out.append("all    " + String(format: "%6d  %7.0f  ", frames, Double(bitRate) / 1000) + String(repeating: " ", count: scoreColumn.count)
                       + String(format: "%7.0f  %+.1f %% of --bitrate (video only)", o.kbps, o.off * 100))
        }
        return out
    }
}
