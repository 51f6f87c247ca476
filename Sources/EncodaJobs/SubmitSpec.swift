import Foundation

/// What a scheduler needs to run N encoda workers on the job in TMP: an `sbatch` script for Slurm, an outline
/// script for OpenCue's pyoutline, or an indexed Job for Kubernetes (`encoda submit-spec ENGINE TMP`). Each task
/// runs one `encoda worker TMP --workers 1 --exit-when-idle --log-stdout`: it claims chunks until none is left to
/// claim and exits 0, drains on SIGTERM (the chunk it holds is finished and published), and its result records
/// name the engine's task (`SchedulerTask`). Pure text; the files in `deploy/` are its output for example values.
public struct SubmitSpec: Sendable {
    public enum Engine: String, CaseIterable, Sendable { case slurm, opencue, kubernetes }

    /// TMP as the workers see it (absolute).
    public var tmp: String
    /// Tasks (array tasks, frames, pods) at once.
    public var workers: Int
    /// CPUs each task asks for, and its encoder threads.
    public var threads: Int
    /// The encoda binary on the workers.
    public var encoda = "encoda"
    /// Where the workers see the coordinator's input folder, if not where the coordinator sees it.
    public var inputRoot: String? = nil
    /// Kubernetes: the container image and the PersistentVolumeClaim of the share, mounted at `mountPath`.
    public var image = "localhost/encoda:latest"
    public var claim = "encoda-shared"
    public var mountPath = "/shared"
    /// Kubernetes: seconds a pod is given after SIGTERM to finish its chunk.
    public var gracePeriodSeconds = 600

    public init(tmp: String, workers: Int, threads: Int) { self.tmp = tmp; self.workers = workers; self.threads = threads }

