#!/usr/bin/env bash
# Bit identity of two builds: the same jobs run by a BEFORE and an AFTER binary must give the same bits.
# A refactor that promises "behaviour and output bits unchanged" (issue 14) proves it here.
#
# For each job (x264 lossless, x264 CRF 23 medium, SVT-AV1 preset 8 CRF 35, each with --keep so the chunks stay):
#   chunks:   every result record's (frames, bytes, CRC-32) and every chunk file's MD5, by chunk number;
#   output:   every packet of OUTPUT as stored (`ffmpeg -c copy -f framemd5`: bytes, pts, dts, duration, flags) and
#             every decoded frame (`ffmpeg -f framemd5`: pixels and timestamps). Not the file's own MD5: Matroska
#             writes a random segment UID into every file, so two runs of one build differ there already.
# The two sides run interleaved, the same options and a fixed --workers/--threads, so the encoders see the same
# work split (SVT-AV1 and x264 are deterministic for a given thread count; SVT-AV1's VBR is not, so no VBR job).
#
# usage: bench/identity.sh BEFORE_BIN AFTER_BIN [INPUT]     (INPUT defaults to the 64.6 s synthetic bench clip)
#        IDENTITY_JOBS="lossless h264 av1" (the default) picks the jobs.
source "$(dirname "$0")/lib.sh"
BEFORE=${1:?usage: bench/identity.sh BEFORE_BIN AFTER_BIN [INPUT]}
AFTER=${2:?usage: bench/identity.sh BEFORE_BIN AFTER_BIN [INPUT]}
INPUT=${3:-$(synth_clip)}
header "identity: $(basename "$INPUT"), $BEFORE vs $AFTER"

# chunk_table TMP — one line per chunk: number frames bytes crc32 md5-of-chunk-file.
chunk_table() {
  local tmp=$1 r n
  for r in "$tmp"/results/*.json; do
    n=$(basename "$r" .json)
    python3 - "$r" "$tmp" "$n" <<'EOF'
import hashlib, json, os, sys
rec = json.load(open(sys.argv[1]))
path = os.path.join(sys.argv[2], "chunks", rec["file"]) if not os.path.isabs(rec["file"]) else rec["file"]
md5 = hashlib.md5(open(path, "rb").read()).hexdigest() if os.path.exists(path) else "missing"
print(sys.argv[3], rec["frames"], rec["bytes"], rec["crc32"], md5)
EOF
  done
}

all_ok=1
run_job() {
  local name=$1; shift
  local side bin
  for side in before after; do
    [ "$side" = before ] && bin=$BEFORE || bin=$AFTER
    rm -rf "$WORK/$side"; mkdir -p "$WORK/$side"
    "$bin" "$INPUT" "$WORK/$side/out.mkv" "$WORK/$side/tmp" "$@" --workers 2 --threads 1 --keep --quiet
    chunk_table "$WORK/$side/tmp" >"$WORK/$side/chunks.txt"
    ffmpeg -hide_banner -loglevel error -nostdin -i "$WORK/$side/out.mkv" -map 0:v -f framemd5 - >"$WORK/$side/framemd5.txt"
    ffmpeg -hide_banner -loglevel error -nostdin -i "$WORK/$side/out.mkv" -map 0 -c copy -f framemd5 - >"$WORK/$side/packets.txt"
  done
  local n same frames_same bytes_same ok=1
  n=$(wc -l <"$WORK/after/chunks.txt")
  same=$(comm -12 <(sort "$WORK/before/chunks.txt") <(sort "$WORK/after/chunks.txt") | wc -l)
  [ "$n" -gt 0 ] && [ "$same" = "$n" ] && [ "$(wc -l <"$WORK/before/chunks.txt")" = "$n" ] || ok=0
  if cmp -s "$WORK/before/framemd5.txt" "$WORK/after/framemd5.txt"; then frames_same=identical; else frames_same=DIFFERENT; ok=0; fi
  if cmp -s "$WORK/before/packets.txt" "$WORK/after/packets.txt"; then bytes_same=identical; else bytes_same=DIFFERENT; ok=0; fi
  [ "$ok" = 1 ] || all_ok=0
  verdict "identity $name" "$ok" "chunks identical $same/$n, decoded framemd5 $frames_same ($(grep -vc '^#' "$WORK/after/framemd5.txt") frames), packets $bytes_same ($(grep -vc '^#' "$WORK/after/packets.txt"))"
}

for job in ${IDENTITY_JOBS:-lossless h264 av1}; do
  case "$job" in
    lossless) run_job "x264 lossless" --encoder h264 --lossless ;;
    h264) run_job "x264 medium crf23" --encoder h264 --preset medium --crf 23 ;;
    av1) run_job "svt-av1 p8 crf35" --encoder av1 --preset 8 --crf 35 ;;
    *) note "unknown job $job (lossless, h264, av1)"; exit 64 ;;
  esac
done
[ "$all_ok" = 1 ]
