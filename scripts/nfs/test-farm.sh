#!/usr/bin/env bash
# The farm tests over real kernel NFS (see README.md here). Exits non-zero on any failure.
#
#   scripts/nfs/test-farm.sh            env: ENCODA (default .build/debug/encoda), NFS_VERS (4.1), KEEP=1 keeps
#                                            the work folder, FARM_WORK (default: a fresh folder under /tmp)
#
# Part 1, on this host (a local folder, no NFS needed): hostile job.json and result records are rejected with a
# clear error, a worker with other library versions refuses the job, --input-root finds a moved input.
# Part 2, in a qemu guest with the kernel NFS server and two kernel NFS client hosts A and B (scripts/nfs/run.sh):
# the listing-versus-negative-lookup behaviour the protocol relies on; a worker on B killed with SIGKILL
# mid-chunk and replaced; the coordinator killed and re-run; many workers racing for claims (one of them with its
# clock 10 minutes ahead); drain on SIGTERM; a chunk that always fails ends quarantined and is retried after
# `clean --quarantine`; a `--segmented-analysis` job whose plan streams: both hosts take analysis segments by lease
# and encode chunks that start before the last segment is measured (TMP/plan holds each chunk once, the last marked
# so), and a worker joining on B after the first chunk is planned takes a segment first. Every OUTPUT is checked
# frame by frame against INPUT with ffmpeg's framemd5 (lossless x264), and who encoded what, and when, is counted
# from the worker logs and the plan, segment, result and failure records in TMP.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
ENCODA=$(realpath "${ENCODA:-.build/debug/encoda}")
[ -x "$ENCODA" ] || { echo "test-farm: $ENCODA is not built (swift build first)" >&2; exit 2; }
scripts/nfs/setup.sh >/dev/null
work=${FARM_WORK:-$(mktemp -d /tmp/encoda-farm.XXXXXX)}
mkdir -p "$work"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
started=$(date +%s)
failures=0 passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- clips: 320x240 at 10 fps, segments of different lavfi sources, so every segment boundary is a cut --------
sources=(
  "testsrc2=s=320x240:r=10"
  "mandelbrot=s=320x240:r=10"
  "life=s=320x240:r=10:mold=10:ratio=0.5:death_color=#203040"
  "cellauto=s=320x240:r=10:rule=110"
  "smptebars=s=320x240:r=10"
  "testsrc=s=320x240:r=10"
  "rgbtestsrc=s=320x240:r=10,hue=H=t"
  "mandelbrot=s=320x240:r=10:start_scale=0.5,negate"
)
make_clip() { # OUT SEGMENTS FRAMES_PER_SEGMENT [KEYFRAME_INTERVAL]
  local out=$1 n=$2 frames=$3 args=() graph="" i
  for ((i = 0; i < n; i++)); do
    local src=${sources[$((i % ${#sources[@]}))]}
    [ $i -ge ${#sources[@]} ] && src="$src,hue=h=$((i * 37))"
    args+=(-f lavfi -i "$src,trim=end_frame=$frames,setpts=PTS-STARTPTS")
    graph+="[$i:v]"
  done
  ffmpeg -v error -y "${args[@]}" -filter_complex "${graph}concat=n=$n:v=1:a=0,format=yuv420p[v]" -map "[v]" \
    -c:v libx264 -preset ultrafast -crf 16 -g "${4:-30}" "$out"
}
framemd5() { ffmpeg -v error -i "$1" -map 0:v:0 -f framemd5 - | grep -v '^#' | awk -F, '{print $NF}'; }
frame_exact() { # NAME OUTPUT INPUT
  if [ ! -s "$2" ]; then fail "$1: no OUTPUT $2"; return; fi
  local a b; a=$(framemd5 "$3"); b=$(framemd5 "$2")
  if [ "$a" = "$b" ]; then pass "$1: OUTPUT is frame-exact: $(echo "$b" | wc -l) frames, framemd5 equal to INPUT's frame for frame"
  else fail "$1: OUTPUT differs from INPUT ($(echo "$a" | wc -l) input frames, $(echo "$b" | wc -l) output frames, $(diff <(echo "$a") <(echo "$b") | grep -c '^>') differing)"; fi
}
mkdir -p "$work/clips"
make_clip "$work/clips/kill.mkv" 8 40     # 8 chunks of 40 frames
make_clip "$work/clips/race.mkv" 16 20    # 16 chunks of 20 frames (the shortest chunk is 2 s)
make_clip "$work/clips/fail.mkv" 4 20     # 4 chunks
make_clip "$work/clips/seg.mkv" 10 160 16   # 10 shots of 160 frames, a keyframe every 16: the job cuts it into segments, its plan streams
enc=(--encoder h264 --lossless --preset ultrafast)
# The scene pass runs here (the guest's CPU is emulated); the guest copies scenes.json into each job's TMP and
# the coordinator there reuses it (it is keyed by the input's fingerprint).
for c in kill race fail; do
  "$ENCODA" "$work/clips/$c.mkv" "$work/plan-$c.mkv" "$work/plan-$c" "${enc[@]}" --dry-run --quiet > "$work/plan-$c.txt"
  echo "clip $c: $(grep -E '^ *chunks:' "$work/plan-$c.txt" | tr -s ' ') ($(grep -cE '^ +[0-9]{5} ' "$work/plan-$c.txt") in the plan)"
done

# --- part 1: on this host -------------------------------------------------------------------------------------
echo "== part 1: hostile state, version refusal, --input-root (local folder)"
scripts/nfs/hostile-state.sh "$ENCODA" "$work/local" "$work/clips/fail.mkv" && pass "hostile state and version checks" \
  || fail "hostile state and version checks"

# --- part 2: in the guest, over kernel NFS -----------------------------------------------------------------------
echo "== part 2: kernel NFS v${NFS_VERS:-4.1} in a qemu guest, hosts A and B"
guest_rc=0
scripts/nfs/run.sh --vers "${NFS_VERS:-4.1}" -- scripts/nfs/farm-guest.sh "$ENCODA" "$work" || guest_rc=$?
[ -f "$work/guest.passes" ] && passes=$((passes + $(cat "$work/guest.passes")))
if [ "$guest_rc" = 0 ]; then :; else fail "the guest part failed (status $guest_rc; see the lines above)"; fi
frame_exact "kill a worker on B" "$work/out-kill.mkv" "$work/clips/kill.mkv"
frame_exact "kill the coordinator and re-run" "$work/out-resume.mkv" "$work/clips/kill.mkv"
frame_exact "race of 6 workers" "$work/out-race.mkv" "$work/clips/race.mkv"
frame_exact "quarantined chunk retried after clean --quarantine" "$work/out-fail.mkv" "$work/clips/fail.mkv"
frame_exact "segmented analysis on both hosts" "$work/out-seg.mkv" "$work/clips/seg.mkv"

echo "farm tests: $(( $(date +%s) - started )) s"
echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
