#!/usr/bin/env python3
"""Reference pixels for Tests/CaptureTests, from decoders other than the code under test.

- Tests/Fixtures/astronaut.png decoded by Pillow.
- Frame 0 of shared/media/woman2.mp4 and test.mp4 decoded by the ffmpeg command line to rgb24
  (its default swscale path, bicubic chroma), where the shared media exists.

Writes Tests/Fixtures/capture_reference.json. Run: /work/venv/bin/python tools/capture_reference.py
"""
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("FER_SHARED", os.path.join(ROOT, "..", "shared"))
# Fixed sample points: corners, centre and a few inside.
POINTS = [(0, 0), (5, 7), (100, 200), (255, 255), (300, 40), (17, 311), (500, 500), (511, 0)]


def describe(rgb):
    h, w, _ = rgb.shape
    pts = [(x % w, y % h) for x, y in POINTS]
    return {
        "width": w,
        "height": h,
        "mean": [float(rgb[:, :, c].mean()) for c in range(3)],
        "pixels": [[x, y] + [int(v) for v in rgb[y, x]] for x, y in pts],
    }


def ffmpeg_frame0(path):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
         "-of", "csv=p=0", path], check=True, capture_output=True, text=True).stdout.strip()
    w, h = (int(v) for v in probe.split(","))
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)


def main():
    out = {}
    png = np.asarray(Image.open(os.path.join(ROOT, "Tests/Fixtures/astronaut.png")).convert("RGB"))
    out["astronaut.png"] = describe(png)
    for name in ["woman2.mp4", "test.mp4"]:
        path = os.path.join(SHARED, "media", name)
        if os.path.exists(path):
            out[name + "#0"] = describe(ffmpeg_frame0(path))
        else:
            print(f"skipping {name}: {path} not found", file=sys.stderr)
    dest = os.path.join(ROOT, "Tests/Fixtures/capture_reference.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", dest)


if __name__ == "__main__":
    main()
