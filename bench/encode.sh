#!/usr/bin/env bash
# Full encode: `encoda INPUT OUTPUT TMP` (scene pass, planning, workers, join — everything a user waits for)
# against one ffmpeg process with the same encoder, preset, CRF and bit depth, on the same input.
# Runs interleaved; medians compared. Then bit rate and VMAF of the last outputs against the source
# (../shared/bench/quality.sh; it installs a libvmaf-enabled ffmpeg from PyPI into the cache on first use).
#
# usage: bench/encode.sh [av1|h264] [INPUT]     RUNS (default 3); QUALITY=0 skips the VMAF measurement;
#                                               EXTRA="--no-segmented-analysis" adds options to encoda's side
#   av1:  SVT-AV1 preset 8, CRF 35, 8-bit   bar: time <= 1.00x, bit rate within ±2 %, VMAF within ±0.3 (issue 16;
#                                                 the 0.95x of issue 5 is out of reach on 2 cores, as its note measured)
#   h264: x264 preset medium, CRF 23        bar: time <= 1.00x, same quality bounds
source "$(dirname "$0")/lib.sh"
CODEC=${1:-av1}
RUNS=${RUNS:-3}
ENCODA=$(encoda_bin)
INPUT=${2:-$(synth_clip)}
encoder_args "$CODEC" || { echo "usage: $0 [av1|h264] [INPUT]" >&2; exit 2; }
case "$CODEC" in
  av1)  BAR=1.00; LABEL="SVT-AV1 p8 crf35" ;;
  h264) BAR=1.00; LABEL="x264 medium crf23" ;;
esac
header "encode $LABEL: $(basename "$INPUT"), $RUNS interleaved runs${EXTRA:+, encoda $EXTRA}"
race_encodes "$RUNS" "$INPUT"
e=$(median "$WORK/encoda.t"); f=$(median "$WORK/ffmpeg.t"); r=$(ratio "$e" "$f")
note "encoda: $(all_values "$WORK/encoda.t") s; ffmpeg: $(all_values "$WORK/ffmpeg.t") s; pairs: $(pair_ratios "$WORK/encoda.t" "$WORK/ffmpeg.t")"
note "CPU seconds (user + system) encoda: $(all_values "$WORK/encoda.t" 3); ffmpeg: $(all_values "$WORK/ffmpeg.t" 3); median ratio $(ratio "$(median "$WORK/encoda.t" 3)" "$(median "$WORK/ffmpeg.t" 3)")"
verdict "encode $LABEL" "$(le "$r" "$BAR")" \
  "$(printf 'ratio %s (bar <= %s)  encoda %.1fs  ffmpeg %.1fs' "$r" "$BAR" "$e" "$f")"

# Quality of the last outputs: bit rate and VMAF against the source.
kb_e=$(video_kbps "$WORK/encoda.mkv"); kb_f=$(video_kbps "$WORK/ffmpeg.mkv")
dkb=$(awk -v a="$kb_e" -v b="$kb_f" 'BEGIN {printf "%+.2f", (a / b - 1) * 100}')
kb_ok=$(awk -v d="$dkb" 'BEGIN {print (d <= 2 && d >= -2) ? 1 : 0}')
if [ "${QUALITY:-1}" = 0 ]; then
  verdict "bit rate $LABEL" "$kb_ok" "$(printf 'encoda %s kb/s vs ffmpeg %s kb/s: %s %% (bar ±2 %%); VMAF skipped (QUALITY=0)' "$kb_e" "$kb_f" "$dkb")"
  exit 0
fi
q_e=$(bash "$SHARED/bench/quality.sh" "$WORK/encoda.mkv" "$INPUT")
q_f=$(bash "$SHARED/bench/quality.sh" "$WORK/ffmpeg.mkv" "$INPUT")
v_e=$(echo "$q_e" | sed -n 's/.*vmaf=\([0-9.]*\).*/\1/p'); v_f=$(echo "$q_f" | sed -n 's/.*vmaf=\([0-9.]*\).*/\1/p')
dv=$(awk -v a="$v_e" -v b="$v_f" 'BEGIN {printf "%+.2f", a - b}')
v_ok=$(awk -v d="$dv" 'BEGIN {print (d <= 0.3 && d >= -0.3) ? 1 : 0}')
note "quality encoda: $q_e"; note "quality ffmpeg: $q_f"
verdict "quality $LABEL" "$((kb_ok && v_ok))" \
  "$(printf 'bit rate %s %% (bar ±2 %%: %s vs %s kb/s)  VMAF %s (bar ±0.3: %s vs %s)' "$dkb" "$kb_e" "$kb_f" "$dv" "$v_e" "$v_f")"
