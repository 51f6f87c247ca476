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
encoder_args "$CODEC" || { echo "usage: $0 [INPUT] [av1|h264]" >&2; exit 2; }
header "one-shot $CODEC: $(basename "$INPUT"), $RUNS interleaved runs"
race_encodes "$RUNS" "$INPUT"
e=$(median "$WORK/encoda.t"); f=$(median "$WORK/ffmpeg.t"); r=$(ratio "$e" "$f")
note "encoda: $(all_values "$WORK/encoda.t") s; ffmpeg: $(all_values "$WORK/ffmpeg.t") s"
verdict "one-shot $(basename "$INPUT") $CODEC" "$(le "$r" 1.30)" \
  "$(printf 'ratio %s (bar <= 1.30)  encoda %.2fs  ffmpeg %.2fs' "$r" "$e" "$f")"