    /// A name for the scheduler's job: "encoda-" and TMP's last component, in the characters every engine takes.
    public var jobName: String {
        let base = (tmp as NSString).lastPathComponent.lowercased()
        let dashes = CharacterSet(charactersIn: "-")
        let cleaned = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }).trimmingCharacters(in: dashes)
        // Kubernetes names end in a letter or digit: cutting to 40 may leave a dash at the end.
        let cut = String(cleaned.prefix(40)).trimmingCharacters(in: dashes)
        return "encoda-" + (cut.isEmpty ? "job" : cut)
    }

    /// The worker's command line, one word each.
    public var workerArguments: [String] {
        var a = [encoda, "worker", tmp, "--workers", "1", "--threads", String(threads), "--exit-when-idle", "--log-stdout"]
        if let inputRoot { a += ["--input-root", inputRoot] }
        return a
    }

    public func text(_ engine: Engine) -> String {
        switch engine {
        case .slurm: return slurm
        case .opencue: return opencue
        case .kubernetes: return kubernetes
        }
    }

    /// A word for sh: as it is when it is plain, else in single quotes.
    public static func shellQuote(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "/._-:=,+@%".unicodeScalars.contains($0) }
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A double-quoted string literal that Python and YAML both read as `s` (JSON's escapes are theirs too).
    public static func quoted(_ s: String) -> String {
        let data = (try? JSONEncoder().encode([s])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast()).replacingOccurrences(of: "\\/", with: "/")
    }

    private var slurm: String {
        """
        #!/bin/bash
        # encoda workers as a Slurm job array, made by `encoda submit-spec slurm`. Submit with `sbatch THIS_FILE`
        # once the job is planned (TMP/job.json exists; `encoda status TMP`). Each array task runs one worker that
        # claims chunks of the job in TMP until none is left to claim, then exits 0; its log is the .out file.
        # Drain: `scancel JOBID` (all tasks) or `scancel JOBID_TASK` (one): SIGTERM makes a worker finish and publish
        # the chunk it holds, then leave. Slurm sends SIGKILL KillWait seconds later (slurm.conf; default 30):
        # set it above one chunk's encode time, or a killed task's chunk is taken over after --lease-seconds.
        #SBATCH --job-name=\(jobName)
        #SBATCH --array=0-\(workers - 1)
        #SBATCH --ntasks=1
        #SBATCH --cpus-per-task=\(threads)
        #SBATCH --output=\(jobName)-%A_%a.out
        # #SBATCH --partition=...   (your site's partition, time limit and memory)
        # #SBATCH --time=02:00:00
        # #SBATCH --mem-per-cpu=2G
        set -eu
        exec \(workerArguments.map(Self.shellQuote).joined(separator: " "))

        """
    }

    private var opencue: String {
        // One shell command line: RQD runs a layer's command through a shell.
        let command = Self.quoted(workerArguments.map(Self.shellQuote).joined(separator: " "))
        return """
        #!/usr/bin/env python3
        \"\"\"encoda workers as an OpenCue job, made by `encoda submit-spec opencue`.

        One layer whose \(workers) frames each run one `encoda worker` on the job in TMP: a frame claims chunks until
        none is left to claim and exits 0 (its log is the frame's log). RQD kills a frame with SIGKILL: its chunk
        goes to another worker once the claim is older than --lease-seconds; a SIGTERM sent to the frame's process
        instead lets it finish and publish the chunk. Needs PyPI's opencue-pyoutline (and opencue-pycue to launch):

            python3 THIS_FILE --dry-run   # print the job spec Cuebot would get; contacts nothing
            python3 THIS_FILE             # launch it on the Cuebot named by OPENCUE_HOSTS
        \"\"\"
        import argparse
        import sys

        JOB_NAME = \(Self.quoted(jobName))
        WORKERS = \(workers)
        CORES = \(threads)
        COMMAND = \(command)


        def build_outline(show=None, shot=None):
            \"\"\"The job: one Shell layer, frames 1-WORKERS, each the same worker command.\"\"\"
            from outline import Outline
            from outline.modules.shell import Shell

            outline = Outline(JOB_NAME, show=show, shot=shot)
            outline.add_layer(Shell("workers", command=COMMAND, range="1-%d" % WORKERS, chunk=1,
                                    cores=CORES, threadable=CORES > 1))
            return outline


        def main(argv):
            parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
            parser.add_argument("--dry-run", action="store_true", help="print the job spec and launch nothing")
            parser.add_argument("--show", default=None)
            parser.add_argument("--shot", default=None)
            args = parser.parse_args(argv)
            from outline.cuerun import OutlineLauncher

            launcher = OutlineLauncher(build_outline(args.show, args.shot))
            if args.dry_run:
                print(launcher.serialize(use_pycuerun=False))
                return 0
            jobs = launcher.launch(use_pycuerun=False)
            print("launched %s with %d encoda workers" % (jobs[0].name(), WORKERS))
            return 0


        if __name__ == "__main__":
            sys.exit(main(sys.argv[1:]))

        """
    }

    private var kubernetes: String {
        let args = workerArguments.dropFirst().map(Self.quoted).joined(separator: ", ")
        return """
        # encoda workers as a Kubernetes indexed Job, made by `encoda submit-spec kubernetes`: \(workers) pods, each
        # running one `encoda worker` on the job in TMP over the ReadWriteMany claim \(claim) (see deploy/kubernetes).
        # A pod claims chunks until none is left to claim and exits 0. Deleting the Job (or a pod) sends SIGTERM:
        # the worker finishes and publishes its chunk within terminationGracePeriodSeconds, then leaves.
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: \(jobName)
          labels: {app: encoda, role: worker}
        spec:
          completionMode: Indexed
          completions: \(workers)
          parallelism: \(workers)
          backoffLimit: \(workers * 2)
          template:
            metadata:
              labels: {app: encoda, role: worker}
            spec:
              restartPolicy: OnFailure
              terminationGracePeriodSeconds: \(gracePeriodSeconds)
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
                runAsGroup: 1000
                fsGroup: 1000
              containers:
              - name: worker
                image: \(Self.quoted(image))
                command: [\(Self.quoted(encoda))]
                args: [\(args)]
                env:
                - name: POD_NAME
                  valueFrom: {fieldRef: {fieldPath: metadata.name}}
                - name: ENCODA_WORKER_NAME
                  value: "k8s:$(POD_NAME)"
                resources:
                  requests: {cpu: "\(threads)", memory: 2Gi}
                  limits: {cpu: "\(threads)", memory: 4Gi}
                volumeMounts:
                - {name: shared, mountPath: \(Self.quoted(mountPath))}
              volumes:
              - name: shared
                persistentVolumeClaim: {claimName: \(Self.quoted(claim))}

        """
    }
}
