#!/usr/bin/env bash
# encoda's workers on a real Slurm cluster: a single-node cluster on localhost (munged, slurmctld, slurmd, as
# root, under this test's own configuration, key, sockets and ports in a temporary folder; no systemd). A job is
# started with `--workers 0` (coordinate only), the array of workers made by `encoda submit-spec slurm` (the
# template in deploy/slurm) is submitted with sbatch, and one array task is cancelled with scancel while it holds
# a chunk. Checks: OUTPUT is frame-exact (framemd5 of the lossless H.264 OUTPUT equals INPUT's, frame count and
# timestamps), every chunk's result record names a task of that array, the cancelled task drained (finished
# and published its chunk, exit 0) so the scancel cost at most that chunk, and the other task's exit code is 0.
# Needs root and scripts/slurm/setup.sh. Stops everything it started, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."
ENCODA=${ENCODA_BIN:-$PWD/.build/debug/encoda}
[ "$(id -u)" = 0 ] || { echo "test-slurm: needs root (it runs slurmd and munged)" >&2; exit 1; }
for c in munged slurmctld slurmd sbatch scancel scontrol sinfo ffmpeg ffprobe python3; do
  command -v "$c" >/dev/null || { echo "test-slurm: $c not found; run scripts/slurm/setup.sh (and scripts/setup.sh)" >&2; exit 1; }
done
[ -x "$ENCODA" ] || { echo "test-slurm: $ENCODA not built; run swift build" >&2; exit 1; }

