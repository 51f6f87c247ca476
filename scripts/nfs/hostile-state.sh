#!/usr/bin/env bash
# Part 1 of the farm tests, on a local folder: everything in TMP is untrusted input. A hostile or malformed
# job.json is refused with a clear error and exit status 74, a hostile result record is moved aside instead of
# being trusted, a worker with other library versions refuses the job (78), a worker finds a moved input with
# --input-root and refuses a different file of the same name, clean refuses live workers and removes a job.
#   hostile-state.sh ENCODA WORKDIR CLIP
set -uo pipefail
encoda=$1 w=$2 clip=$3
rm -rf "$w"; mkdir -p "$w/src" "$w/elsewhere"
cp "$clip" "$w/src/in.mkv"
bad=0
ok() { echo "  ok: $*"; }
no() { echo "  NOT OK: $*"; bad=$((bad + 1)); }
# expect NAME STATUS PATTERN CMD...: CMD exits with STATUS and its stderr/stdout contain PATTERN
expect() {
  local name=$1 want=$2 pattern=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then ok "$name → exit $rc: $(grep -E -- "$pattern" <<<"$out" | head -1 | cut -c1-180)"
  else no "$name: wanted exit $want and /$pattern/, got exit $rc: $(echo "$out" | tail -2)"; fi
}
"$encoda" "$w/src/in.mkv" "$w/out.mkv" "$w/job" --encoder h264 --lossless --preset ultrafast --workers 1 --keep --quiet \
  || { no "the reference job did not encode"; exit 1; }
chunks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["chunks"]))' "$w/job/job.json")
edit() { # COPY PYTHON-EXPR-ON-m
  rm -rf "$w/$1"; cp -r "$w/job" "$w/$1"
  python3 - "$w/$1/job.json" "$2" <<'PY'
import json, sys
p, expr = sys.argv[1], sys.argv[2]
m = json.load(open(p))
exec(expr)
open(p, "w").write(m if isinstance(m, str) else json.dumps(m))
PY
}
edit h-escape 'm["input"]["pathRelativeToWorkDirectory"] = "../../../../../etc/passwd"'
expect "input path escaping the shared folder" 74 "job.json is invalid: input path .* leads outside" "$encoda" worker "$w/h-escape" --exit-when-idle
edit h-type 'm["frameCount"] = "lots"'
expect "frameCount of the wrong type" 74 "job manifest .*job.json is malformed at frameCount" "$encoda" worker "$w/h-type" --exit-when-idle
edit h-huge 'm = json.dumps(m).replace("\"frameCount\":", "\"frameCount\": 1" + "0" * 40 + ", \"x\":", 1)'
expect "frameCount beyond 64 bits" 74 "job manifest .*job.json" "$encoda" worker "$w/h-huge" --exit-when-idle
edit h-big 'm["frameCount"] = 9000000000000000000'
expect "frameCount absurdly large" 74 "job.json is invalid: frame count" "$encoda" worker "$w/h-big" --exit-when-idle
edit h-range 'm["chunks"][-1]["range"]["end"] = 2**62'
expect "chunk range past the end" 74 "job.json is invalid: (chunk|chunks)" "$encoda" worker "$w/h-range" --exit-when-idle
edit h-id 'm["jobID"] = "../../x-0000000"'
expect "job id with a path in it" 74 "job.json is invalid: job id" "$encoda" worker "$w/h-id" --exit-when-idle
edit h-lease 'm["farm"]["leaseSeconds"] = -1'
expect "negative lease time" 74 "job.json is invalid: lease time" "$encoda" worker "$w/h-lease" --exit-when-idle
edit h-missing 'del m["chunks"]'
expect "missing chunks" 74 "malformed: missing chunks" "$encoda" status "$w/h-missing"
rm -rf "$w/h-notjson"; cp -r "$w/job" "$w/h-notjson"; head -c 100 "$w/job/job.json" > "$w/h-notjson/job.json"
expect "truncated job.json" 74 "not valid JSON" "$encoda" worker "$w/h-notjson" --exit-when-idle
edit h-version 'm["versions"]["x264"] = "other-build"'
expect "other x264 build" 78 "cannot take job .*x264 build" "$encoda" worker "$w/h-version" --exit-when-idle
edit h-encoda 'm["versions"]["encoda"] = "9.9.9"'
expect "other encoda version" 78 "cannot take job .*encoda" "$encoda" worker "$w/h-encoda" --exit-when-idle

