import Foundation
import XCTest

/// No input crashes encoda. Small real clips in four containers are damaged in ways a copy, a download or a disk
/// really damages files (cut short, flipped bytes, zeroed ranges, broken headers and indexes), derived from a fixed
/// seed so every run sees the same files. Each one goes through `detect`, an encode of the video alone, and an encode
/// with `--mux` (audio copied for even-numbered files, re-encoded to Opus for odd ones). Every run must end
/// with exit 0 or a clean error: a non-zero exit with one `encoda: error:` line, no OUTPUT and INPUT untouched.
/// A run that exits 0 must have written every frame it planned. Death by a signal fails the test, in the
/// coordinator and in the workers it starts.
final class DamagedInputTests: XCTestCase {

    /// The seed of every damaged file; a failure names the file to reproduce. ENCODA_FUZZ_SEED (hex) explores other
    /// damage by hand; CI always runs the fixed seed.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["ENCODA_FUZZ_SEED"].flatMap { UInt64($0, radix: 16) }
        ?? 0x656E_636F_6461_0001

    /// SplitMix64: a tiny deterministic generator, so the same seed gives the same files on every machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Four shots of 20 frames (cuts at 20, 40, 60), 160x120 at 25 fps, with a sine tone: several chunks, tiny files.
    private static let shots = ["testsrc2", "mandelbrot", "smptehdbars", "rgbtestsrc"]

