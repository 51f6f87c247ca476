#!/usr/bin/env bash
# Concat + mux of a finished job against copying the output file. Bar: ratio <= 1.50.
#
# One real encode (x264 ultrafast CRF 12, so the output is large and the join is not lost in start-up time)
# leaves every chunk done in TMP; then, interleaved:
#   encoda: the same command again on the finished TMP — start, load the plan, verify every chunk, join,
#           mux and check OUTPUT (what a user waits for once the last chunk is done);
#   copy:   `cp OUTPUT COPY && sync COPY`: encoda flushes OUTPUT to storage before it renames it into place
#           (a finished encode must survive a power cut), so the like-for-like copy is a durable one.
# The verdict compares the coordinator's own "joined in" figure (verify every chunk against its record, join,
# mux, read back and flush; what the join adds to an encode) with the durable copy. Also printed, for the
# record: the whole re-run against the same copy (it adds process start-up, ~60 ms of loading the 150 shared
# libraries libav pulls in, which an encode pays once at its start, not for the join), and a plain `cp` into
# the page cache (no flush).
#
# usage: bench/join.sh [INPUT]   RUNS (default 11: each run takes well under a second, and single runs scatter by 2-3x)
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-11}
ENCODA=$(encoda_bin)
INPUT=${1:-$(synth_clip)}
header "join: $(basename "$INPUT"), $RUNS interleaved runs"
ARGS=(--encoder h264 --preset ultrafast --crf 12)
"$ENCODA" "$INPUT" "$WORK/out.mkv" "$WORK/tmp" "${ARGS[@]}" --quiet
size_mb=$(du -m "$WORK/out.mkv" | cut -f1)
: >"$WORK/encoda.t"; : >"$WORK/cp.t"; : >"$WORK/cpsync.t"; : >"$WORK/joined"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then order="encoda cpsync cp"; else order="cp cpsync encoda"; fi
  for who in $order; do
    if [ "$who" = encoda ]; then
      rm -f "$WORK/out.mkv"
      time_cmd "$WORK/encoda.t" "$ENCODA" "$INPUT" "$WORK/out.mkv" "$WORK/tmp" "${ARGS[@]}"
      sed -n 's/.*joined in \([0-9.]*\) s.*/\1/p' "$WORK/last.log" >>"$WORK/joined"
    elif [ "$who" = cpsync ]; then
      rm -f "$WORK/copy.mkv"
      time_cmd "$WORK/cpsync.t" sh -c 'cp "$1" "$2" && sync "$2"' sh "$WORK/out.mkv" "$WORK/copy.mkv"
    else
      rm -f "$WORK/copy.mkv"
      time_cmd "$WORK/cp.t" cp "$WORK/out.mkv" "$WORK/copy.mkv"
    fi
  done
done
e=$(median "$WORK/encoda.t"); c=$(median "$WORK/cp.t"); cs=$(median "$WORK/cpsync.t")
j=$(median "$WORK/joined")
note "encoda (finished job): $(all_values "$WORK/encoda.t") s; cp+sync: $(all_values "$WORK/cpsync.t") s; cp: $(all_values "$WORK/cp.t") s; joined in: $(all_values "$WORK/joined") s"
verdict "concat+mux vs durable copy" "$(le "$(ratio "$j" "$cs")" 1.50)" \
  "$(printf 'ratio %s (bar <= 1.50)  join+mux+read-back+flush %ss  cp+sync %.3fs  output %s MB' "$(ratio "$j" "$cs")" "$j" "$cs" "$size_mb")"
verdict "whole re-run vs durable copy" "$(le "$(ratio "$e" "$cs")" 1.50)" \
  "$(printf 'ratio %s (for the record: adds start-up %s, loading the plan and index, checking INPUT)  encoda %.3fs' \
     "$(ratio "$e" "$cs")" "(~60 ms: 150 shared libraries)" "$e")"
verdict "concat+mux vs page-cache cp" "$(le "$(ratio "$j" "$c")" 1.50)" \
  "$(printf 'ratio %s (for the record)  cp %.3fs, no flush' "$(ratio "$j" "$c")" "$c")"
