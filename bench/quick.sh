#!/usr/bin/env bash
# Smoke run of every benchmark on a tiny generated clip (4 s, 320x240, one cut): one run each, no verdicts
# (lines say "smoke"), no VMAF. Proves the scripts and the binary work together; it measures nothing.
# CI may run it; its exit status is non-zero only when a command fails.
#
# usage: bench/quick.sh
source "$(dirname "$0")/lib.sh"
export ENCODA_BIN=${ENCODA_BIN:-$(encoda_bin)}
export BENCH_SMOKE=1 RUNS=1 QUALITY=0
tiny=$(tiny_clip)
B=$(dirname "$0")
bash "$B/scene.sh" "$tiny" "50"
bash "$B/encode.sh" av1 "$tiny"
bash "$B/encode.sh" h264 "$tiny"
bash "$B/oneshot.sh" "$tiny"
bash "$B/join.sh" "$tiny"
