#!/usr/bin/env bash
# Part 2 of the farm tests, run INSIDE the NFS guest by test-farm.sh (through run.sh): the cluster scenarios over
# kernel NFS with two client hosts. Writes OUTPUTs and evidence into WORK (a host folder); the host then checks
# the OUTPUTs frame by frame. Exits non-zero if any check here fails.
#   farm-guest.sh ENCODA WORK
set -uo pipefail
shopt -s nullglob   # a log folder may be empty (a coordinator with --workers 0 starts no local workers)
E=$1 W=$2
: "${NFS_A:?run me through scripts/nfs/run.sh}" "${NFS_B:?}" "${AS_HOST:?}"
LEASE=12   # seconds; the plan records it, so every worker agrees (10 s is the minimum encoda accepts)
enc=(--encoder h264 --lossless --preset ultrafast --threads 1 --lease-seconds "$LEASE" --keep)   # --keep: the checks read results/ after the job
bad=0 good=0
pass() { echo "PASS: $*"; good=$((good + 1)); echo "$good" > "$W/guest.passes"; }
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }
say() { echo "  $*"; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 )) s"; }
# listed DIR NAME: NAME is in a fresh listing of DIR (a lookup by name could be answered "not found" from the
# client's negative-lookup cache for ~30 s; a listing revalidates the folder)
listed() { ls "$1" 2>/dev/null | grep -qx "$2"; }
# wait_until SECONDS WHAT CMD...: poll CMD until it succeeds (a safety net, not an assertion on speed)
wait_until() {
  local limit=$1 what=$2; shift 2
  local end=$(( $(date +%s) + limit ))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || { fail "gave up after ${limit} s waiting for: $what"; return 1; }
    sleep 0.3
  done
}
# encodes LOG...: "CHUNK COUNT" for every chunk an "encoding frames" line names, over all LOGs
encodes() { [ $# -gt 0 ] || return 0; cat "$@" 2>/dev/null </dev/null | grep -o 'chunk [0-9]*: encoding frames' | awk '{print $2}' | tr -d : | sort | uniq -c | awk '{print $2, $1}'; }
count_of() { awk -v c="$1" '$1 == c {print $2}' <<<"$2"; }
logs="$W/logs"; mkdir -p "$logs"
share_a=$NFS_A/farm share_b=$NFS_B/farm
mkdir -p "$share_a"
cp "$W/clips/"*.mkv "$share_a/"

# --- 0. what the protocol relies on: a listing is fresh, a lookup of a missing name is not -----------------------
echo "== NFS semantics ($(grep -E ' /mnt/nfs-a ' /proc/mounts | awk '{print $3, $4}' | cut -c1-60)...)"
mkdir -p "$share_a/probe"
$AS_HOST B stat "$share_b/probe/late" >/dev/null 2>&1   # B looks the name up: "not found" (now cached)
$AS_HOST A sh -c "echo x > $share_a/probe/late"          # A creates it
if $AS_HOST B stat "$share_b/probe/late" >/dev/null 2>&1; then neg="B sees it by name at once (no negative-lookup cache in effect)"
else neg="B still gets 'not found' by name (negative-lookup cache)"; fi
if $AS_HOST B ls "$share_b/probe" | grep -qx late; then
  if $AS_HOST B stat "$share_b/probe/late" >/dev/null 2>&1; then
    pass "a name created on A is in B's listing at once, and found by name after the listing ($neg before it)"
  else fail "B lists the new name but still cannot stat it"; fi
else fail "B's fresh listing does not show a file A created: the protocol's assumption is wrong here"; fi
# A claim re-checks its own chunk's result by name after only opening results/ (WorkDirectory.exists): opening a
# folder revalidates it as a listing does (close-to-open), so a "not found" cached before must not survive it.
$AS_HOST B stat "$share_b/probe/later" >/dev/null 2>&1   # B looks the name up: "not found" (now cached)
$AS_HOST A sh -c "echo x > $share_a/probe/later"
if $AS_HOST B python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)); os.stat(sys.argv[2])' \
     "$share_b/probe" "$share_b/probe/later" 2>/dev/null; then
  pass "a name created on A is found by name on B after B opens the folder, without listing it"
