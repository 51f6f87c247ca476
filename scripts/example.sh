#!/usr/bin/env bash
# From a fresh Debian 12 machine to a finished encode: installs the libraries, builds encoda, makes a short
# example clip with three shots (ffmpeg's test sources), encodes it to AV1 and shows what came out.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --release
OUT=${OUT:-/tmp/encoda-example}
mkdir -p "$OUT"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=s=1280x720:r=25 -f lavfi -i mandelbrot=s=1280x720:r=25 -f lavfi -i life=s=320x180:r=25:seed=7,scale=1280:720:flags=neighbor \
  -filter_complex "[0:v]trim=end_frame=75,setpts=PTS-STARTPTS,format=yuv420p[a];[1:v]trim=end_frame=50,setpts=PTS-STARTPTS,format=yuv420p[b];[2:v]trim=end_frame=125,setpts=PTS-STARTPTS,format=yuv420p[c];[a][b][c]concat=n=3:v=1:a=0[v]" \
  -map "[v]" -c:v libx264 -preset veryfast -crf 18 "$OUT/example.mp4"
# --restart: a TMP left by an older encoda (or other settings) is discarded instead of refused.
.build/release/encoda "$OUT/example.mp4" "$OUT/example.av1.mkv" "$OUT/tmp" --preset 10 --restart
ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames -of compact "$OUT/example.av1.mkv"
