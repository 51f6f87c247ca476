#!/usr/bin/env bash
# Every bar of issue 5, one after the other, then a summary: one line per bar with its ratio and PASS/FAIL.
# Takes about 25-30 minutes on 2 cores (the two full encodes dominate; RUNS=3 each side).
#
# usage: bench/all.sh
source "$(dirname "$0")/lib.sh"
export ENCODA_BIN=${ENCODA_BIN:-$(encoda_bin)}
export BENCH_RESULTS=$WORK/results
: >"$BENCH_RESULTS"
B=$(dirname "$0")
started=$(date -u '+%Y-%m-%d %H:%M UTC')
synth_clip >/dev/null
bash "$B/scene.sh" || echo "FAIL  scene: the script stopped with an error" >>"$BENCH_RESULTS"
bash "$B/oneshot.sh" || echo "FAIL  oneshot: the script stopped with an error" >>"$BENCH_RESULTS"
bash "$B/join.sh" || echo "FAIL  join: the script stopped with an error" >>"$BENCH_RESULTS"
bash "$B/memory.sh" || echo "FAIL  memory: the script stopped with an error" >>"$BENCH_RESULTS"
bash "$B/coordination.sh" || echo "FAIL  coordination: the script stopped with an error" >>"$BENCH_RESULTS"
bash "$B/encode.sh" h264 || echo "FAIL  encode h264: the script stopped with an error" >>"$BENCH_RESULTS"
bash "$B/encode.sh" av1 || echo "FAIL  encode av1: the script stopped with an error" >>"$BENCH_RESULTS"
echo
echo "== summary ($started; $CORES cores; load now $(loadavg); $("$ENCODA_BIN" --version 2>/dev/null || echo encoda))"
cat "$BENCH_RESULTS"
