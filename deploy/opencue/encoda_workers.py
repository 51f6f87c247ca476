#!/usr/bin/env python3
"""encoda workers as an OpenCue job, made by `encoda submit-spec opencue`.

One layer whose 8 frames each run one `encoda worker` on the job in TMP: a frame claims chunks until
none is left to claim and exits 0 (its log is the frame's log). RQD kills a frame with SIGKILL: its chunk
goes to another worker once the claim is older than --lease-seconds; a SIGTERM sent to the frame's process
instead lets it finish and publish the chunk. Needs PyPI's opencue-pyoutline (and opencue-pycue to launch):

    python3 THIS_FILE --dry-run   # print the job spec Cuebot would get; contacts nothing
    python3 THIS_FILE             # launch it on the Cuebot named by OPENCUE_HOSTS
"""
import argparse
import sys

JOB_NAME = "encoda-job1"
WORKERS = 8
CORES = 2
COMMAND = "encoda worker /shared/jobs/job1 --workers 1 --threads 2 --exit-when-idle --log-stdout"


def build_outline(show=None, shot=None):
    """The job: one Shell layer, frames 1-WORKERS, each the same worker command."""
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
