#!/usr/bin/env bash
# A trim's analysis (packet index + decode of the range and the frame before it) against today's whole-file scene
# pass, on a long input: a shared clip looped with `ffmpeg -stream_loop … -c copy` to MINUTES minutes. Three sides,
# interleaved, medians compared:
#   whole  `encoda detect LONG TMP`                                         every frame decoded and measured
#   index  `encoda LONG out.mkv TMP --start 0 --end 1 --dry-run`            the packet index alone (and frame 0)
#   trim   `encoda LONG out.mkv TMP --start <middle> --duration 10s --dry-run`  index + a 10 s range in the middle
# Bar: trim <= 0.10 of whole, and the trim's scenes.json shows the decode was confined to the range.
#
# usage: bench/trim-analysis.sh [INPUT [MINUTES]]   default: ../shared/media/bikes.mp4 looped to 12 minutes; RUNS (default 3)
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
ENCODA=$(encoda_bin)
SRC=${1:-$SHARED/media/bikes.mp4}
MINUTES=${2:-12}
LONG="$CACHE/media/$(basename "${SRC%.*}")-loop${MINUTES}m.mkv"
if [ ! -f "$LONG" ]; then
  secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$SRC")
  loops=$(awk -v s="$secs" -v m="$MINUTES" 'BEGIN {printf "%d", m * 60 / s}')
  note "looping $(basename "$SRC") ($secs s) $loops times into $LONG…"
  ffmpeg -hide_banner -loglevel error -nostdin -y -stream_loop "$loops" -i "$SRC" -map 0:v -c copy "$LONG.part.mkv"
  mv "$LONG.part.mkv" "$LONG"
fi
frames=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$LONG")
fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$LONG" | awk -F/ '{printf "%.6f", $1 / ($2 ? $2 : 1)}')
middle=$(awk -v n="$frames" 'BEGIN {printf "%d", n / 2}')
header "trim analysis: $(basename "$LONG") ($frames frames), $RUNS interleaved runs"

: >"$WORK/whole.t"; : >"$WORK/index.t"; : >"$WORK/trim.t"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then order="whole index trim"; else order="trim index whole"; fi
  for who in $order; do
    rm -rf "$WORK/tmp"
    case $who in
      whole) time_cmd "$WORK/whole.t" "$ENCODA" detect "$LONG" "$WORK/tmp" --quiet ;;
      index) time_cmd "$WORK/index.t" "$ENCODA" "$LONG" "$WORK/out.mkv" "$WORK/tmp" --encoder h264 --start 0 --end 1 --dry-run --quiet ;;
      trim)  time_cmd "$WORK/trim.t" "$ENCODA" "$LONG" "$WORK/out.mkv" "$WORK/tmp" --encoder h264 --start "$middle" --duration 10s --dry-run --quiet
             decoded=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c.get("framesDecoded", -1), c.get("analysed"))' "$WORK/tmp/scenes.json") ;;
    esac
  done
done
w=$(median "$WORK/whole.t"); x=$(median "$WORK/index.t"); t=$(median "$WORK/trim.t")
r=$(ratio "$t" "$w"); rx=$(ratio "$x" "$w")
n=${decoded%% *}
confined=$(awk -v d="$n" -v f="$fps" -v all="$frames" 'BEGIN {print (d > 0 && d < 10 * f + 2 * 300 && d < all) ? 1 : 0}')
note "whole: $(all_values "$WORK/whole.t") s; index: $(all_values "$WORK/index.t") s; trim: $(all_values "$WORK/trim.t") s"
note "trim's scenes.json: framesDecoded analysed = $decoded"
verdict "trim analysis vs whole pass" "$(( $(le "$r" 0.10) && confined ))" \
  "$(printf 'ratio %s (bar <= 0.10)  trim %.2fs  packet index alone %.2fs (%s of whole)  whole %.2fs  %s of %s frames decoded' "$r" "$t" "$x" "$rx" "$w" "$n" "$frames")"