else fail "B opened the folder and still cannot stat a name A created: WorkDirectory.exists is not fresh here"; fi

# --- 1. a worker on B killed mid-chunk, a new worker on B --------------------------------------------------------
echo "== 1. coordinator + worker on A, worker on B killed with SIGKILL mid-chunk, new worker on B   [$(elapsed)]"
J=$share_a/job-kill; mkdir -p "$J"; cp "$W/plan-kill/scenes.json" "$J/"
# The coordinator plans and joins; its worker on A starts once B1 is encoding, so that B1 (whose start-up under
# emulation can take tens of seconds) is sure to hold a chunk when it is killed.
$AS_HOST A "$E" "$share_a/kill.mkv" "$W/out-kill.mkv" "$J" "${enc[@]}" --workers 0 > "$logs/kill-coordinator.log" 2>&1 &
coord=$!
wait_until 240 "job.json of job-kill on B" listed "$share_b/job-kill" job.json
$AS_HOST B "$E" worker --workers 1 "$share_b/job-kill" > "$logs/kill-b1.log" 2>&1 &
b1=$!
wait_until 240 "worker B1 to start a chunk" grep -q "encoding frames" "$logs/kill-b1.log"
$AS_HOST A "$E" worker --workers 1 "$share_a/job-kill" > "$logs/kill-a1.log" 2>&1 &
a1=$!
kill -9 "$b1"; wait "$b1" 2>/dev/null
victim=$(grep -o 'chunk [0-9]*: encoding frames' "$logs/kill-b1.log" | tail -1 | awk '{print $2}' | tr -d :)
b1pid=$(grep -o 'encoda worker encoda-hostB:[0-9]*' "$logs/kill-b1.log" | head -1 | cut -d: -f2)
say "killed worker B1 (pid $b1pid) while it encoded chunk $victim"
$AS_HOST B "$E" worker --workers 1 "$share_b/job-kill" > "$logs/kill-b2.log" 2>&1 &
b2=$!
wait "$a1"; rca=$?
[ "$rca" = 0 ] || fail "worker A1 exit $rca: $(tail -2 "$logs/kill-a1.log")"
wait "$coord"; rc=$?
wait "$b2"; rc2=$?
[ "$rc" = 0 ] && [ "$rc2" = 0 ] && pass "job finished: coordinator exit 0, new worker B2 exit 0" || fail "coordinator exit $rc, B2 exit $rc2: $(tail -3 "$logs/kill-coordinator.log")"
cp -r "$J/logs" "$logs/kill-tmp-logs"; cp -r "$J/results" "$J/failures" "$logs/" 2>/dev/null
mv "$logs/results" "$logs/kill-results"; mv "$logs/failures" "$logs/kill-failures"
counts=$(encodes "$logs"/kill-*.log "$logs"/kill-tmp-logs/*.log)
say "encodes started per chunk (all worker logs): $(echo $counts)"
others_twice=$(awk -v v="$victim" '$1 != v && $2 != 1' <<<"$counts" | wc -l)
chunks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["chunks"]))' "$J/job.json")
[ "$(wc -l <<<"$counts")" = "$chunks" ] || fail "not every one of the $chunks chunks was encoded: $counts"
if [ "$(count_of "$victim" "$counts")" = 2 ] && [ "$others_twice" = 0 ]; then
  pass "the killed worker's chunk $victim was encoded twice (killed once, re-encoded once); each of the other $((chunks - 1)) chunks exactly once"
else fail "chunk $victim encoded $(count_of "$victim" "$counts") times, $others_twice other chunk(s) not exactly once"; fi
# Taken over, or cleared by one worker while another claimed the free name in that moment (both say so).
if grep -h -e "took over the stale lease of encoda-hostB pid $b1pid" -e "cleared the stale lease of encoda-hostB pid $b1pid" \
     "$logs"/kill-*.log "$logs"/kill-tmp-logs/*.log | grep -q "chunk $victim"; then
  pass "chunk $victim's lease was taken over from the killed worker (its process is gone, or its heartbeat is older than the lease): $(grep -h -e "took over the stale lease" -e "cleared the stale lease" "$logs"/kill-*.log "$logs"/kill-tmp-logs/*.log | head -1 | cut -d' ' -f3-)"
else fail "no worker took over B1's stale lease of chunk $victim"; fi
# A takeover is not the chunk's fault: killing its owner must not count against --max-attempts.
records=("$logs/kill-failures/$victim-"*.json)   # nullglob: empty when there is none
if [ ${#records[@]} -gt 0 ]; then fail "a failure record was written for chunk $victim, whose worker was only killed: ${records[*]}"
else pass "no failure record for chunk $victim: the kill of its worker (pid $b1pid) is not counted against the chunk"; fi
if grep -q "\"pid\":$b1pid" "$logs/kill-results/$victim.json"; then fail "chunk $victim's result names the killed worker"
else pass "chunk $victim's result names $(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["worker"]; print(w["host"], "pid", w["pid"])' "$logs/kill-results/$victim.json"), not the killed worker"; fi
hosts=$(cat "$logs"/kill-results/*.json | grep -o '"host":"[^"]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
say "results by host: $hosts"
say "worker B2 (started after the kill) encoded $(grep -c ': published' "$logs/kill-b2.log") chunk(s)"
$AS_HOST B "$E" status "$share_b/job-kill" --json > "$logs/kill-status.json" 2>&1
grep -q '"state":"finished"' "$logs/kill-status.json" && grep -q "\"chunksDone\":$chunks" "$logs/kill-status.json" \
  && pass "status --json on B: finished, $chunks/$chunks chunks done" || fail "status --json on B: $(cat "$logs/kill-status.json")"

# --- 2. the coordinator killed (with its workers) and re-run ------------------------------------------------------
echo "== 2. coordinator and its workers killed with SIGKILL mid-job, then re-run with the same command   [$(elapsed)]"
J=$share_a/job-resume; mkdir -p "$J"; cp "$W/plan-kill/scenes.json" "$J/"
# --preset medium: chunks slow enough that the kill lands while chunks remain, however slow the emulated guest is.
cmd=("$E" "$share_a/kill.mkv" "$W/out-resume.mkv" "$J" "${enc[@]}" --preset medium --workers 2)
$AS_HOST A "${cmd[@]}" > "$logs/resume-run1.log" 2>&1 &
run1=$!
# Counted by a glob (a fresh listing) in this shell: a process per look costs too long on a loaded emulated guest.
at_least_published() { local records=("$J"/results/[0-9]*.json); [ ${#records[@]} -ge "$1" ]; }
wait_until 300 "two published chunks in job-resume" at_least_published 2
# The coordinator's machine loses every encoda process at once: the coordinator and the workers it started.
kill -9 "$run1" $(pgrep -P "$run1"); wait "$run1" 2>/dev/null
mkdir -p "$logs/resume-before"; cp "$J"/results/*.json "$logs/resume-before/"
before=$(ls "$logs/resume-before" | sed 's/\.json$//' | sort)
say "killed the coordinator's process group with $(echo $before | wc -w) chunk(s) published: $(echo $before); leases left behind: $(ls "$J/leases" | tr '\n' ' ')"
cp -r "$J/logs" "$logs/resume-logs-run1"
$AS_HOST A "${cmd[@]}" > "$logs/resume-run2.log" 2>&1; rc=$?
[ "$rc" = 0 ] && pass "the re-run finished (exit 0): $(grep -o 'resuming job.*' "$logs/resume-run2.log")" || fail "re-run exit $rc: $(tail -3 "$logs/resume-run2.log")"
run2_logs=$(comm -13 <(ls "$logs/resume-logs-run1") <(ls "$J/logs") | sed "s|^|$J/logs/|")
again=0
for c in $before; do
  cmp -s "$logs/resume-before/$c.json" "$J/results/$c.json" || { fail "chunk $c's result changed after the re-run"; again=1; }
  if [ -n "$run2_logs" ] && grep -h "chunk $c: encoding" $run2_logs >/dev/null; then fail "chunk $c was published before the kill and encoded again"; again=1; fi
done
redone=$(encodes $run2_logs)
say "the re-run's workers encoded: $(echo $redone)"
if [ "$again" = 0 ] && [ -n "$redone" ]; then
  pass "the re-run encoded only what was not published ($(echo "$redone" | wc -l) chunk(s)); none of the $(echo $before | wc -w) chunks published before the kill was encoded again, their result records are byte-identical"
elif [ -z "$redone" ]; then fail "the re-run encoded nothing: the kill did not stop the workers, so resuming was not tested"; fi

# --- 3. many workers racing; one with its clock 10 minutes ahead; drain ----------------------------------------
echo "== 3. six workers racing for claims (3 on A, 3 on B, one on B with its clock 10 min ahead); SIGTERM drains one   [$(elapsed)]"
J=$share_a/job-race; mkdir -p "$J"; cp "$W/plan-race/scenes.json" "$J/"
$AS_HOST A "$E" "$share_a/race.mkv" "$W/out-race.mkv" "$J" "${enc[@]}" --workers 0 > "$logs/race-coordinator.log" 2>&1 &
coord=$!
wait_until 240 "job.json of job-race" listed "$share_b/job-race" job.json
pids=()
for i in 1 2 3; do $AS_HOST A "$E" worker --workers 1 "$share_a/job-race" > "$logs/race-a$i.log" 2>&1 & pids+=($!); done
for i in 1 2; do $AS_HOST B "$E" worker --workers 1 "$share_b/job-race" > "$logs/race-b$i.log" 2>&1 & pids+=($!); done
# A host whose clock is wrong: only its clock (FAKE_UTIME=0, NO_FAKE_STAT=1: file times stay the server's).
$AS_HOST B env FAKE_UTIME=0 NO_FAKE_STAT=1 faketime -f "+600s" "$E" worker --workers 1 "$share_b/job-race" > "$logs/race-b3-skewed.log" 2>&1 & pids+=($!)
drained=${pids[0]}
wait_until 240 "worker A1 to start a chunk" grep -q "encoding frames" "$logs/race-a1.log"
kill -TERM "$drained"
wait "$drained"; drc=$?
dchunk=$(grep -o 'chunk [0-9]*: encoding frames' "$logs/race-a1.log" | tail -1 | awk '{print $2}' | tr -d :)
dpid=$(grep -o 'encoda worker encoda-hostA:[0-9]*' "$logs/race-a1.log" | head -1 | cut -d: -f2)
if [ "$drc" = 0 ] && grep -q "chunk $dchunk: published" "$logs/race-a1.log" && grep -q "\"pid\":$dpid" "$J/results/$dchunk.json" \
   && [ "$(grep -c 'encoding frames' "$logs/race-a1.log")" = "$(grep -c ': published' "$logs/race-a1.log")" ]; then
  pass "SIGTERM during chunk $dchunk: worker A1 finished it, published it (its result names pid $dpid) and exited 0"
else fail "drain: exit $drc, chunk $dchunk: $(tail -3 "$logs/race-a1.log")"; fi
wait "$coord"; rc=$?
wrc=0; for p in "${pids[@]:1}"; do wait "$p" || wrc=$?; done
[ "$rc" = 0 ] && [ "$wrc" = 0 ] && pass "race job finished: coordinator (--workers 0) and the 5 other workers exit 0" || fail "race: coordinator exit $rc, workers $wrc"
counts=$(encodes "$logs"/race-*.log)
chunks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["chunks"]))' "$J/job.json")
multi=$(awk '$2 != 1' <<<"$counts" | wc -l)
lost=$(grep -ho 'claim races lost [0-9]*' "$logs"/race-*.log | awk '{s += $4} END {print s + 0}')
won=$(grep -ho 'claims won [0-9]*' "$logs"/race-*.log | awk '{s += $3} END {print s + 0}')
stolen=$(grep -ho 'stale leases taken over [0-9]*' "$logs"/race-*.log | awk '{s += $5} END {print s + 0}')
discarded=$(grep -ho 'results discarded [0-9]*' "$logs"/race-*.log | awk '{s += $3} END {print s + 0}')
say "per worker: $(for f in "$logs"/race-[ab]*.log; do printf '%s: %s; ' "$(basename "$f" .log)" "$(grep -o 'encoded [0-9]* chunk' "$f" | tail -1)"; done)"
if [ "$(wc -l <<<"$counts")" = "$chunks" ] && [ "$multi" = 0 ] && [ "$won" = "$chunks" ] && [ "$stolen" = 0 ] && [ "$discarded" = 0 ]; then
  pass "exclusive claims: $chunks chunks, $won claims won, $lost exclusive creates lost to another worker, 0 chunks with two owners, 0 leases stolen (also by the skewed-clock worker), 0 results discarded"
else fail "claims: $(wc -l <<<"$counts")/$chunks chunks encoded, $multi encoded more than once, $won won, $stolen stolen, $discarded discarded"; fi
grep -q 'encoding frames' "$logs/race-b3-skewed.log" && pass "the worker with its clock 10 min ahead encoded $(grep -c ': published' "$logs/race-b3-skewed.log") chunk(s) and took over no fresh lease" \
  || say "(the skewed worker got no chunk this time)"

# --- 4. a chunk that always fails: quarantined, job exits non-zero naming it, the rest kept ----------------------
echo "== 4. chunk 00001 always fails (ENCODA_TEST_FAIL_CHUNKS=1, --max-attempts 2) on A and B   [$(elapsed)]"
J=$share_a/job-fail; mkdir -p "$J"; cp "$W/plan-fail/scenes.json" "$J/"
cmd=("$E" "$share_a/fail.mkv" "$W/out-fail.mkv" "$J" "${enc[@]}" --max-attempts 2 --workers 1)
$AS_HOST A env ENCODA_TEST_FAIL_CHUNKS=1 "${cmd[@]}" > "$logs/fail-run1.log" 2>&1 &
coord=$!
wait_until 240 "job.json of job-fail" listed "$share_b/job-fail" job.json
$AS_HOST B env ENCODA_TEST_FAIL_CHUNKS=1 "$E" worker --workers 1 "$share_b/job-fail" > "$logs/fail-b.log" 2>&1 &
bw=$!
wait "$coord"; rc=$?
wait "$bw"; brc=$?
chunks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["chunks"]))' "$J/job.json")
if [ "$rc" = 70 ] && grep -q "1 chunk (00001) failed" "$logs/fail-run1.log" && [ -f "$J/quarantine/00001.json" ]; then
  pass "coordinator exit 70 naming it: $(grep -o 'error: .*' "$logs/fail-run1.log" | cut -c1-200)"
else fail "quarantine: coordinator exit $rc: $(tail -2 "$logs/fail-run1.log")"; fi
kept=$(ls "$J/results" | grep -c '^[0-9]*\.json$')
[ "$kept" = $((chunks - 1)) ] && [ ! -e "$J/results/00001.json" ] && pass "the other $kept chunks are kept in TMP; failure records for 00001: $(ls "$J/failures" | grep -c '^00001-')" \
  || fail "kept $kept results (wanted $((chunks - 1)))"
[ "$brc" = 0 ] && pass "worker on B left when only the quarantined chunk remained (exit 0)" || fail "worker on B exit $brc"
$AS_HOST A "$E" status "$J" > "$logs/fail-status.txt" 2>&1
grep -q "quarantined 00001" "$logs/fail-status.txt" && pass "status shows: $(grep quarantined "$logs/fail-status.txt" | head -1 | cut -c1-160)" || fail "status: $(cat "$logs/fail-status.txt")"
cp -r "$J/logs" "$logs/fail-logs-run1"
$AS_HOST B "$E" clean "$share_b/job-fail" --quarantine > "$logs/fail-clean.txt" 2>&1 || fail "clean --quarantine: $(cat "$logs/fail-clean.txt")"
$AS_HOST A "${cmd[@]}" > "$logs/fail-run2.log" 2>&1; rc=$?
run2_logs=$(comm -13 <(ls "$logs/fail-logs-run1") <(ls "$J/logs") | sed "s|^|$J/logs/|")
redone=$(encodes $run2_logs)
if [ "$rc" = 0 ] && [ "$(echo $redone)" = "00001 1" ]; then pass "after clean --quarantine the re-run (no test hook) encoded only chunk 00001 and finished (exit 0)"
else fail "re-run exit $rc, encoded: $(echo $redone)"; fi

# --- 5. a plan that streams: both hosts analyse INPUT's segments by lease and encode chunks planned so far; a
# worker that joins while the analysis runs takes a segment first --------------------------------------------------
echo "== 5. --segmented-analysis (the plan streams), coordinator with --workers 0 on A; a worker on A and one on B, a second on B joins late   [$(elapsed)]"
J=$share_a/job-seg; mkdir -p "$J"
# The workers wait first, so both are there when analysis.json appears (under emulation a worker's start-up
# can take longer than the whole analysis). So does the late worker B2, held stopped (SIGSTOP) until the first
# chunk is planned: it then joins at once, as a worker started at that moment on a real host would, instead of
# after a start-up that takes up to 30 s on a loaded emulated guest.
$AS_HOST A "$E" worker --workers 1 "$share_a/job-seg" > "$logs/seg-a.log" 2>&1 &
wa=$!
$AS_HOST B "$E" worker --workers 1 "$share_b/job-seg" > "$logs/seg-b.log" 2>&1 &
wb=$!
$AS_HOST B "$E" worker --workers 1 "$share_b/job-seg" > "$logs/seg-b2-late.log" 2>&1 &
wb2=$!
wait_until 240 "worker B2 to wait for the job" grep -q "waiting for a job" "$logs/seg-b2-late.log"
kill -STOP "$wb2"
wait_until 240 "worker A to wait for the job" grep -q "waiting for a job" "$logs/seg-a.log"
wait_until 240 "worker B to wait for the job" grep -q "waiting for a job" "$logs/seg-b.log"
# --max-scene-length 0: one chunk per shot, each shot spanning one to two segments, so chunks are planned more
# slowly than segments are measured and a worker that joins finds analysis to do.
$AS_HOST A "$E" "$share_a/seg.mkv" "$W/out-seg.mkv" "$J" "${enc[@]}" --workers 0 --segmented-analysis --max-scene-length 0 \
  > "$logs/seg-coordinator.log" 2>&1 &
coord=$!
wait_until 240 "the first plan record of job-seg on B" listed "$share_b/job-seg/plan" 00000.json
late_segments=$(ls "$share_b/job-seg/analysis/results" 2>/dev/null | grep -c '^[0-9]*\.json$')
late_chunks=$(ls "$share_b/job-seg/plan" 2>/dev/null | grep -c '^[0-9]*\.json$')
kill -CONT "$wb2"
say "worker B2 let go after the first plan record, with $late_segments segment(s) published and $late_chunks chunk(s) planned"
wait "$coord"; rc=$?
wait "$wa"; rca=$?
wait "$wb"; rcb=$?
wait "$wb2"; rcb2=$?
[ "$rc" = 0 ] && [ "$rca" = 0 ] && [ "$rcb" = 0 ] && [ "$rcb2" = 0 ] && pass "segmented job finished: coordinator, worker A, worker B and the late worker B2 exit 0" \
  || fail "segmented job: coordinator exit $rc, A $rca, B $rcb, B2 $rcb2: $(tail -3 "$logs/seg-coordinator.log")"
cp -rp "$J/plan" "$logs/seg-plan"; cp -rp "$J/results" "$logs/seg-results"; cp -rp "$J/analysis/results" "$logs/seg-analysis-results"
segments=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["segments"]))' "$J/analysis.json")
by_host=$(cat "$J"/analysis/results/*.json | grep -o '"host":"[^"]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
published=$(ls "$J/analysis/results" | grep -c '^[0-9]*\.json$')
say "the job cut $segments analysis segments ($(grep -o 'planning while INPUT is analysed.*' "$logs/seg-coordinator.log")); by host: $by_host"
[ "$segments" -ge 8 ] || fail "only $segments analysis segments: too few for the analysis to overlap the encodes"
[ "$published" = "$segments" ] && pass "every one of the $segments analysis segments published once" || fail "$published of $segments segments published"
if grep -q encoda-hostA <<<"$by_host" && grep -q encoda-hostB <<<"$by_host"; then
  pass "both hosts analysed segments of INPUT ($by_host)"
else fail "the analysis was not shared by both hosts: $by_host"; fi
grep -q "segment [0-9]*: published" "$logs/seg-b.log" && grep -q "chunk [0-9]*: published" "$logs/seg-b.log" \
  && pass "worker B went on from analysis to encoding: $(grep -c 'segment [0-9]*: published' "$logs/seg-b.log") segment(s), $(grep -c 'chunk [0-9]*: published' "$logs/seg-b.log") chunk(s)" \
  || fail "worker B's log shows no segment or no chunk published: $(tail -3 "$logs/seg-b.log")"
say "workers A and B: $(grep -ho 'analysed [0-9]* segment(s)$\|the plan is complete.*' "$logs/seg-a.log" "$logs/seg-b.log" | tr '\n' ';')"
# The records tell the rest: the plan as published, who encoded what, and when.
python3 - "$J" <<'PY' > "$logs/seg-records.txt" 2>&1
import glob, json, os, sys, datetime
J = sys.argv[1]
def load(pattern):
    return {os.path.basename(p): json.load(open(p)) for p in sorted(glob.glob(os.path.join(J, pattern)))}
plan, results, segs = load("plan/*.json"), load("results/*.json"), load("analysis/results/*.json")
frames = max(r["segment"]["frames"]["end"] for r in segs.values())
ok = True
def check(cond, good, bad):
    global ok
    print(("PASS: " if cond else "FAIL: ") + (good if cond else bad)); ok = ok and cond
# The plan: one record per chunk, named by it, in order and contiguous over every frame; only the last says so.
ids = [p["chunk"]["id"] for p in plan.values()]
names_match = all(n == "%05d.json" % p["chunk"]["id"] for n, p in plan.items())
contiguous = all(a["chunk"]["range"]["end"] == b["chunk"]["range"]["start"] for a, b in zip(plan.values(), list(plan.values())[1:]))
covers = plan and list(plan.values())[0]["chunk"]["range"]["start"] == 0 and list(plan.values())[-1]["chunk"]["range"]["end"] == frames
lasts = [p["chunk"]["id"] for p in plan.values() if p["last"]]
check(ids == list(range(len(plan))) and names_match and contiguous and covers and lasts == [len(plan) - 1],
      "TMP/plan: %d records, each published once under its chunk's name, contiguous over frames [0, %d), only the last (%05d) has last: true" % (len(plan), frames, len(plan) - 1),
      "TMP/plan: ids %s, names match %s, contiguous %s, covers [0, %d) %s, records with last: true %s" % (ids, names_match, contiguous, frames, covers, lasts))
check(sorted(int(n[:5]) for n in results) == ids,
      "the chunks encoded are the chunks planned: %d result records for %d plan records" % (len(results), len(plan)),
      "result records for chunks %s, plan records for %s" % (sorted(int(n[:5]) for n in results), ids))
# Chunks are encoded while the analysis runs: the first chunk starts before the last segment is measured.
def at(t): return datetime.datetime.fromtimestamp(t).strftime("%H:%M:%S.%f")[:-3]
first_chunk = min(r["startedAt"] for r in results.values())
last_segment = max(r["finishedAt"] for r in segs.values())
early = sum(r["startedAt"] < last_segment for r in results.values())
check(first_chunk < last_segment,
      "chunks were encoded while INPUT was analysed: the first chunk started at %s, the last segment finished at %s (%.1f s later); %d of %d chunks started before it"
      % (at(first_chunk), at(last_segment), last_segment - first_chunk, early, len(results)),
      "no chunk started before the last segment was measured (first chunk %s, last segment %s)" % (at(first_chunk), at(last_segment)))
hosts = sorted({r["worker"]["host"] for r in results.values()})
check(hosts == ["encoda-hostA", "encoda-hostB"],
      "both hosts encoded chunks: %s" % ", ".join("%s %d" % (h, sum(r["worker"]["host"] == h for r in results.values())) for h in hosts),
      "chunks were encoded on %s only" % hosts)
# How long a planned chunk waited for a worker (a record a worker could not see would show as a long wait here).
waits = [results[n]["startedAt"] - os.stat(os.path.join(J, "plan", n)).st_mtime for n in results if n in plan]
if waits: print("  a chunk started %.1f s after its plan record at most (median %.1f s)" % (max(waits), sorted(waits)[len(waits) // 2]))
PY
while IFS= read -r line; do
  case $line in PASS:\ *) pass "${line#PASS: }";; FAIL:\ *) fail "${line#FAIL: }";; *) echo "$line";; esac
done < "$logs/seg-records.txt"
grep -q '^PASS: both hosts encoded' "$logs/seg-records.txt" || fail "the records of the streaming plan were not all checked: $(tail -3 "$logs/seg-records.txt")"
# The late worker: it counts the job's workers across hosts (A's and B's records, kept between units, and its
# own), chooses by the rule (analysis first while the free chunks are fewer than the workers), and does as it says.
join_line=$(grep -om1 'joining job .* while it is analysed.*' "$logs/seg-b2-late.log")
first_unit=$(grep -om1 -E '(segment|chunk) [0-9]+: (analysing|encoding)' "$logs/seg-b2-late.log")
if [[ $join_line =~ ([0-9]+)\ free\ for\ the\ ([0-9]+)\ worker\(s\)\ in\ the\ job:\ (analysis|chunks)\ first ]]; then
  free=${BASH_REMATCH[1]} seen=${BASH_REMATCH[2]} order=${BASH_REMATCH[3]}
  rule=chunks; [ "$free" -lt "$seen" ] && rule=analysis
  want=chunk; [ "$order" = analysis ] && want=segment
  if [ "$seen" -ge 3 ] && [ "$order" = "$rule" ] && [[ $first_unit == $want* ]] \
     && grep -q "\(segment\|chunk\) [0-9]*: published" "$logs/seg-b2-late.log"; then
    pass "worker B2, joining after the first plan record, counted $seen workers in the job, saw $free free chunk(s), chose $order first and began with '$first_unit'; it published $(grep -c 'segment [0-9]*: published' "$logs/seg-b2-late.log") segment(s) and $(grep -c 'chunk [0-9]*: published' "$logs/seg-b2-late.log") chunk(s)"
  else fail "worker B2: '$join_line', then began with '${first_unit:-nothing}' (want $seen >= 3 workers, $rule first, a first $want, something published)"; fi
else fail "worker B2 did not say how it chose its first unit while the job was analysed: $(head -4 "$logs/seg-b2-late.log")"; fi
$AS_HOST B "$E" status "$share_b/job-seg" --json > "$logs/seg-status.json" 2>&1
python3 - "$logs/seg-status.json" "$segments" <<'PY' && pass "status --json on B shows the analysis: $segments/$segments segments done, by both hosts" || fail "status --json on B: $(head -c 300 "$logs/seg-status.json")"
import json, sys
s = json.load(open(sys.argv[1])); a = s["analysis"]; n = int(sys.argv[2])
hosts = {w.get("host") for w in a["byWorker"]}
assert a["segments"] == n and a["segmentsDone"] == n, a
assert {"encoda-hostA", "encoda-hostB"} <= hosts, hosts
PY

echo "guest part: $(elapsed), $good passed, $bad failed"
[ "$bad" = 0 ]
