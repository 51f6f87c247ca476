# Shared helpers for the benchmarks in bench/. Sourced, not run.
#
# Environment (all optional):
#   ENCODA_BIN          encoda binary to measure (default: build `swift build -c release --scratch-path .build-perf`)
#   ENCODA_BENCH_CACHE  cache folder for generated clips and the libvmaf ffmpeg (default ~/.cache/encoda-bench)
#   ENCODA_SHARED       the team's shared folder with media/ and bench/ (default: ../shared beside the repo)
#   SYNTH               the 64.6 s synthetic clip (default: generated once into the cache by make_synthetic.sh)
#   RUNS                timed runs per side (each script has its own default)
#   BENCH_SMOKE=1       smoke mode: print the lines, but say "smoke" instead of PASS/FAIL
#   BENCH_RESULTS       file that collects the verdict lines (bench/all.sh sets it)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CACHE=${ENCODA_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/encoda-bench}
export ENCODA_BENCH_CACHE=$CACHE
SHARED=${ENCODA_SHARED:-$ROOT/../shared}
CORES=$(nproc)
mkdir -p "$CACHE/media"

# Scratch folder for one script run; removed on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/encoda-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

note() { printf '%s\n' "$*" >&2; }

# The binary under test: a release build in its own scratch folder, so debug builds elsewhere are untouched.
encoda_bin() {
  if [ -n "${ENCODA_BIN:-}" ]; then printf '%s\n' "$ENCODA_BIN"; return; fi
  if [ -z "${_ENCODA_BUILT:-}" ]; then
    note "building encoda (release, .build-perf)…"
    (cd "$ROOT" && swift build -c release --scratch-path .build-perf >&2)
    _ENCODA_BUILT=1
  fi
  printf '%s\n' "$ROOT/.build-perf/release/encoda"
}

# The 64.6 s synthetic clip with known cuts (generated once, ~4 minutes on 2 cores).
synth_clip() {
  if [ -n "${SYNTH:-}" ]; then printf '%s\n' "$SYNTH"; return; fi
  local f=$CACHE/media/synthetic_720p.mp4
  if [ ! -s "$f" ]; then
    note "generating the synthetic clip into $CACHE/media (once, ~4 minutes)…"
    (cd "$CACHE/media" && OUT=. bash "$SHARED/media/make_synthetic.sh" >&2)
  fi
  printf '%s\n' "$f"
}

# Ground-truth cuts of the synthetic clip, space-separated.
synth_cuts() {
  local f; f=$(synth_clip)
  local txt; txt="$(dirname "$f")/synthetic_cuts.txt"
  if [ -s "$txt" ]; then sed -n 's/^CUTS //p' "$txt"; else echo "75 105 230 330 555 605 645 1445 1505"; fi
}

# A tiny clip for smoke runs: 4 s, 320x240, one hard cut at frame 50 (25 fps).
tiny_clip() {
  local f=$CACHE/media/tiny_cut.mp4
  if [ ! -s "$f" ]; then
    ffmpeg -hide_banner -loglevel error -nostdin -y \
      -f lavfi -i "testsrc2=s=320x240:r=25:d=2" -f lavfi -i "mandelbrot=s=320x240:r=25" \
      -filter_complex "[1:v]trim=end_frame=50[m];[0:v][m]concat=n=2:v=1:a=0,format=yuv420p[v]" -map "[v]" \
      -c:v libx264 -preset veryfast -crf 20 "$f.part.mp4"
    mv "$f.part.mp4" "$f"
  fi
  printf '%s\n' "$f"
}

# time_cmd OUTFILE CMD... — runs CMD, appends "<wall seconds> <max RSS KB> <CPU seconds>" to OUTFILE. Output of CMD goes to
# $WORK/last.log; a failing command stops the benchmark with its log.
time_cmd() {
  local out=$1; shift
  local t0 t1 rss cpu
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f '%M %U %S' -o "$WORK/rss" "$@" >"$WORK/last.log" 2>&1; then
    note "command failed: $*"; tail -20 "$WORK/last.log" >&2; exit 1
  fi
  t1=$(date +%s.%N)
  rss=$(tail -1 "$WORK/rss" | awk '{print $1}')
  cpu=$(tail -1 "$WORK/rss" | awk '{printf "%.2f", $2 + $3}')
  echo "$(echo "$t1 - $t0" | bc -l) $rss $cpu" >>"$out"
}

