#!/usr/bin/env bash
# A 1080p clip with real faces in motion, for checking that --detect-every keeps every face:
# woman2.mp4 and test.mp4 (../shared/media) six times over a gray 1920x1080 canvas, panning left
# and right, one zooming in, two entering and two leaving the frame; 100 frames at 25 fps.
#   tools/make_moving_crowd_clip.sh out/bench/moving-crowd.mp4 [SHARED_MEDIA_DIR]
set -euo pipefail
out=${1:?output path}
here=$(cd "$(dirname "$0")/.." && pwd)
media=${2:-$here/../shared/media}
w2="$media/woman2.mp4"; t="$media/test.mp4"
for f in "$w2" "$t"; do [ -f "$f" ] || { echo "error: $f not found" >&2; exit 2; }; done
mkdir -p "$(dirname "$out")"
ffmpeg -v error -y -f lavfi -i "color=c=0x505050:s=1920x1080:r=25:d=4" \
  -i "$w2" -i "$t" -ss 5 -i "$w2" -ss 1 -i "$t" -ss 10 -i "$w2" -ss 2 -i "$t" -filter_complex "
[1:v]fps=25,scale=480:-2,setpts=PTS-STARTPTS[a];
[2:v]fps=25,scale=420:-2,setpts=PTS-STARTPTS[b];
[3:v]fps=25,scale=w='300+90*t':h=-2:eval=frame,setpts=PTS-STARTPTS[c];
[4:v]fps=25,scale=400:-2,setpts=PTS-STARTPTS[d];
[5:v]fps=25,scale=440:-2,setpts=PTS-STARTPTS[e];
[6:v]fps=25,scale=360:-2,setpts=PTS-STARTPTS[f];
[0:v][a]overlay=x='60+260*t':y=60:eof_action=pass[v1];
[v1][b]overlay=x='1440-240*t':y=620:eof_action=pass[v2];
[v2][c]overlay=x=760:y=300:eof_action=pass[v3];
[v3][d]overlay=x='-420+520*(t-1)':y=140:enable='gte(t,1)':eof_action=pass[v4];
[v4][e]overlay=x='1460+200*t':y=680:eof_action=pass[v5];
[v5][f]overlay=x='180+180*t':y='700-90*t':enable='lte(t,3)':eof_action=pass,format=yuv420p[out]" \
  -map "[out]" -frames:v 100 -c:v libx264 -preset veryfast -crf 18 "$out"
