#!/usr/bin/env bash
# Generates a synthetic "crowd" clip for detection benchmarks: the public-domain astronaut
# picture (Tests/Fixtures/astronaut.png) tiled 3x2 (six faces), with moving grain so frames
# differ, scaled to WIDTHxHEIGHT.
#   tools/make_crowd_clip.sh out/bench/crowd-640x360.mp4 640 360 50
#   tools/make_crowd_clip.sh out/bench/crowd-1920x1080.mp4 1920 1080 30
set -euo pipefail
out=${1:?output path}; w=${2:-640}; h=${3:-360}; frames=${4:-50}
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/Tests/Fixtures/astronaut.png"
mkdir -p "$(dirname "$out")"
ffmpeg -v error -y -loop 1 -framerate 25 -i "$src" -filter_complex \
  "[0:v]split=6[a][b][c][d][e][f];[a][b][c]hstack=3[top];[d][e][f]hstack=3[bot];[top][bot]vstack,scale=${w}:${h},noise=alls=6:allf=t,format=yuv420p" \
  -frames:v "$frames" -c:v libx264 -preset veryfast -crf 18 "$out"
