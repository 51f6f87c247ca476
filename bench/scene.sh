#!/usr/bin/env bash
# Scene pass (`encoda detect`) against the floor: decoding the same file with one ffmpeg process,
# `ffmpeg -threads N -i INPUT -map 0:v -f null -` (N = cores). Runs interleaved, medians compared.
# Bar: ratio <= 1.10 and the cuts equal the ground truth.
#
# usage: bench/scene.sh [INPUT [CUTS]]   default: the synthetic clip and its ground-truth cuts; RUNS (default 5)
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-5}
ENCODA=$(encoda_bin)
INPUT=${1:-$(synth_clip)}
if [ $# -ge 2 ]; then EXPECTED=$2; elif [ $# -eq 0 ]; then EXPECTED=$(synth_cuts); else EXPECTED=""; fi
header "scene pass: $(basename "$INPUT"), $RUNS interleaved runs"

: >"$WORK/encoda.t"; : >"$WORK/ffmpeg.t"
for i in $(seq "$RUNS"); do
  # Alternate who goes first, so neither side always meets a warmer or colder machine.
  if [ $((i % 2)) = 1 ]; then order="encoda ffmpeg"; else order="ffmpeg encoda"; fi
  for who in $order; do
    if [ "$who" = encoda ]; then
      rm -rf "$WORK/tmp"
      time_cmd "$WORK/encoda.t" "$ENCODA" detect "$INPUT" "$WORK/tmp" --quiet
      cp "$WORK/last.log" "$WORK/cuts.txt"
    else
      time_cmd "$WORK/ffmpeg.t" ffmpeg -hide_banner -loglevel error -nostdin -threads "$CORES" -i "$INPUT" -map 0:v -f null -
    fi
  done
done
e=$(median "$WORK/encoda.t"); f=$(median "$WORK/ffmpeg.t"); r=$(ratio "$e" "$f")
found=$(cut -f1 "$WORK/cuts.txt" | tr '\n' ' ' | sed 's/ $//')
cuts_ok=1; cuts_note="cuts: $found"
if [ -n "$EXPECTED" ]; then
  if [ "$found" = "$EXPECTED" ]; then cuts_note="cuts = ground truth ($(echo "$found" | wc -w))"
  else cuts_ok=0; cuts_note="cuts [$found] != expected [$EXPECTED]"; fi
fi
ok=$(( $(le "$r" 1.10) && cuts_ok ))
note "encoda detect: $(all_values "$WORK/encoda.t") s; ffmpeg decode: $(all_values "$WORK/ffmpeg.t") s"
verdict "scene pass vs decode" "$ok" \
  "$(printf 'ratio %s (bar <= 1.10)  encoda %.2fs  ffmpeg -threads %s %.2fs  peak RSS %s KB; %s' "$r" "$e" "$CORES" "$f" "$(median "$WORK/encoda.t" 2)" "$cuts_note")"
