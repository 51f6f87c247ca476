#!/usr/bin/env bash
# Coordination cost per chunk (issue 16): does the shared-folder protocol stay flat as a job gets more chunks?
#
# Encodes generated clips of 100, 300 and 1,000 chunks (160x120 at 1 fps, every frame a keyframe, a shot every
# 2 frames given by --scenes-json, so each shot is one chunk: 2 s is the shortest chunk encoda plans) with x264
# ultrafast, once with 1 local worker and once with 8, the whole command under `strace -f` (coordinator and
# workers). From the trace it prints, per chunk:
#   - syscalls (every call of every process, the encodes included),
#   - getdents64 calls and the bytes they returned (directory listing),
#   - won claims: exclusive creates of TMP/leases/NNNNN.lock that succeeded (each chunk needs one; the rest were
#     thrown away, mostly because the chunk had been published meanwhile).
# Then the ratio of the 1,000-chunk figure to the 100-chunk one, for syscalls and bytes listed, against the bar
# (<= 1.3x): PASS or FAIL.
#
# usage: bench/coordination.sh            (CHUNKS="100 300 1000" WORKERS="1 8" to choose; ENCODA_BIN to pick a build)
source "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { note "strace is not installed (scripts/setup.sh installs it)"; exit 1; }
E=$(encoda_bin)
CHUNKS=${CHUNKS:-100 300 1000}
WORKERS=${WORKERS:-1 8}
BAR=1.3

# clip N: N chunks' worth of frames (2 per chunk) and the scenes.json cutting them every 2 frames.
clip() {
  local n=$1 f=$CACHE/media/coord_${1}x2_1fps.mkv
  if [ ! -s "$f" ]; then
    ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "testsrc2=s=160x120:r=1" -frames:v $((n * 2)) \
      -c:v libx264 -preset ultrafast -g 1 -pix_fmt yuv420p "$f.part.mkv"
    mv "$f.part.mkv" "$f"
  fi
  python3 - "$n" >"$WORK/scenes-$n.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"scenes": [{"start_frame": 2 * i, "end_frame": 2 * i + 2, "zone_overrides": None} for i in range(n)], "frames": 2 * n}))
EOF
  printf '%s\n' "$f"
}

# run N W: encodes the N-chunk clip with W workers under strace; prints "syscalls getdents_calls getdents_bytes claims".
run() {
  local n=$1 w=$2 input; input=$(clip "$n")
  local tmp=$WORK/tmp-$n-$w trace=$WORK/trace-$n-$w
  rm -rf "$tmp" "$WORK/out.mkv"
  if ! strace -f -qq -s 200 -o "$trace" "$E" "$input" "$WORK/out.mkv" "$tmp" --encoder h264 --preset ultrafast \
      --scenes-json "$WORK/scenes-$n.json" --max-scene-length 0 --workers "$w" --threads 1 --quiet -y >"$WORK/last.log" 2>&1; then
    note "encoda failed on $n chunks, $w workers:"; tail -20 "$WORK/last.log" >&2; exit 1
  fi
  local planned
  planned=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$WORK/out.mkv")
  [ "$planned" = $((n * 2)) ] || { note "OUTPUT has $planned frames, expected $((n * 2))"; exit 1; }
  # One line per call; a call interrupted by another process's is printed twice ("unfinished", "resumed"): counted once.
  awk '
    / resumed>/ {
      if ($0 ~ /getdents64 resumed>/ && match($0, /= [0-9]+$/)) gb += substr($0, RSTART + 2)
      if ($0 ~ /openat resumed>/ && ($1 in lease)) { if ($0 ~ /= [0-9]+$/) claims++; delete lease[$1] }
      next
    }
    /^[0-9]+ +[a-z_0-9]+\(/ {
      calls++
      if ($2 ~ /^getdents64\(/) { gc++; if (match($0, /= [0-9]+$/)) gb += substr($0, RSTART + 2) }
      if ($0 ~ /\/leases\/[0-9]+\.lock", O_WRONLY\|O_CREAT\|O_EXCL/) {
        if ($0 ~ /= [0-9]+$/) claims++; else if ($0 ~ /unfinished/) lease[$1] = 1
      }
    }
    END { printf "%d %d %d %d\n", calls, gc, gb, claims }' "$trace"
  rm -f "$trace"
}

printf '%-7s %-7s %14s %14s %16s %14s\n' chunks workers syscalls/chunk getdents/chunk listed-B/chunk claims/chunk
declare -A S B
for w in $WORKERS; do
  for n in $CHUNKS; do
    read -r calls gc gb claims < <(run "$n" "$w")
    S[$n-$w]=$(awk -v a="$calls" -v n="$n" 'BEGIN {printf "%.1f", a / n}')
    B[$n-$w]=$(awk -v a="$gb" -v n="$n" 'BEGIN {printf "%.1f", a / n}')
    printf '%-7s %-7s %14s %14s %16s %14s\n' "$n" "$w" "${S[$n-$w]}" "$(awk -v a="$gc" -v n="$n" 'BEGIN {printf "%.2f", a / n}')" \
      "${B[$n-$w]}" "$(awk -v a="$claims" -v n="$n" 'BEGIN {printf "%.2f", a / n}')"
  done
done
first=${CHUNKS%% *} last=${CHUNKS##* }
for w in $WORKERS; do
  rs=$(ratio "${S[$last-$w]}" "${S[$first-$w]}") rb=$(ratio "${B[$last-$w]}" "${B[$first-$w]}")
  ok=$(( $(le "$rs" $BAR) && $(le "$rb" $BAR) ))
  verdict "coordination, $w worker(s)" "$ok" "per chunk at $last vs $first chunks: syscalls ${rs}x, bytes listed ${rb}x (bar <= ${BAR}x)"
done
