#!/usr/bin/env bash
# scripts/containers/test-containers.sh — encoda in containers, end to end. Needs root and
# scripts/containers/setup.sh (podman, local base images, docker compose/hadolint venv). Proves:
#   1. the Dockerfile lints, nfs/compose.yaml parses (and a broken copy does not);
#   2. the runtime-prebuilt target packages a host-built binary, and ENCODA_UID/GID build args take effect;
#   3. a job started by a coordinator on the host is finished by worker containers only: the first is killed
#      with `podman kill` while it holds a chunk (checked: it died owning the claim, after publishing another),
#      a second is started after that and takes the dead worker's chunk over; OUTPUT is frame-exact (lossless
#      x264, framemd5 of every frame equal to INPUT's);
#   4. compose: the coordinator service and 3, then 5 replicas of the worker service all join the same job
#      (each replica's hostname shows up in the job's worker records; the first 3 are not restarted), frame-exact;
#   5. (ENCODA_CTR_FULL=1, the default) the image builds from the committed Dockerfile, `encoda --version`
#      runs in it, it has no build tools and runs as non-root; then nfs/README.md's "Farm" commands, read from
#      that file and run as written, finish a job with a coordinator container and two worker containers.
# Every command block of nfs/README.md must be run by this script (checked at the end).
# Knobs: ENCODA_CTR_FULL=0 skips 5 (quick iteration); ENCODA_CTR_WORK (default /var/tmp/encoda-ctr-test);
# ENCODA_CTR_SCRATCH (host SwiftPM build folder, default .build-ctr).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
export PATH=/opt/swift/usr/bin:$PATH
TOOLS=${ENCODA_CTR_TOOLS:-/var/lib/encoda-containers/tools}/bin
WORK=${ENCODA_CTR_WORK:-/var/tmp/encoda-ctr-test}
FULL=${ENCODA_CTR_FULL:-1}
SCRATCH=${ENCODA_CTR_SCRATCH:-$REPO/.build-ctr}
FAST_IMAGE=localhost/encoda:prebuilt
P=encoda-ctrtest                      # prefix of the containers this script names
ENC=(--encoder h264 --lossless --preset ultrafast --keep)   # --keep: the checks read results/ after the job
SOCK=/run/podman/podman.sock
README=nfs/README.md

passed=0
started=$(date +%s)
keepers=()        # pids of lease-holding loops
service_pid=""    # podman API service, if this script started it
coordinator_pid=""

say() { printf '%s\n' "$*"; }
pass() { passed=$((passed + 1)); say "ok   $*"; }
fail() {
  say "FAIL $*"
  say "containers: $passed passed, 1 failed"
  exit 1
}
phase() { phase_t0=$(date +%s); say "== $*"; }
phase_end() { say "   ($(( $(date +%s) - phase_t0 )) s)"; }

cleanup() {
  set +e
  for k in "${keepers[@]}"; do kill "$k" 2>/dev/null; done
  [ -n "$coordinator_pid" ] && kill "$coordinator_pid" 2>/dev/null
  if [ -S "$SOCK" ] && [ -x "$TOOLS/docker-compose" ]; then
    DOCKER_HOST=unix://$SOCK ENCODA_SHARE=/nonexistent "$TOOLS/docker-compose" -f nfs/compose.yaml down -t 1 >/dev/null 2>&1
  fi
  podman ps -aq --filter "name=^$P-" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
  podman ps -aq --filter label=org.encoda.role=worker | xargs -r podman rm -f -t 0 >/dev/null 2>&1
  podman rm -f -t 0 encoda-job encoda-worker-b >/dev/null 2>&1
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null
  true
}
trap cleanup EXIT

# Polls a condition every 0.2 s. The limit only guards against hanging forever; nothing is asserted about time.
wait_until() {
  local what=$1 limit=$2; shift 2
  local end=$(( $(date +%s) + limit ))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || fail "gave up waiting (${limit} s) for: $what"
    sleep 0.2
  done
}

