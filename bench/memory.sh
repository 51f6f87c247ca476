#!/usr/bin/env bash
# Peak memory.
#
# Coordinator (bar < 100 MB for a 2-hour 1080p source). Encoding two hours here is not practical, so the
# coordinator is fed a real-sized frame index instead: the scene cache of a small real clip is rewritten into
# that of a 2-hour 1920x1080 24 fps source (172800 frames, a keyframe every 2 s, a cut every 1-12 s), then
#   1. `encoda INPUT OUTPUT TMP --dry-run` (load the index, detect cuts, plan) runs under /usr/bin/time, and
#   2. `encoda INPUT OUTPUT TMP --workers 0` (plan, write the manifest, supervise with the whole plan in
#      memory, waiting for remote workers) runs for a few seconds; its VmHWM is read, then it is stopped.
# The scene pass itself holds the decoder, not the video: its peak is measured on the real 1080p letterbox clip
# (from make_synthetic.sh) with `encoda detect`, and its index part grows by ~28 bytes a frame (timestamp, duration, score, packet size; reported).
#
# Worker: `encoda worker TMP --threads 1` run by hand beside a `--workers 0` coordinator on the first 26 s of the
# synthetic clip;
# its peak RSS is compared with one ffmpeg process encoding the same frames with the same encoder settings on one
# thread: SVT-AV1 (lp=1, keyint 250 as encoda's chunks use) and x264 (threads=1). Bar, for each: the worker's
# extra (Swift runtime, its decoder, the index, allocator slack) < 128 MB and < half of what buffering its longest
# chunk would take (225 720p frames: 296 MB).
#
# usage: bench/memory.sh            (no timing; one run each)
source "$(dirname "$0")/lib.sh"
ENCODA=$(encoda_bin)
header "memory"

# --- coordinator with a 2-hour 1080p frame index ---
small=$(tiny_clip)
mkdir -p "$WORK/coord"
"$ENCODA" detect "$small" "$WORK/coord" --quiet >/dev/null
python3 - "$WORK/coord/scenes.json" <<'PY'
import json, random, sys
path = sys.argv[1]
c = json.load(open(path))
n = 2 * 3600 * 24                      # two hours at 24 fps
step = 1000                            # timebase 1/24000, 24000/1001 fps would be 1001; keep it simple: 24 fps
c["video"].update(width=1920, height=1080, frameRate={"num": 24, "den": 1}, timeBase={"num": 1, "den": 24000})
c["index"] = {"pts": [i * step for i in range(n)], "durations": [step] * n,
              "keyframes": list(range(0, n, 48)), "seekable": True,
              "packetSizes": [(i * 7919) % 88000 + 2000 if i % 48 else 250000 for i in range(n)]}
rng = random.Random(7)
changes = [round(rng.uniform(0.5, 4.0), 3) for _ in range(n)]
changes[0] = 0
f = 0
while True:
    f += rng.randint(24, 288)          # shots of 1-12 s
    if f >= n: break
    changes[f] = round(rng.uniform(25, 60), 3)
c["changes"] = changes
c["cuts"] = []
c["crop"] = None
json.dump(c, open(path, "w"))
PY
cache_mb=$(du -m "$WORK/coord/scenes.json" | cut -f1)
time_cmd "$WORK/dry.t" "$ENCODA" "$small" "$WORK/out.mkv" "$WORK/coord" --dry-run
chunks=$(grep -c '^  [0-9]\{5\} ' "$WORK/last.log" || true)
dry_kb=$(median "$WORK/dry.t" 2)

