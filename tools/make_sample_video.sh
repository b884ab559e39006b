#!/usr/bin/env bash
# Generates the embedded sample video from the public-domain astronaut picture
# (scikit-image's astronaut.png, committed as Tests/Fixtures/astronaut.png):
# the picture panned and zoomed over 4 seconds at 25 fps, 640x360.
set -euo pipefail
out=${1:-out/demo/sample.mp4}
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/Tests/Fixtures/astronaut.png"
mkdir -p "$(dirname "$out")"
[ -f "$out" ] && [ "$out" -nt "$src" ] && exit 0
ffmpeg -v error -y -loop 1 -framerate 25 -i "$src" \
  -vf "scale=1280:-2,zoompan=z='1.0+0.3*sin(on/30)':x='iw/2-(iw/zoom/2)+80*sin(on/20)':y='ih/3-(ih/zoom/3)':d=1:s=640x360:fps=25" \
  -frames:v 100 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$out"
