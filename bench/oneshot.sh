#!/usr/bin/env bash
# Fixed overhead on a short clip: `encoda INPUT OUTPUT TMP` (start-up, scene pass, planning, worker start, join)
# against one ffmpeg process with the same SVT-AV1 settings. Bar: ratio <= 1.30.
#
# usage: bench/oneshot.sh [INPUT] [av1|h264]   default: ../shared/media/bigbuckbunny.mp4 (5.3 s, 132 frames, one shot)
#        RUNS (default 5)
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-5}
ENCODA=$(encoda_bin)
INPUT=${1:-$SHARED/media/bigbuckbunny.mp4}
CODEC=${2:-av1}
case "$CODEC" in
  av1)  EARGS=(--encoder av1 --preset 8 --crf 35 --pix-fmt yuv420p); FARGS=(-c:v libsvtav1 -preset 8 -crf 35 -pix_fmt yuv420p) ;;
  h264) EARGS=(--encoder h264 --preset medium --crf 23 --pix-fmt yuv420p); FARGS=(-c:v libx264 -preset medium -crf 23 -pix_fmt yuv420p) ;;
  *) echo "usage: $0 [INPUT] [av1|h264]" >&2; exit 2 ;;
esac
header "one-shot $CODEC: $(basename "$INPUT"), $RUNS interleaved runs"

: >"$WORK/encoda.t"; : >"$WORK/ffmpeg.t"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then order="encoda ffmpeg"; else order="ffmpeg encoda"; fi
  for who in $order; do
    if [ "$who" = encoda ]; then
      rm -rf "$WORK/tmp" "$WORK/encoda.mkv"
      time_cmd "$WORK/encoda.t" "$ENCODA" "$INPUT" "$WORK/encoda.mkv" "$WORK/tmp" "${EARGS[@]}" --quiet
    else
      rm -f "$WORK/ffmpeg.mkv"
      time_cmd "$WORK/ffmpeg.t" ffmpeg -hide_banner -loglevel error -nostdin -i "$INPUT" -map 0:v "${FARGS[@]}" "$WORK/ffmpeg.mkv"
    fi
  done
done
e=$(median "$WORK/encoda.t"); f=$(median "$WORK/ffmpeg.t"); r=$(ratio "$e" "$f")
note "encoda: $(all_values "$WORK/encoda.t") s; ffmpeg: $(all_values "$WORK/ffmpeg.t") s"
verdict "one-shot $(basename "$INPUT") $CODEC" "$(le "$r" 1.30)" \
  "$(printf 'ratio %s (bar <= 1.30)  encoda %.2fs  ffmpeg %.2fs' "$r" "$e" "$f")"
