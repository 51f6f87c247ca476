import Foundation

/// The scheduler task a worker runs as (a Slurm array task, an OpenCue frame, a Kubernetes pod), named from the
/// environment the engine sets, so that result records, worker records and log lines say which of the engine's
/// tasks did the work (`scancel 123_4`, the frame to look at in CueGUI). Nil for a worker started by hand.
public enum SchedulerTask {
    /// The longest name kept (a name is for people and logs; a runaway variable must not bloat every record).
    static let maxLength = 200

    /// In this order: `ENCODA_WORKER_NAME` (any engine; the Kubernetes templates set it from the pod's name);
    /// Slurm's array task `slurm:JOB_TASK` (as `squeue` and `scancel` spell it) or job `slurm:JOB`, with the
    /// task rank when one job step runs several tasks; OpenCue's `opencue:JOB/FRAME` (RQD's `CUE_JOB`,
    /// `CUE_FRAME`).
    public static func name(environment env: [String: String]) -> String? {
        func value(_ key: String) -> String? {
            guard let v = env[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        var name: String? = nil
        if let n = value("ENCODA_WORKER_NAME") {
            name = n
        } else if let array = value("SLURM_ARRAY_JOB_ID"), let task = value("SLURM_ARRAY_TASK_ID") {
            name = "slurm:\(array)_\(task)"
        } else if let job = value("SLURM_JOB_ID") {
            name = "slurm:\(job)"
        } else if let job = value("CUE_JOB"), let frame = value("CUE_FRAME") {
            name = "opencue:\(job)/\(frame)"
        }
        if let n = name, n.hasPrefix("slurm:"), let ntasks = value("SLURM_NTASKS").flatMap(Int.init), ntasks > 1,
           let rank = value("SLURM_PROCID") {
            name = n + ".\(rank)"
        }
        // One line, printable: it goes into log lines and JSON records read by people.
        return name.map { String(String($0.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }).prefix(maxLength)) }
    }

    /// This process's task, read once.
    public static let current: String? = name(environment: ProcessInfo.processInfo.environment)
}