    /// The undamaged sources: (label, file name, codec and container arguments for ffmpeg). The AVI has no audio;
    /// an AVI with audio (and the empty drop-frame chunk ffmpeg's muxer adds to it) is covered by
    /// SourceTimingTests. Adding audio here would change every seeded damaged file, so the corpus stays as it is.
    private static let containers: [(String, String, [String])] = [
        ("ts", "clip.ts", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "25", "-c:a", "mp2", "-f", "mpegts"]),
        ("mp4", "clip.mp4", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "25", "-c:a", "aac",
                             "-movflags", "+faststart", "-f", "mp4"]),
        ("mkv", "clip.mkv", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "25", "-c:a", "aac", "-f", "matroska"]),
        ("avi", "clip.avi", ["-c:v", "mpeg4", "-q:v", "8", "-g", "25", "-an", "-f", "avi"]),
    ]

    private static func makeSource(_ path: String, _ codecArgs: [String]) throws {
        var args: [String] = []
        var graph = ""
        for (i, name) in shots.enumerated() {
            args += ["-f", "lavfi", "-i", "\(name)=s=160x120:r=25"]
            graph += "[\(i):v]trim=end_frame=20,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v\(i)];"
        }
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3.2"]
        graph += shots.indices.map { "[v\($0)]" }.joined() + "concat=n=\(shots.count):v=1:a=0[out]"
        let audio = codecArgs.contains("-an") ? [] : ["-map", "\(shots.count):a"]
        try Tool.ffmpeg(args + ["-filter_complex", graph, "-map", "[out]"] + audio + codecArgs + [path])
    }

    /// One damaged file: a name that says what was done (and reproduces it with the seed) and its bytes.
    struct Damaged {
        var name: String
        var data: Data
    }

    /// The damaged versions of `source`, derived from `rng`: 17 per source.
    static func damage(_ source: Data, label: String, rng: inout SeededGenerator) -> [Damaged] {
        let n = source.count
        var out: [Damaged] = []
        func add(_ what: String, _ data: Data) { out.append(Damaged(name: "\(label)-\(out.count)-\(what)", data: data)) }
        func truncated(_ length: Int) -> Data { source.prefix(max(0, min(n, length))) }
        func flipped(_ count: Int, in range: Range<Int>) -> (Data, [Int]) {
            var d = source
            var offsets: [Int] = []
            for _ in 0..<count {
                let at = Int.random(in: range, using: &rng)
                d[at] ^= UInt8.random(in: 1...255, using: &rng)
                offsets.append(at)
            }
            return (d, offsets)
        }
        func zeroed(_ range: Range<Int>) -> Data {
            var d = source
            d.replaceSubrange(range, with: Data(count: range.count))
            return d
        }

        // Cut short: tiny prefixes (one and two TS packets, a bit of a header), fractions, a random point, one byte.
        for length in [188, 376, 1024] { add("first\(length)", truncated(length)) }
        for percent in [10, 50, 90] { add("first\(percent)pct", truncated(n * percent / 100)) }
        let cut = Int.random(in: n / 20..<(n - n / 20), using: &rng)
        add("first\(cut)", truncated(cut))
        add("lastbytemissing", truncated(n - 1))

        // Flipped bytes anywhere, and in the header where the container and codec parameters live.
        for count in [1, 16, 256] {
            let (d, at) = flipped(count, in: 0..<n)
            add("flip\(count)" + (count == 1 ? "at\(at[0])" : ""), d)
        }
        let (head, _) = flipped(8, in: 0..<min(n, 1024))
        add("flip8inheader", head)
        // The end of the file: the index of AVI (idx1) and the cues of Matroska.
        let (tail, _) = flipped(32, in: max(0, n - 2048)..<n)
        add("flip32intail", tail)

        // Zeroed ranges: a few kilobytes somewhere, part of the header, a quarter of the file, the magic number.
        let length = Int.random(in: 1024...8192, using: &rng)
        let start = Int.random(in: 0..<(n - length), using: &rng)
        add("zero\(start)+\(length)", zeroed(start..<(start + length)))
        let headerEnd = 16 + Int.random(in: 64...512, using: &rng)
        add("zero16to\(headerEnd)", zeroed(16..<min(n, headerEnd)))
        add("zeromiddlequarter", zeroed(n / 2..<(n / 2 + n / 4)))
        var magic = source
        for i in 0..<4 { magic[i] = UInt8.random(in: 0...255, using: &rng) }
        add("badmagic", magic)
        return out
    }

    /// Why a run does not meet the promise, or nil when it does. `output` is nil for `detect`.
    private func violation(_ r: Tool.Result, input: String, inputBytes: Data, output: String?, tmp: String) -> String? {
        if r.reason == .uncaughtSignal { return "killed by signal \(r.status): \(r.stderr.prefix(600))" }
        // Workers run as child processes, each logging into TMP/logs. The coordinator silently restarts one that died
        // without an error of its own, so a crash shows as the crash report in its log, or as a second worker log
        // (with --workers 1 and nothing interrupting, a worker is only restarted when it died).
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: tmp + "/logs")) ?? []).filter { $0.hasPrefix("worker-") }
        for name in logs {
            let text = (try? String(contentsOfFile: tmp + "/logs/" + name, encoding: .utf8)) ?? ""
            if text.contains("Program crashed") || text.contains("*** Signal") || text.contains("Fatal error") {
                return "a worker crashed (TMP/logs/\(name)): \(text.suffix(600))"
            }
        }
        if logs.count > 1 { return "a worker died and was restarted \(logs.count - 1) time(s); see \(tmp)/logs" }
        if (try? Data(contentsOf: URL(fileURLWithPath: input))) != inputBytes { return "INPUT's bytes changed" }
        let lines = r.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        if let stray = lines.first(where: { !$0.hasPrefix("encoda") }) { return "stderr has a line that is not encoda's: \(stray)" }
        let errors = lines.filter { $0.hasPrefix("encoda: error:") }
        let folder = output.map { ($0 as NSString).deletingLastPathComponent }
        let besideOutput = folder.map { (try? FileManager.default.contentsOfDirectory(atPath: $0)) ?? [] } ?? []

        if r.status != 0 {
            if errors.count != 1 { return "exit \(r.status) with \(errors.count) error lines: \(r.stderr)" }
            if !besideOutput.isEmpty { return "exit \(r.status) but OUTPUT's folder holds \(besideOutput): \(errors[0])" }
            return nil
        }
        if !errors.isEmpty { return "exit 0 with an error line: \(errors[0])" }
        guard let output else {
            // detect: each stdout line is a cut, frame then seconds, in increasing order.
            let cuts = r.stdout.split(separator: "\n").map { Int($0.split(separator: "\t").first ?? "") }
            if cuts.contains(where: { $0 == nil }) { return "detect printed a line that is not a cut: \(r.stdout)" }
            let frames = cuts.compactMap { $0 }
            if frames != frames.sorted() || Set(frames).count != frames.count || frames.contains(where: { $0 <= 0 }) {
                return "detect printed cuts out of order: \(frames)"
            }
            return nil
        }
        if besideOutput != ["out.mkv"] { return "exit 0 but OUTPUT's folder holds \(besideOutput)" }
        // The frames written are the frames planned: job.json's count against ffprobe's decode of OUTPUT.
        guard let job = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/job.json"))) as? [String: Any],
              let planned = job["frameCount"] as? Int else { return "exit 0 but TMP/job.json has no frameCount" }
        guard let probe = try? Tool.run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                                    "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", output]),
              probe.status == 0, let written = Int(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return "exit 0 but ffprobe cannot count OUTPUT's frames"
        }
        if written != planned { return "exit 0 but OUTPUT has \(written) frames, job.json planned \(planned)" }
        // When encoda reports the count it wrote, that agrees too.
        if let said = r.stderr.range(of: #"wrote .*: (\d+) frames"#, options: .regularExpression).map({ String(r.stderr[$0]) }),
           let n = said.split(separator: ":").last?.split(separator: " ").first.flatMap({ Int($0) }), n != written {
            return "exit 0 but encoda said \(n) frames and OUTPUT has \(written)"
        }
        return nil
    }

    func testDamagedFilesEndInExitZeroOrACleanErrorNeverASignal() throws {
        let began = Date()
        let s = Scratch()
        var rng = SeededGenerator(state: Self.seed)
        var damaged: [Damaged] = []
        for (label, name, codecArgs) in Self.containers {
            try Self.makeSource(s.file(name), codecArgs)
            let source = try Data(contentsOf: URL(fileURLWithPath: s.file(name)))
            XCTAssertGreaterThan(source.count, 16 * 1024, "\(name) is big enough to damage in the middle")
            damaged += Self.damage(source, label: label, rng: &rng)
        }
        XCTAssertGreaterThanOrEqual(damaged.count, 60)

        // Failing inputs are kept beside the generated clips, so they can be run again by hand.
        let keep = Clips.dir + "/damaged-failures"
        var signals = 0, failures = 0, runsPerFile = 0
        var tally: [String: (ok: Int, clean: Int)] = ["detect": (0, 0), "encode": (0, 0), "mux": (0, 0)]
        var statuses: [Int32: Int] = [:]
        for (i, d) in damaged.enumerated() {
            let input = s.file(d.name + "." + (d.name.split(separator: "-").first.map(String.init) ?? "bin"))
            try d.data.write(to: URL(fileURLWithPath: input))
            let encode = ["--encoder", "h264", "--preset", "ultrafast", "--workers", "1", "--keep"]
            let runs: [(String, [String], String?)] = [
                ("detect", ["detect", input, s.file("tmp-\(i)-detect")], nil),
                ("encode", [input, s.file("out-\(i)/out.mkv"), s.file("tmp-\(i)-encode")] + encode, s.file("out-\(i)/out.mkv")),
                ("mux", [input, s.file("mux-\(i)/out.mkv"), s.file("tmp-\(i)-mux")] + encode
                    + (i % 2 == 0 ? ["--mux"] : ["--mux", "--audio-codec", "opus"]), s.file("mux-\(i)/out.mkv")),
            ]
            runsPerFile = runs.count
            for (kind, args, output) in runs {
                if let output { try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true) }
                let tmp = args[2]
                let r = try Tool.encoda(args)
                if r.reason == .uncaughtSignal { signals += 1 }
                if let problem = violation(r, input: input, inputBytes: d.data, output: output, tmp: tmp) {
                    try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                    try? d.data.write(to: URL(fileURLWithPath: keep + "/" + (input as NSString).lastPathComponent))
                    failures += 1
                    XCTFail("\(kind) \(d.name) (kept in \(keep)): \(problem)")
                } else if r.status == 0 {
                    tally[kind]!.ok += 1
                } else {
                    tally[kind]!.clean += 1
                    statuses[r.status, default: 0] += 1
                }
                try? FileManager.default.removeItem(atPath: tmp)
                if let output { try? FileManager.default.removeItem(atPath: (output as NSString).deletingLastPathComponent) }
            }
            try? FileManager.default.removeItem(atPath: input)
        }
        let detect = tally["detect"]!, encode = tally["encode"]!, mux = tally["mux"]!
        let codes = statuses.keys.sorted().map { "\($0)×\(statuses[$0]!)" }.joined(separator: " ")
        print("damaged inputs (seed 0x\(String(Self.seed, radix: 16))): \(damaged.count) files, \(damaged.count * runsPerFile) runs; "
              + "detect \(detect.ok) exit 0, \(detect.clean) clean errors; encode \(encode.ok) exit 0, \(encode.clean) clean errors; "
              + "encode --mux \(mux.ok) exit 0, \(mux.clean) clean errors; \(signals) signals; \(failures) runs failing the test; "
              + "error statuses \(codes); "
              + "\(Int(Date().timeIntervalSince(began))) s")
        XCTAssertEqual(signals, 0, "no run may die by a signal")
        // The damage is real: some files are refused, and some still encode (damage the decoder rides over).
        XCTAssertGreaterThan(detect.clean + encode.clean, 0, "some damaged files must be refused")
        XCTAssertGreaterThan(encode.ok, 0, "some damaged files must still encode")
        XCTAssertGreaterThan(mux.ok, 0, "some damaged files must still encode with their audio")
    }
}