"$ENCODA" "$small" "$WORK/out.mkv" "$WORK/coord" --workers 0 --quiet >"$WORK/coord.log" 2>&1 &
cpid=$!
hwm=0
for _ in $(seq 40); do
  sleep 0.25
  [ -r "/proc/$cpid/status" ] || break
  v=$(awk '/VmHWM/ {print $2}' "/proc/$cpid/status" 2>/dev/null || echo 0)
  [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
done
supervised=0; [ -s "$WORK/coord/job.json" ] && supervised=1
kill -INT "$cpid" 2>/dev/null || true; sleep 0.5; kill -KILL "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true
peak=$(( dry_kb > hwm ? dry_kb : hwm ))
ok=$(( peak < 100 * 1024 && supervised ))
verdict "coordinator 2 h 1080p index" "$ok" \
  "$(printf 'peak %.1f MB (bar < 100 MB): plan --dry-run %.1f MB, supervising %.1f MB; 172800 frames, %s chunks, scenes.json %s MB' \
     "$(echo "$peak / 1024" | bc -l)" "$(echo "$dry_kb / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$chunks" "$cache_mb")"

# --- scene pass on a real 1080p source ---
lb="$(dirname "$(synth_clip)")/synthetic_letterbox.mp4"
if [ -s "$lb" ]; then
  frames=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$lb")
  time_cmd "$WORK/detect.t" "$ENCODA" detect "$lb" "$WORK/lb" --quiet
  d_kb=$(median "$WORK/detect.t" 2)
  extra_kb=$(( (172800 - frames) * 28 / 1024 ))
  total_kb=$(( d_kb + extra_kb ))
  verdict "scene pass 1080p (coordinator)" "$(( total_kb < 100 * 1024 ))" \
    "$(printf 'peak %.1f MB on %s frames of 1920x1080; + %.1f MB of index for 172800 frames = %.1f MB (bar < 100 MB)' \
       "$(echo "$d_kb / 1024" | bc -l)" "$frames" "$(echo "$extra_kb / 1024" | bc -l)" "$(echo "$total_kb / 1024" | bc -l)")"
else
  note "no synthetic_letterbox.mp4 beside the synthetic clip: 1080p scene pass not measured"
fi

# --- worker ---
# The first 26 s of the synthetic clip (7 shots, up to 225 frames a chunk) keep this part short.
INPUT=${WORKER_INPUT:-$CACHE/media/synthetic_first26s.mp4}
if [ ! -s "$INPUT" ]; then
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$(synth_clip)" -map 0:v -t 25.8 -c copy "$INPUT.part.mp4"
  mv "$INPUT.part.mp4" "$INPUT"
fi
# worker_memory av1|h264 — one worker by hand beside a `--workers 0` coordinator, against one ffmpeg process
# encoding the same frames with the same encoder settings on one thread (SVT-AV1 lp=1, x264 threads=1).
worker_memory() {
  local codec=$1 label ffenc
  encoder_args "$codec"
  case "$codec" in
    av1)  label="SVT-AV1 lp=1"; ffenc=(-c:v libsvtav1 -preset 8 -crf 35 -svtav1-params lp=1:keyint=250) ;;
    h264) label="x264 threads=1"; ffenc=(-c:v libx264 -preset medium -crf 23 -threads 1) ;;
  esac
  rm -rf "$WORK/wtmp" "$WORK/w.mkv" "$WORK/ff.mkv"; : >"$WORK/worker.t"; : >"$WORK/ff.t"
  "$ENCODA" "$INPUT" "$WORK/w.mkv" "$WORK/wtmp" "${EARGS[@]}" --workers 0 --quiet >"$WORK/wcoord.log" 2>&1 &
  local wcpid=$!
  for _ in $(seq 600); do [ -s "$WORK/wtmp/job.json" ] && break; sleep 0.2; done
  time_cmd "$WORK/worker.t" "$ENCODA" worker "$WORK/wtmp" --threads 1 --quiet
  wait "$wcpid" || { note "coordinator failed:"; cat "$WORK/wcoord.log" >&2; exit 1; }
  local w_kb ls le_ vw vh buffered_kb f_kb extra_kb half limit
  w_kb=$(median "$WORK/worker.t" 2)
  read -r ls le_ < <(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); c=max(j['chunks'], key=lambda c: c['range']['end']-c['range']['start']); print(c['range']['start'], c['range']['end'])" "$WORK/wtmp/job.json")
  IFS=x read -r vw vh < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$INPUT")
  buffered_kb=$(( (le_ - ls) * vw * vh * 3 / 2 / 1024 ))
  time_cmd "$WORK/ff.t" ffmpeg -hide_banner -loglevel error -nostdin -threads 1 -i "$INPUT" -map 0:v "${ffenc[@]}" \
    -pix_fmt yuv420p "$WORK/ff.mkv"
  f_kb=$(median "$WORK/ff.t" 2)
  extra_kb=$(( w_kb - f_kb ))
  # Bar: what the worker holds beyond one encoder (Swift runtime, its decoder, the frame index, allocator
  # slack) stays under 128 MB and under half of what buffering its longest chunk would take.
  half=$(( buffered_kb / 2 )); limit=$(( half < 131072 ? half : 131072 ))
  verdict "worker memory ($codec 720p)" "$(( extra_kb < limit ))" \
    "$(printf 'worker %d MB vs one ffmpeg %s encoder %d MB: %+d MB (bar < %d MB; buffering the longest chunk, %d frames, would add %d MB)' \
       $(( w_kb / 1024 )) "$label" $(( f_kb / 1024 )) $(( extra_kb / 1024 )) $(( limit / 1024 )) $(( le_ - ls )) $(( buffered_kb / 1024 )))"
}
worker_memory av1
worker_memory h264