# (time_cmd's columns: wall seconds, peak RSS in KB, CPU seconds (user + system, the waited-for children
# included, so an encode's workers count).)
# median FILE [COLUMN] — median of a column (default 1) of numbers.
median() {
  awk -v c="${2:-1}" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# all_values FILE [COLUMN] — the measured values, for the record ("5.1 5.3 5.0").
all_values() { awk -v c="${2:-1}" '{printf "%s%.2f", (NR>1?" ":""), $c}' "$1"; }

# pair_ratios A_FILE B_FILE — the ratio of each interleaved pair (run i of A over run i of B), for the record:
# the machine's speed drifts by 10-20 % over minutes, and the pairs show how far a single comparison can stray.
pair_ratios() { paste -d' ' <(awk '{print $1}' "$1") <(awk '{print $1}' "$2") | awk '{printf "%s%.3f", (NR>1?" ":""), ($2 > 0) ? $1 / $2 : 0}'; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# verdict NAME OK(0/1) DETAIL — prints one result line; collects it into $BENCH_RESULTS.
verdict() {
  local name=$1 ok=$2 detail=$3 word
  if [ -n "${BENCH_SMOKE:-}" ]; then word="smoke"; elif [ "$ok" = 1 ]; then word="PASS"; else word="FAIL"; fi
  local line
  line=$(printf '%-4s  %-30s %s  [load %s]' "$word" "$name" "$detail" "$(loadavg)")
  printf '%s\n' "$line"
  if [ -n "${BENCH_RESULTS:-}" ]; then printf '%s\n' "$line" >>"$BENCH_RESULTS"; fi
}

# le A B — 1 when A <= B (floating point), else 0.
le() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? 1 : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }

# Video bit rate in kb/s of the first video stream: packet bytes over the stream's duration.
# (ffprobe prints the fields in its own order: pts_time, duration_time, size.)
video_kbps() {
  ffprobe -v error -select_streams v:0 -show_entries packet=size,pts_time,duration_time -of csv=p=0 "$1" |
    awk -F, '{s += $3; if ($1 != "N/A" && $1 + 0 > m) {m = $1 + 0; d = ($2 == "N/A") ? 0 : $2 + 0}} END {printf "%.1f", s * 8 / (m + d) / 1000}'
}

# encoder_args av1|h264 — the same encoder settings for both sides: EARGS (encoda) and FARGS (ffmpeg).
# Returns 1 for an unknown codec.
encoder_args() {
  case "$1" in
    av1)  EARGS=(--encoder av1 --preset 8 --crf 35 --pix-fmt yuv420p); FARGS=(-c:v libsvtav1 -preset 8 -crf 35 -pix_fmt yuv420p) ;;
    h264) EARGS=(--encoder h264 --preset medium --crf 23 --pix-fmt yuv420p); FARGS=(-c:v libx264 -preset medium -crf 23 -pix_fmt yuv420p) ;;
    *) return 1 ;;
  esac
}

# race_encodes RUNS INPUT — encoda (EARGS, then EXTRA: more options, e.g. "--no-segmented-analysis") and one ffmpeg process (FARGS) on INPUT, alternating which goes first;
# times in $WORK/encoda.t and $WORK/ffmpeg.t, the last outputs in $WORK/encoda.mkv and $WORK/ffmpeg.mkv.
race_encodes() {
  local runs=$1 input=$2 i who order
  : >"$WORK/encoda.t"; : >"$WORK/ffmpeg.t"
  for i in $(seq "$runs"); do
    if [ $((i % 2)) = 1 ]; then order="encoda ffmpeg"; else order="ffmpeg encoda"; fi
    for who in $order; do
      if [ "$who" = encoda ]; then
        rm -rf "$WORK/tmp" "$WORK/encoda.mkv"
        # shellcheck disable=SC2086
        time_cmd "$WORK/encoda.t" "$ENCODA" "$input" "$WORK/encoda.mkv" "$WORK/tmp" "${EARGS[@]}" --quiet ${EXTRA:-}
      else
        rm -f "$WORK/ffmpeg.mkv"
        time_cmd "$WORK/ffmpeg.t" ffmpeg -hide_banner -loglevel error -nostdin -i "$input" -map 0:v "${FARGS[@]}" "$WORK/ffmpeg.mkv"
      fi
      note "  run $i $who: $(tail -1 "$WORK/$who.t" | cut -d' ' -f1) s (load $(loadavg))"
    done
  done
}

header() {
  note "== $1 — $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $CORES cores, load $(loadavg)"
}
