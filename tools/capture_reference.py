#!/usr/bin/env python3
"""Reference pixels for Tests/CaptureTests, from decoders other than the code under test.

- Tests/Fixtures/astronaut.png decoded by Pillow.
- Tests/Fixtures/photo-420.jpg (made here from astronaut.png by Pillow once: 61x45, 4:2:0, an odd
  size so chroma upsampling meets both edges) decoded by Pillow, with a hash of all its pixels;
  Tests/Fixtures/photo-cmyk.jpg, a CMYK JPEG (made once too), which FFmpeg decodes instead.
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


def fnv1a64(data):
    """FNV-1a, 64 bits, over bytes: CaptureTests compute the same over a decoded frame."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


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
    photo = os.path.join(ROOT, "Tests/Fixtures/photo-420.jpg")
    if not os.path.exists(photo):
        Image.fromarray(png).crop((100, 40, 344, 220)).resize((61, 45), Image.BILINEAR).save(photo, quality=80, subsampling=2)
    cmyk = os.path.join(ROOT, "Tests/Fixtures/photo-cmyk.jpg")
    if not os.path.exists(cmyk):
        Image.fromarray(png).resize((32, 32), Image.BILINEAR).convert("CMYK").save(cmyk, quality=90)
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    out["photo-420.jpg"] = describe(rgb) | {"fnv1a64": f"{fnv1a64(rgb.tobytes()):016x}"}
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