# A hostile result record: its chunk file name leads out of TMP. It must not count as done.
# (without the coordinator's record, which would report the finished job whatever the chunks say)
rm -rf "$w/h-result"; cp -r "$w/job" "$w/h-result"; rm -f "$w/h-result/coordinator.json"
python3 - "$w/h-result/results/00000.json" <<'PY'
import json, sys
p = sys.argv[1]; r = json.load(open(p)); r["file"] = "../../../../etc/passwd"; open(p, "w").write(json.dumps(r))
PY
out=$("$encoda" status "$w/h-result" --json 2>&1)
# status only reads: the record stays where it is (a worker moves it aside) but does not count.
if grep -q "\"chunksDone\":$((chunks - 1))" <<<"$out" && [ -e "$w/h-result/results/00000.json" ]; then
  ok "result record naming ../../../../etc/passwd: not trusted by status (left in place), chunk 00000 counts as not done"
else no "hostile result record was trusted: $out"; fi

# --input-root: the input moved after planning.
mv "$w/src/in.mkv" "$w/elsewhere/in.mkv"
expect "moved input without --input-root" 65 "cannot find the input" "$encoda" worker "$w/job" --exit-when-idle
expect "moved input with --input-root" 0 "leaving; encoded 0" "$encoda" worker "$w/job" --exit-when-idle --input-root "$w/elsewhere"
mkdir -p "$w/other"; head -c 5000 "$w/elsewhere/in.mkv" > "$w/other/in.mkv"
expect "a different file under --input-root" 65 "is a different file" "$encoda" worker "$w/job" --exit-when-idle --input-root "$w/other"

# status and clean
expect "status of a finished job" 0 "$chunks/$chunks chunks done" "$encoda" status "$w/job"
touch "$w/job/workers/live.json"; echo '{"host":"h","pid":1,"token":"t"}' > "$w/job/workers/live.json"
expect "clean refuses while a worker is alive" 74 "workers are still active" "$encoda" clean "$w/job"
rm "$w/job/workers/live.json"
expect "clean removes the job" 0 "removed [0-9]+ file\\(s\\) encoda made" "$encoda" clean "$w/job"
expect "status after clean" 74 "holds no job" "$encoda" status "$w/job"

# worker --watch: one worker serves two jobs that live under a shared folder (inputs found relative to TMP) and
# waits for more; the coordinators only coordinate (--workers 0). SIGTERM makes it leave with status 0.
mkdir -p "$w/share"
cp "$clip" "$w/share/one.mkv"; cp "$clip" "$w/share/two.mkv"
"$encoda" worker "$w/share" --watch --poll-seconds 0.2 > "$w/watch.log" 2>&1 &
watcher=$!
pids=()
for j in one two; do
  timeout 300 "$encoda" "$w/share/$j.mkv" "$w/watch-$j.mkv" "$w/share/job-$j" --encoder h264 --lossless --preset ultrafast --workers 0 --quiet &
  pids+=($!)
done
crc=0; for p in "${pids[@]}"; do wait "$p" || crc=$?; done
kill -TERM "$watcher"; wait "$watcher"; wrc=$?
served=$(grep -c 'encoded [0-9]* chunk(s) \[' "$w/watch.log")
same=1
for j in one two; do
  [ "$(ffmpeg -v error -i "$w/watch-$j.mkv" -f framemd5 - 2>/dev/null | grep -v '^#' | awk -F, '{print $NF}')" = \
    "$(ffmpeg -v error -i "$clip" -f framemd5 - | grep -v '^#' | awk -F, '{print $NF}')" ] || same=0
done
if [ "$crc" = 0 ] && [ "$wrc" = 0 ] && [ "$same" = 1 ] && grep -q "job-one" "$w/watch.log" && grep -q "job-two" "$w/watch.log"; then
  ok "worker --watch served job-one and job-two (coordinators with --workers 0 finished, OUTPUTs frame-exact) and left on SIGTERM with 0"
else no "worker --watch: coordinators $crc, watcher $wrc, frame-exact $same: $(tail -3 "$w/watch.log")"; fi
[ "$bad" = 0 ]