# The md5 of every decoded frame, one per line.
frame_md5s() { ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -f framemd5 - | awk -F', *' '!/^#/ { print $NF }'; }
check_frame_exact() { # INPUT OUTPUT LABEL
  local a b
  [ -s "$2" ] || fail "$3: OUTPUT $2 missing"
  a=$(frame_md5s "$1"); b=$(frame_md5s "$2")
  [ "$(wc -l <<<"$a")" -ge 100 ] || fail "$3: INPUT decoded to too few frames"
  [ "$a" = "$b" ] || fail "$3: OUTPUT differs from INPUT (frames: $(wc -l <<<"$a") vs $(wc -l <<<"$b"); first difference at line $(cmp <(echo "$a") <(echo "$b") | awk '{print $NF}'))"
  pass "$3: OUTPUT frame-exact against INPUT ($(wc -l <<<"$a") frames, framemd5)"
}

json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k] if not k.isdigit() else d[int(k)]
print(d if not isinstance(d,list) else len(d))' "$1" "$2"; }
# hostnames in a job's live worker records
worker_hosts() { for f in "$1"/workers/*.json; do [ -e "$f" ] && json_get "$f" host; done 2>/dev/null | sort -u; }
in_job() { worker_hosts "$1" | grep -qx "$2"; }   # TMP HOSTNAME: a live worker record of that host
results_count() { find "$1/results" -name '*.json' 2>/dev/null | wc -l; }
has_results() { [ "$(results_count "$1")" -ge "$2" ]; }   # TMP N (a function: wait_until re-evaluates it)

# A test-held claim on a chunk: a lease file refreshed every second, so the job cannot finish (and idle workers
# stay in it) until release_hold. Workers see it as a chunk being encoded by someone else.
hold_chunk() { # TMP CHUNKNAME
  local f=$1/leases/$2.lock
  printf '{"chunk":%d,"formatVersion":1,"jobID":"held-by-test","worker":{"host":"test-holder","pid":1,"token":"testholder00"}}' "$((10#$2))" > "$f.tmp"
  mv "$f.tmp" "$f"
  ( while [ -e "$f" ]; do touch -c "$f"; sleep 1; done ) &
  keepers+=($!)
  hold_file=$f
}
release_hold() { for k in "${keepers[@]}"; do kill "$k" 2>/dev/null || true; done; keepers=(); rm -f "$hold_file"; }

# The shell lines of the fenced ```sh block that follows <!-- NAME --> in nfs/README.md.
readme_block() {
  awk -v m="<!-- $1 -->" '$0 == m { armed = 1; next } armed && /^```sh$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$README"
}
run_block() { # NAME: run it as written, in this shell (so its exports stay), with SHARE set by the caller
  local code; code=$(readme_block "$1")
  [ -n "$code" ] || fail "$README has no block <!-- $1 -->"
  echo "$1" >> "$WORK/blocks-run"     # a file, not a variable: some blocks run in $(…) subshells
  say "   \$ $(head -n 1 <<<"$code")$([ "$(wc -l <<<"$code")" -gt 1 ] && echo ' …')" >&2
  eval "$code"
}

make_share() { # DIR UID:GID — a fresh share holding in.mkv, owned by UID:GID
  rm -rf "$1"; mkdir -p "$1"; cp "$WORK/in.mkv" "$1/in.mkv"; chown -R "$2" "$1"
}

# ---------------------------------------------------------------------------------------------------------------
phase "preflight"
[ "$(id -u)" = 0 ] || fail "run as root (rootful podman)"
for c in podman ffmpeg python3 setpriv; do command -v "$c" >/dev/null || fail "$c is not installed (run scripts/containers/setup.sh)"; done
podman image exists docker.io/library/debian:bookworm-slim || fail "no local debian:bookworm-slim image: run scripts/containers/setup.sh"
[ "$FULL" != 1 ] || podman image exists docker.io/library/swift:6.3-bookworm || fail "no local swift:6.3-bookworm image: run scripts/containers/setup.sh"
for t in hadolint docker-compose; do [ -x "$TOOLS/$t" ] || fail "$TOOLS/$t missing: run scripts/containers/setup.sh"; done
mkdir -p "$WORK/logs"
rm -f "$WORK/blocks-run"
cleanup
# INPUT: 320x240, 25 fps, ~10 s, four shots (cuts at frames 63, 126, 189), lossless FFV1.
if [ ! -s "$WORK/in.mkv" ]; then
  ffmpeg -nostdin -loglevel error -y \
    -f lavfi -i testsrc2=size=320x240:rate=25:duration=2.5 \
    -f lavfi -i mandelbrot=size=320x240:rate=25 \
    -f lavfi -i "life=size=320x240:rate=25:mold=10:ratio=0.5:death_color=#336699" \
    -f lavfi -i smptehdbars=size=320x240:rate=25:duration=2.5 \
    -filter_complex "[1]trim=duration=2.5,setpts=PTS-STARTPTS[m];[2]trim=duration=2.5,setpts=PTS-STARTPTS[l];[0][m][l][3]concat=n=4:v=1:a=0,format=yuv420p[v]" \
    -map "[v]" -c:v ffv1 "$WORK/in.mkv.part.mkv"
  mv "$WORK/in.mkv.part.mkv" "$WORK/in.mkv"
fi
phase_end

# ---------------------------------------------------------------------------------------------------------------
phase "lint: Dockerfile and compose file"
"$TOOLS/hadolint" Dockerfile || fail "hadolint Dockerfile"
pass "hadolint: Dockerfile clean"
ENCODA_SHARE=$WORK "$TOOLS/docker-compose" -f nfs/compose.yaml config -q || fail "nfs/compose.yaml does not parse"
services=$(ENCODA_SHARE=$WORK "$TOOLS/docker-compose" -f nfs/compose.yaml config --services | sort | tr '\n' ' ')
[ "$services" = "coordinator worker " ] || fail "compose services are '$services', want coordinator and worker"
pass "compose: nfs/compose.yaml parses, services: $services"
sed 's/^  worker:$/  worker:\n    scael: 3/' nfs/compose.yaml > "$WORK/broken-compose.yaml"
if ENCODA_SHARE=$WORK "$TOOLS/docker-compose" -f "$WORK/broken-compose.yaml" config -q 2>/dev/null; then
  fail "compose validation accepted an unknown key: the parse check proves nothing"
fi
pass "compose: a copy with a misspelt key is rejected (the parse check can fail)"
phase_end

# ---------------------------------------------------------------------------------------------------------------
phase "host build + --target runtime-prebuilt"
t0=$(date +%s)
swift build -c release --static-swift-stdlib --product encoda --scratch-path "$SCRATCH" > "$WORK/logs/host-build.log" 2>&1 \
  || { tail -n 30 "$WORK/logs/host-build.log"; fail "host release build"; }
say "   host swift build: $(( $(date +%s) - t0 )) s"
BIN=$(swift build -c release --product encoda --scratch-path "$SCRATCH" --show-bin-path)/encoda
rm -rf "$WORK/prebuilt"; mkdir -p "$WORK/prebuilt"
install -m 0755 "$BIN" "$WORK/prebuilt/encoda"; strip "$WORK/prebuilt/encoda"
BIN=$WORK/prebuilt/encoda       # world-readable copy, so the coordinator can run as the share's owner
version=$("$BIN" --version)
t0=$(date +%s)
podman build --pull=never --target runtime-prebuilt --build-context prebuilt="$WORK/prebuilt" -t "$FAST_IMAGE" . \
  > "$WORK/logs/build-prebuilt.log" 2>&1 || { tail -n 30 "$WORK/logs/build-prebuilt.log"; fail "podman build --target runtime-prebuilt"; }
say "   runtime-prebuilt image: $(( $(date +%s) - t0 )) s"
grep -q 'swift build' "$WORK/logs/build-prebuilt.log" && fail "the runtime-prebuilt target ran the Swift build stage"
[ "$(podman run --rm --network none "$FAST_IMAGE" --version)" = "$version" ] || fail "encoda --version in $FAST_IMAGE"
pass "runtime-prebuilt: host binary packaged without the Swift stage; encoda --version = $version"
podman build --pull=never --target runtime-prebuilt --build-context prebuilt="$WORK/prebuilt" \
  --build-arg ENCODA_UID=4321 --build-arg ENCODA_GID=4322 -t localhost/encoda:uid-test . > "$WORK/logs/build-uid.log" 2>&1 \
  || { tail -n 30 "$WORK/logs/build-uid.log"; fail "build with ENCODA_UID/GID"; }
ids=$(podman run --rm --network none --entrypoint id localhost/encoda:uid-test -u)":"$(podman run --rm --network none --entrypoint id localhost/encoda:uid-test -g)
podman rmi localhost/encoda:uid-test >/dev/null
[ "$ids" = "4321:4322" ] || fail "--build-arg ENCODA_UID=4321 ENCODA_GID=4322 gave $ids"
pass "build args ENCODA_UID/ENCODA_GID set the container's default user ($ids)"
phase_end

# ---------------------------------------------------------------------------------------------------------------
phase "farm: coordinator on the host, worker containers; one killed mid-chunk, one joins late"
S=$WORK/kill
make_share "$S" 1000:1000      # owned by the image's default user: the containers need no --user
T=$S/tmp
# --lease-seconds 10 (the shortest allowed): a dead worker's claim is taken over 10 s after its last heartbeat.
# --no-segmented-analysis: the host plans the whole job first, so the chunk count is known before any worker
# exists (the throttled victim would otherwise analyse INPUT at 5 % of a CPU first); the compose and farm phases
# below run the default, a plan made while the workers analyse.
setpriv --reuid=1000 --regid=1000 --clear-groups -- "$BIN" "$S/in.mkv" "$S/out.mkv" "$T" --workers 0 --lease-seconds 10 --no-segmented-analysis "${ENC[@]}" \
  > "$WORK/logs/kill-coordinator.log" 2>&1 &
coordinator_pid=$!
wait_until "the coordinator's plan (job.json)" 120 test -f "$T/job.json"
chunks=$(json_get "$T/job.json" chunks)
[ "$chunks" -ge 3 ] || fail "expected at least 3 chunks in the plan, got $chunks"
run_worker() { # NAME EXTRA-ARGS... : a worker container whose hostname is its name
  podman run -d --init --name "$P-$1" --hostname "$P-$1" --network none -v "$S:/share" "${@:2}" >/dev/null
}
# The first worker, and the victim. Its CPU is throttled only to make its chunks long enough to catch; whether it
# was caught mid-chunk is then checked from its claim, not assumed from timing. It is killed after it has
# published a chunk, in the middle of a later one.
# One worker process in it (--workers 1): the victim is one process holding one claim at a time.
run_worker w1 --cpus 0.05 "$FAST_IMAGE" worker /share/tmp --workers 1
victim_lease() { grep -lE "\"host\" *: *\"$P-w1\"" "$T"/leases/*.lock 2>/dev/null | head -n 1; }
wait_until "the first worker's first published chunk" 300 has_results "$T" 1
caught=""
end=$(( $(date +%s) + 300 ))
while [ -z "$caught" ]; do
  [ "$(date +%s)" -lt "$end" ] || fail "the victim never held a claim long enough to be caught"
  [ "$(podman inspect -f '{{.State.Running}}' "$P-w1")" = true ] || fail "the victim exited before it could be killed: $(podman logs "$P-w1" 2>&1 | tail -n 3)"
  lease=$(victim_lease)
  if [ -n "$lease" ]; then
    # Frozen, it can neither finish nor release the chunk. (Freezing can fail while the cgroup is busy: retry.)
    podman pause "$P-w1" >/dev/null 2>&1 || true
    [ "$(podman inspect -f '{{.State.Status}}' "$P-w1")" = paused ] || continue
    # Caught mid-chunk only if, frozen, it still holds that claim and has not published the chunk yet (between
    # publishing and releasing, the claim is still there).
    if [ "$(victim_lease)" = "$lease" ] && [ ! -e "$T/results/$(basename "$lease" .lock).json" ]; then
      podman kill "$P-w1" >/dev/null
      caught=$lease
    else
      podman unpause "$P-w1" >/dev/null
    fi
  fi
  sleep 0.05
done
[ "$(podman wait "$P-w1")" = 137 ] || fail "the killed worker's exit status is not 137"
victim_chunk=$(basename "$caught" .lock)
[ -e "$caught" ] && grep -qE "\"host\" *: *\"$P-w1\"" "$caught" || fail "the killed worker's claim on $victim_chunk vanished"
[ -e "$T/results/$victim_chunk.json" ] && fail "chunk $victim_chunk has a result although its worker was killed mid-chunk"
done_before_late=$(results_count "$T")
[ "$done_before_late" -lt "$chunks" ] || fail "nothing left for the late worker"
pass "podman kill: worker $P-w1 died (137) in the middle of chunk $victim_chunk, leaving its claim; $done_before_late of $chunks chunks published"
run_worker w2 "$FAST_IMAGE" worker /share/tmp
pass "late worker $P-w2 started after the job began (the only live worker now)"
end=$(( $(date +%s) + 300 ))
while kill -0 "$coordinator_pid" 2>/dev/null; do
  [ "$(date +%s)" -lt "$end" ] || fail "the job did not finish: $(tail -n 5 "$WORK/logs/kill-coordinator.log")"
  sleep 0.5
done
wait "$coordinator_pid" || { cat "$WORK/logs/kill-coordinator.log"; fail "the host coordinator failed"; }
coordinator_pid=""
pass "host coordinator (--workers 0) finished the job"
st=$(podman wait "$P-w2")
for w in w1 w2; do podman logs "$P-$w" > "$WORK/logs/kill-$w.log" 2>&1; done
[ "$st" = 0 ] || fail "worker $P-w2 exited with $st: $(tail -n 3 "$WORK/logs/kill-w2.log")"
[ "$(json_get "$T/results/$victim_chunk.json" worker.host)" = "$P-w2" ] || fail "chunk $victim_chunk was not redone by the late worker"
grep -q "took over the stale lease of $P-w1" "$WORK/logs/kill-w2.log" || fail "the late worker's log does not mention taking over $P-w1's claim"
for r in "$T"/results/*.json; do
  h=$(json_get "$r" worker.host)
  case $h in "$P-w1"|"$P-w2") ;; *) fail "chunk $(basename "$r") was encoded by '$h', not by a worker container" ;; esac
done
pass "every chunk was encoded in a worker container; $P-w2 took over chunk $victim_chunk from the killed $P-w1"
check_frame_exact "$WORK/in.mkv" "$S/out.mkv" "host coordinator + worker containers"
podman rm -f "$P-w1" "$P-w2" >/dev/null
phase_end

# ---------------------------------------------------------------------------------------------------------------
phase "compose: coordinator service + worker service scaled 3 -> 5 mid-job (docker compose via podman's API socket)"
if ! curl -fs --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
  mkdir -p "$(dirname "$SOCK")"
  podman system service --time=0 "unix://$SOCK" > "$WORK/logs/podman-service.log" 2>&1 &
  service_pid=$!
  wait_until "podman's API socket" 60 curl -fs --unix-socket "$SOCK" http://d/_ping -o /dev/null
fi
export DOCKER_HOST=unix://$SOCK
if ! docker compose version >/dev/null 2>&1; then docker() { if [ "$1" = compose ]; then shift; "$TOOLS/docker-compose" "$@"; else command docker "$@"; fi; }; fi
SHARE=$WORK/compose
make_share "$SHARE" 1000:1000
export ENCODA_IMAGE=$FAST_IMAGE
T=$SHARE/tmp
# A test-held claim on chunk 00000 (the first one any plan has) before the job starts: no race with the workers,
# and the job cannot finish before the scaling.
install -d -o 1000 -g 1000 "$T" "$T/leases"
hold_chunk "$T" 00000
run_block compose:start
wait_until "the coordinator service's plan" 120 test -f "$T/job.json"
run_block compose:workers
replica_ids() { podman ps -aq --no-trunc --filter label=com.docker.compose.project=encoda --filter label=com.docker.compose.service=worker | sort; }
replica_hosts() { for id in $(replica_ids); do podman inspect -f '{{.Config.Hostname}}' "$id"; done | sort -u; }
all_replicas_joined() { # N: N replicas exist and each one's hostname is in the job's live worker records
  local hosts; hosts=$(replica_hosts)
  [ "$(grep -c . <<<"$hosts")" = "$1" ] && [ -z "$(comm -23 <(echo "$hosts") <(worker_hosts "$T"))" ]
}
wait_until "3 worker replicas in the job" 120 all_replicas_joined 3
first3=$(for id in $(replica_ids); do echo "$id $(podman inspect -f '{{.State.StartedAt}}' "$id")"; done)
pass "compose: 3 worker replicas joined job $(json_get "$T/job.json" jobID)"
[ ! -e "$T/results/00000.json" ] && [ ! -e "$SHARE/out.mkv" ] || fail "the job finished before scaling (the held chunk should prevent that)"
run_block compose:scale
wait_until "5 worker replicas in the job" 120 all_replicas_joined 5
for line in $(awk '{print $1}' <<<"$first3"); do
  [ "$(podman inspect -f '{{.State.Running}}' "$line")" = true ] || fail "replica $line stopped when scaling"
done
now3=$(for id in $(awk '{print $1}' <<<"$first3"); do echo "$id $(podman inspect -f '{{.State.StartedAt}}' "$id")"; done)
[ "$now3" = "$first3" ] || fail "scaling to 5 restarted the first 3 replicas"
pass "compose: scaled to 5 mid-job; all 5 joined the same job, the first 3 kept running"
release_hold
replicas_exited() { [ -z "$(podman ps -q --filter label=com.docker.compose.project=encoda --filter label=com.docker.compose.service=worker)" ]; }
wait_until "the worker replicas to leave after the last chunk" 300 replicas_exited
for id in $(replica_ids); do
  st=$(podman inspect -f '{{.State.ExitCode}}' "$id")
  [ "$st" = 0 ] || fail "replica $(podman inspect -f '{{.Name}}' "$id") exited with $st: $(podman logs "$id" 2>&1 | tail -n 3)"
  # Read the whole log first: with pipefail, `podman logs | grep -q` fails when grep stops at an early match while
  # podman is still writing (SIGPIPE) — a multi-process worker's log has a "leaving" line per process.
  out=$(podman logs "$id" 2>&1)
  grep -q "leaving; encoded" <<<"$out" || fail "replica $(podman inspect -f '{{.Name}}' "$id") did not leave normally: $(tail -n 6 <<<"$out" | tr '\n' '|')"
done
pass "compose: all 5 replicas left by themselves (exit 0) when the job was done"
finish=$(run_block compose:finish 2>&1) || fail "compose wait/down: $finish"
coordinator_status=$(podman ps -a --filter label=com.docker.compose.project=encoda --filter label=com.docker.compose.service=coordinator --format '{{.ExitCode}}' | head -n 1)
[ -z "$coordinator_status" ] || fail "compose down left containers behind"
grep -q 'exited with status code 0$' <<<"$finish" || fail "the coordinator service did not exit 0: $finish"
[ -z "$(replica_ids)" ] || fail "compose down left worker replicas behind"
check_frame_exact "$WORK/in.mkv" "$SHARE/out.mkv" "compose"
phase_end

# ---------------------------------------------------------------------------------------------------------------
if [ "$FULL" = 1 ]; then
  phase "full image from the committed Dockerfile, then nfs/README.md's Farm commands as written"
  SHARE=$WORK/farm
  make_share "$SHARE" 2000:2000     # an owner that is not the image's default user: --user must match it
  T=$SHARE/tmp
  t0=$(date +%s)
  run_block farm:build > "$WORK/logs/build-full.log" 2>&1 || { tail -n 40 "$WORK/logs/build-full.log"; fail "podman build of the Dockerfile"; }
  say "   full image build: $(( $(date +%s) - t0 )) s ($(grep -c 'Using cache' "$WORK/logs/build-full.log") cached steps)"
  [ "$(podman run --rm --network none localhost/encoda --version)" = "$version" ] || fail "encoda --version in localhost/encoda"
  pass "image builds from the Dockerfile; encoda --version in it = $version"
  [ "$(podman run --rm --network none --entrypoint id localhost/encoda -u)" != 0 ] || fail "the image runs as root by default"
  podman run --rm --network none --entrypoint sh localhost/encoda -c \
    'for t in swift swiftc gcc cc c++ ld clang pkg-config apt-get; do [ "$t" = apt-get ] && continue; command -v $t && exit 1; done; [ ! -e /usr/include/libavcodec ] && ! ldd /usr/local/bin/encoda | grep "not found"' \
    || fail "the runtime image carries build tools or headers, or lacks a library"
  size=$(podman image inspect -f '{{.Size}}' localhost/encoda)
  [ "$size" -lt 450000000 ] || fail "runtime image is $((size / 1000000)) MB; expected Debian's runtime libraries + binary (< 450 MB)"
  pass "runtime image: non-root, no compilers or headers, all libraries resolve, $((size / 1000000)) MB"
  # Test-held claim on the last chunk before the job starts, so worker-b and the added worker join while it runs.
  install -d -o 2000 -g 2000 "$T" "$T/leases"
  hold_chunk "$T" 00003
  run_block farm:start
  # The plan is made while the coordinator's worker analyses INPUT; job.json holds all of it once it is complete.
  whole_plan() { [ -f "$T/job.json" ] && python3 -c 'import json,sys; sys.exit("planStreaming" in json.load(open(sys.argv[1])))' "$T/job.json"; }
  wait_until "the whole plan (job.json)" 120 whole_plan
  [ "$(json_get "$T/job.json" chunks)" = 4 ] || fail "expected the 4-chunk plan (the held chunk is 00003)"
  run_block farm:join
  wait_until "worker-b in the job" 120 in_job "$T" "$(podman inspect -f '{{.Config.Hostname}}' encoda-worker-b)"
  status=$(run_block farm:status)
  grep -q "chunks done" <<<"$status" || fail "encoda status printed: $status"
  added=$(run_block farm:add)
  added_host=$(podman inspect -f '{{.Config.Hostname}}' "$(tail -n 1 <<<"$added")")
  wait_until "the added worker in the job" 120 in_job "$T" "$added_host"
  [ "$(results_count "$T")" -lt 4 ] || fail "the job finished before the added worker joined"
  pass "farm: coordinator container + worker-b + a worker added mid-job all in job $(json_get "$T/job.json" jobID)"
  release_hold
  waited=$(run_block farm:wait)
  [ "$(head -n 1 <<<"$waited")" = 0 ] || fail "the job container exited with $(head -n 1 <<<"$waited"): $waited"
  for c in encoda-worker-b "$(tail -n 1 <<<"$added")"; do
    st=$(podman wait "$c"); [ "$st" = 0 ] || fail "worker $c exited with $st"
    out=$(podman logs "$c" 2>&1)   # whole log first: see the replicas' check above (pipefail and grep -q)
    grep -q "leaving; encoded" <<<"$out" || fail "worker $c did not leave normally: $(tail -n 6 <<<"$out" | tr '\n' '|')"
  done
  [ "$(stat -c %u:%g "$SHARE/out.mkv")" = 2000:2000 ] || fail "OUTPUT is not owned by the share's owner"
  check_frame_exact "$WORK/in.mkv" "$SHARE/out.mkv" "README farm"
  podman rm -f encoda-job encoda-worker-b "$(tail -n 1 <<<"$added")" >/dev/null
  phase_end
fi

# ---------------------------------------------------------------------------------------------------------------
phase "nfs/README.md: every command block is run by this script"
all_blocks=$(grep -oE '^<!-- [a-z]+:[a-z]+ -->$' "$README" | sed -E 's/<!-- (.*) -->/\1/' | sort)
unmarked=$(awk 'prev !~ /^<!-- [a-z]+:[a-z]+ -->$/ && /^```sh$/ { n++ } { prev = $0 } END { print n + 0 }' "$README")
[ "$unmarked" = 0 ] || fail "$README has $unmarked shell block(s) without a test marker"
if [ "$FULL" = 1 ]; then
  missing=$(comm -23 <(echo "$all_blocks") <(sort -u "$WORK/blocks-run"))
  [ -z "$missing" ] || fail "blocks of $README not run: $missing"
  pass "all $(grep -c . <<<"$all_blocks") command blocks of $README were run as written"
fi
phase_end

say "containers: total $(( $(date +%s) - started )) s"
say "containers: $passed passed, 0 failed"
