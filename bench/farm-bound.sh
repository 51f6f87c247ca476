#!/usr/bin/env bash
# How far the farm can scale (issue 16): the serial time in front of and behind the chunks, on INPUT and on INPUT
# looped four times, from the job's own records in TMP.
#
#   first chunk  coordinator.json's start → the earliest chunk's `startedAt`   (analysis and planning: serial)
#   tail         the last chunk's `finishedAt` → OUTPUT in place (its mtime)  (join and finish: serial)
#   W            the sum of every chunk's encode time (host-seconds)
#   ceiling      (S + W) / (S + W/64) with S = first chunk + tail: the speed-up 64 hosts could give this job
#
# Bars: the first chunk for 4x the input grows by at most 1.5x; it is at most 0.35 of a whole-file `encoda detect` of
# the long input; the tail is at most 3 s. Proxy settings, as the issue measured them: x264 veryfast.
# The two inputs run interleaved, RUNS times each, medians compared. EXTRA="--no-segmented-analysis" (for example)
# adds options to every job.
#
# usage: bench/farm-bound.sh [INPUT]    default: the 64.6 s synthetic clip; RUNS (default 2)
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-2}
ENCODA=$(encoda_bin)
SRC=${1:-$(synth_clip)}
LONG="$CACHE/media/$(basename "${SRC%.*}")-x4.mkv"
if [ ! -s "$LONG" ]; then
  note "looping $(basename "$SRC") four times into $LONG…"
  ffmpeg -hide_banner -loglevel error -nostdin -y -stream_loop 3 -i "$SRC" -map 0:v -c copy "$LONG.part.mkv"
  mv "$LONG.part.mkv" "$LONG"
fi
header "farm-bound: $(basename "$SRC") and 4x ($(basename "$LONG")), $RUNS interleaved runs${EXTRA:+, $EXTRA}"

# measure NAME INPUT — one job; appends "first tail W ceiling wall" to $WORK/NAME.m
measure() {
  local name=$1 input=$2 tmp="$WORK/$1-tmp" out="$WORK/$1.mkv"
  rm -rf "$tmp" "$out"
  # shellcheck disable=SC2086
  time_cmd "$WORK/$name.t" "$ENCODA" "$input" "$out" "$tmp" --encoder h264 --preset veryfast --crf 23 --keep --quiet ${EXTRA:-}
  python3 - "$tmp" "$out" >>"$WORK/$name.m" <<'EOF'
import glob, json, os, sys
tmp, out = sys.argv[1], sys.argv[2]
start = json.load(open(os.path.join(tmp, "coordinator.json")))["startedAt"]
recs = [json.load(open(p)) for p in glob.glob(os.path.join(tmp, "results", "[0-9]*.json"))]
first = min(r["startedAt"] for r in recs) - start
tail = os.stat(out).st_mtime - max(r["finishedAt"] for r in recs)
w = sum(r["finishedAt"] - r["startedAt"] for r in recs)
s = first + max(0.0, tail)
wall = os.stat(out).st_mtime - start
print(f"{first:.3f} {tail:.3f} {w:.3f} {(s + w) / (s + w / 64):.2f} {wall:.3f} {len(recs)}")
EOF
}

: >"$WORK/short.m"; : >"$WORK/long.m"; : >"$WORK/detect.t"
for i in $(seq "$RUNS"); do
  measure short "$SRC"
  measure long "$LONG"
  rm -rf "$WORK/detect-tmp"
  time_cmd "$WORK/detect.t" "$ENCODA" detect "$LONG" "$WORK/detect-tmp" --quiet
done

for n in short long; do
  note "$n: first chunk $(all_values "$WORK/$n.m" 1) s, tail $(all_values "$WORK/$n.m" 2) s, W $(all_values "$WORK/$n.m" 3) host-s, ceiling(64) $(all_values "$WORK/$n.m" 4)x, $(awk '{print $6}' "$WORK/$n.m" | head -1) chunks"
done
note "whole-file detect of the long input: $(all_values "$WORK/detect.t") s"
fs=$(median "$WORK/short.m" 1); fl=$(median "$WORK/long.m" 1); det=$(median "$WORK/detect.t")
tail_max=$(awk 'BEGIN {m = 0} {if ($2 > m) m = $2} END {print m}' "$WORK/short.m" "$WORK/long.m")
verdict "farm-bound first chunk 4x/1x" "$(le "$(ratio "$fl" "$fs")" 1.5)" "$(ratio "$fl" "$fs")x (${fl} s vs ${fs} s), bar <= 1.5x"
verdict "farm-bound first chunk/detect" "$(le "$(ratio "$fl" "$det")" 0.35)" "$(ratio "$fl" "$det")x (${fl} s vs detect ${det} s), bar <= 0.35x"
verdict "farm-bound tail" "$(le "$tail_max" 3)" "${tail_max} s at most, bar <= 3 s"
note "64-host ceiling from the records: short $(median "$WORK/short.m" 4)x, long $(median "$WORK/long.m" 4)x"