W=$(mktemp -d /tmp/encoda-slurm.XXXXXX)
chmod 755 "$W"
mkdir -p "$W/munge" "$W/state" "$W/spool" "$W/logs" "$W/media"
COORD_PID=""; CTLD_PID=""; SLURMD_PID=""; MUNGE_PID=""; JOB=""
fail() { echo "test-slurm: FAIL: $*" >&2; exit 1; }
# TERM, then KILL whatever is still there 10 s later.
stop_pids() {
  local p alive="$*"
  [ -n "${alive// /}" ] || return 0
  kill $alive 2>/dev/null
  for _ in $(seq 20); do
    local still=""; for p in $alive; do kill -0 "$p" 2>/dev/null && still="$still $p"; done
    alive=$still; [ -z "$alive" ] && return 0; sleep 0.5
  done
  kill -9 $alive 2>/dev/null
}
# Processes this test's cluster started (slurmstepd and the workers daemonize away from slurmd): recognised by
# the SLURM_CONF of this test's own temporary folder in their environment, never by name.
own_leftovers() {
  local e p
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}; p=${p%/environ}
    [ "$p" = $$ ] && continue
    tr '\0' '\n' 2>/dev/null < "$e" | grep -qxF "SLURM_CONF=$W/slurm.conf" && echo "$p"
  done
}
cleanup() {
  set +e
  if [ -n "$JOB" ]; then
    scancel "$JOB" 2>/dev/null
    for _ in $(seq 40); do squeue -h 2>/dev/null | grep -q . || break; sleep 0.5; done
  fi
  stop_pids $COORD_PID
  stop_pids $SLURMD_PID $CTLD_PID
  stop_pids $(own_leftovers)
  stop_pids $MUNGE_PID
  wait 2>/dev/null
  if [ "${KEEP_SLURM_TEST:-}" = 1 ]; then echo "test-slurm: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits (bounded) until a command succeeds; the bound is a safety net, never what the test measures.
wait_for() { local what=$1 n=$2; shift 2; for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done; fail "timed out waiting for $what"; }

# --- MUNGE with its own key and socket
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$W/munge/munge.key"
chmod 700 "$W/munge"
munged -F --force --socket="$W/munge/munge.sock" --key-file="$W/munge/munge.key" --pid-file="$W/munge/munged.pid" \
  --log-file="$W/munge/munged.log" --seed-file="$W/munge/munged.seed" > "$W/munge/munged.out" 2>&1 & MUNGE_PID=$!
chmod 755 "$W/munge"
wait_for "munged's socket" 40 test -S "$W/munge/munge.sock"

# --- slurm.conf for one node: this machine, its real CPUs and memory as slurmd -C reports them
NODE=encodanode
HW=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ UpTime=.*//')
cat > "$W/slurm.conf" <<CONF
ClusterName=encodatest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge/munge.sock
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
KillWait=60
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 $HW State=UNKNOWN
PartitionName=encoda Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$W/slurm.conf
slurmctld -D -f "$SLURM_CONF" > "$W/slurmctld.out" 2>&1 & CTLD_PID=$!
slurmd -D -f "$SLURM_CONF" -N "$NODE" > "$W/slurmd.out" 2>&1 & SLURMD_PID=$!
node_idle() { sinfo -h -n "$NODE" -o %T | grep -qx idle; }
wait_for "the node to be idle (see $W/slurmctld.log, slurmd.log)" 120 node_idle
echo "test-slurm: cluster up: $(sinfo -h -o '%P %D %T %c CPUs')"

# --- the job: lossless H.264, several one-second chunks, coordinated only (--workers 0)
IN=$W/media/in.mkv OUT=$W/media/out.mkv TMP=$W/job
ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i "testsrc2=s=320x240:r=25" -f lavfi -i "mandelbrot=s=320x240:r=25" \
  -filter_complex "[0:v]trim=end_frame=90,setpts=PTS-STARTPTS[a];[1:v]trim=end_frame=85,setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]" \
  -map "[v]" -c:v libx264 -preset veryfast -crf 18 "$IN"
"$ENCODA" "$IN" "$OUT" "$TMP" --workers 0 --encoder h264 --lossless --preset ultrafast --max-scene-length 1 \
  --lease-seconds 10 --keep > "$W/coordinator.log" 2>&1 & COORD_PID=$!
# The array is submitted at once: the tasks analyse INPUT's segments too, and the plan is published as they do.

# --- the array of workers, as deploy/slurm's template (encoda submit-spec slurm) makes it
"$ENCODA" submit-spec slurm "$TMP" --workers 2 --threads 1 --encoda "$ENCODA" > "$W/workers.sbatch"
JOB=$(cd "$W/logs" && sbatch --parsable "$W/workers.sbatch")
echo "test-slurm: submitted array job $JOB (2 tasks)"

# --- scancel one task while it holds a chunk: its worker is stopped (SIGSTOP) while its lease is on disk, so
# the cancel lands mid-chunk whatever the machine's speed; Slurm's SIGCONT + SIGTERM then drain it.
VICTIM="" VPID="" VCHUNK=""
for _ in $(seq 2000); do
  for lease in "$TMP"/leases/*.lock; do
    [ -f "$lease" ] || continue
    body=$(cat "$lease" 2>/dev/null) || continue
    [[ "$body" == *"}}" ]] || continue   # a claim is created, then written: read it only once complete
    task=$(sed -n 's/.*"task" *: *"slurm:\([^"]*\)".*/\1/p' <<<"$body")
    pid=$(sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p' <<<"$body")
    [ -n "$pid" ] || continue
    [[ "$task" =~ ^${JOB}_[01]$ ]] || fail "the claim $(basename "$lease") names task '${task}', not a task of array $JOB: $body"
    kill -STOP "$pid" 2>/dev/null || continue
    if [ "$(cat "$lease" 2>/dev/null)" = "$body" ]; then VICTIM=$task VPID=$pid VCHUNK=$(basename "$lease" .lock); break 2; fi
    kill -CONT "$pid"
  done
  [ -f "$OUT" ] && break
  sleep 0.02
done
[ -n "$VICTIM" ] || fail "never saw a Slurm task holding a chunk (the job finished first?)"
echo "test-slurm: scancel $VICTIM while it holds chunk $VCHUNK (pid $VPID, stopped)"
scancel "$VICTIM"
kill -CONT "$VPID" 2>/dev/null || true

# --- the job finishes with the other task
coordinator_done() { ! kill -0 "$COORD_PID"; }
wait_for "the coordinator to finish (see $W/coordinator.log)" 600 coordinator_done
wait "$COORD_PID" || { cat "$W/coordinator.log" >&2; fail "the coordinator exited non-zero"; }
COORD_PID=""
job_gone() { ! squeue -h -j "$JOB" | grep -q .; }
wait_for "the array's tasks to end" 240 job_gone
# The whole plan (job.json holds it once the last chunk is published).
CHUNKS=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "planStreaming" not in j; print(len(j["chunks"]))' "$TMP/job.json")
[ "$CHUNKS" -ge 4 ] || fail "expected at least 4 chunks, the plan has $CHUNKS"
grep -q "joining job .* while it is analysed" "$W/logs/"*.out || fail "no task joined the job while it was analysed: $(cat "$W/logs/"*.out | head -20)"
echo "test-slurm: $CHUNKS chunks, planned while the tasks analysed INPUT"

# OUTPUT is frame-exact: every decoded frame's MD5 equals INPUT's, with INPUT's timestamps.
framemd5() { ffmpeg -hide_banner -loglevel error -nostdin -i "$1" -map 0:v:0 -f framemd5 - | grep -v '^#' | awk -F, '{print $3 $NF}'; }
framemd5 "$IN" > "$W/in.md5"; framemd5 "$OUT" > "$W/out.md5"
FRAMES=$(wc -l < "$W/in.md5")
[ "$FRAMES" = 175 ] || fail "INPUT should have 175 frames, has $FRAMES"
cmp -s "$W/in.md5" "$W/out.md5" || { diff "$W/in.md5" "$W/out.md5" | head >&2; fail "OUTPUT's frames differ from INPUT's"; }
echo "test-slurm: OUTPUT frame-exact: $FRAMES frames, framemd5 (timestamps and pictures) equal to INPUT's"

# Every chunk's result names a task of this array; the cancelled task published the chunk it held.
python3 - "$TMP" "$JOB" "$CHUNKS" "$VICTIM" "$VCHUNK" <<'PY'
import json, os, re, sys
tmp, job, chunks, victim, vchunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
results = sorted(os.listdir(os.path.join(tmp, "results")))
assert len(results) == chunks, f"{len(results)} result records for {chunks} chunks"
tasks = {}
for name in results:
    r = json.load(open(os.path.join(tmp, "results", name)))
    task = r["worker"].get("task", "")
    assert re.fullmatch(rf"slurm:{job}_[01]", task), f"{name}: worker task {task!r} is not a task of array {job}"
    tasks[name[:-5]] = task
assert tasks[vchunk] == "slurm:" + victim, f"chunk {vchunk} was held by {victim} but published by {tasks[vchunk]}"
files = os.listdir(os.path.join(tmp, "chunks"))
failures = os.listdir(os.path.join(tmp, "failures")) if os.path.isdir(os.path.join(tmp, "failures")) else []
# At most the cancelled chunk is paid twice (here: not at all, since the worker drained).
assert len(files) <= chunks + 1, f"{len(files)} chunk files for {chunks} chunks: the cancel cost more than one chunk"
assert not failures, f"failed attempts recorded: {failures}"
by_task = {t: sum(1 for v in tasks.values() if v == t) for t in sorted(set(tasks.values()))}
print(f"test-slurm: {chunks} results, all by tasks of array {job} {by_task}; {len(files)} chunk files, no failures")
PY

# The cancelled task drained and left on its own; the other ended with exit code 0.
grep -q "draining" "$W/logs/"*"-${VICTIM}.out" || fail "task $VICTIM's log shows no drain: $(cat "$W/logs/"*"-${VICTIM}.out")"
grep -q "leaving; encoded" "$W/logs/"*"-${VICTIM}.out" || fail "task $VICTIM did not leave cleanly: $(cat "$W/logs/"*"-${VICTIM}.out")"
OTHER=${JOB}_$(( 1 - ${VICTIM#*_} ))
scontrol -o show job "$OTHER" | grep -q "JobState=COMPLETED .*ExitCode=0:0" \
  || fail "task $OTHER did not complete with exit code 0: $(scontrol -o show job "$OTHER")"
grep -q "1 encoder thread(s)" "$W/logs/"*"-${OTHER}.out" || fail "task $OTHER's log: $(cat "$W/logs/"*"-${OTHER}.out")"
echo "test-slurm: task $VICTIM drained after scancel; task $OTHER completed with exit code 0"
echo "test-slurm: passed"
