#!/usr/bin/env bash
# From a fresh Debian 12 machine to a finished encode: installs the libraries, builds encoda, makes a short
# example clip with three shots (ffmpeg's test sources), encodes it to AV1 and shows what came out.
#
# Everything it writes goes into one folder, $OUT (default /tmp/encoda-example): the clip example.mp4, OUTPUT
# example.av1.mkv and that encode's own TMP, example.av1.tmp. Run again, it makes the clip anew and replaces
# OUTPUT (-y; without it encoda refuses an existing OUTPUT) and discards the old TMP (--restart).
# Usage: scripts/example.sh          OUT=$HOME/encoda-example scripts/example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --release
OUT=${OUT:-/tmp/encoda-example}
mkdir -p "$OUT"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=s=1280x720:r=25 -f lavfi -i mandelbrot=s=1280x720:r=25 -f lavfi -i life=s=320x180:r=25:seed=7,scale=1280:720:flags=neighbor \
  -filter_complex "[0:v]trim=end_frame=75,setpts=PTS-STARTPTS,format=yuv420p[a];[1:v]trim=end_frame=50,setpts=PTS-STARTPTS,format=yuv420p[b];[2:v]trim=end_frame=125,setpts=PTS-STARTPTS,format=yuv420p[c];[a][b][c]concat=n=3:v=1:a=0[v]" \
  -map "[v]" -c:v libx264 -preset veryfast -crf 18 "$OUT/example.mp4"
# -y: a re-run replaces the OUTPUT of the previous run. --restart: a TMP left by an older encoda (or other
# settings) is discarded instead of refused. Each encode gets a TMP of its own, named after its OUTPUT.
.build/release/encoda "$OUT/example.mp4" "$OUT/example.av1.mkv" "$OUT/example.av1.tmp" --preset 10 --restart -y
ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames -of compact "$OUT/example.av1.mkv"
