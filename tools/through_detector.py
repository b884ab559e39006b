#!/usr/bin/env python3
"""Accuracy through the detector: FER2013 faces as a video, classified the way a user's video is.

    python3 tools/through_detector.py [--data CSV] [--usage PublicTest] [--model NAME] [--flip] [--bin fer-live] [--out DIR]

Each face of the chosen Usage is upscaled from 48x48 to 160x160 (bilinear) and centred on a
320x240 mid-gray frame, one face per frame, in a lossless video (FFV1, gray). `fer-live log
--detect-every 1 --smoothing 0` runs on it, and the face nearest the centre of each frame is
compared with the label. `fer-live eval --predictions` classifies the same rows directly. The
report gives both accuracies over the frames where the detector found a face, so the difference
is what the crop costs. Needs only Python's standard library and ffmpeg.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACE, FRAME_W, FRAME_H = 160, 320, 240


def rows(path: Path, usage: str):
    """(line number, label, pixel bytes) of the rows with this Usage, in file order."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as f:
        rd = csv.reader(f)
        header = [h.strip().lower() for h in next(rd)]
        ie, ip = header.index("emotion"), header.index("pixels")
        iu = header.index("usage") if "usage" in header else None
        for line, r in enumerate(rd, start=2):
            if len(r) != len(header) or (iu is not None and r[iu].strip() != usage):
                continue
            px = bytes(int(v) for v in r[ip].split())
            if len(px) == 48 * 48:
                yield line, int(r[ie]), px


def make_video(faces: list[bytes], out: Path) -> None:
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "48x48",
           "-r", "25", "-i", "-", "-vf",
           f"scale={FACE}:{FACE}:flags=bilinear,pad={FRAME_W}:{FRAME_H}:{(FRAME_W - FACE) // 2}:{(FRAME_H - FACE) // 2}:color=0x808080",
           "-c:v", "ffv1", "-pix_fmt", "gray", str(out)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert p.stdin is not None
    for px in faces:
        p.stdin.write(px)
    p.stdin.close()
    if p.wait() != 0:
        raise SystemExit(f"error: ffmpeg failed writing {out}")


LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/fer2013/fer2013-train-publictest.csv.gz"))
    ap.add_argument("--usage", default="PublicTest")
    ap.add_argument("--model", help="emotion model name (default: the shipped default)")
    ap.add_argument("--bin", default=str(ROOT / ".build/release/fer-live"))
    ap.add_argument("--out", default=str(ROOT / "out/through-detector"))
    ap.add_argument("--flip", action="store_true", help="mirror test-time augmentation in both runs (fer-live --flip)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    if not data.exists():
        print(f"error: {data}: no such file (FER2013 CSV)", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    items = list(rows(data, args.usage))
    if not items:
        print(f"error: {data}: no rows with Usage {args.usage}", file=sys.stderr)
        return 2
    video = out / f"{args.usage}-faces.mkv"
    if not video.exists() or video.stat().st_mtime < data.stat().st_mtime:
        make_video([px for _, _, px in items], video)
    model = (["--model", args.model] if args.model else []) + (["--flip"] if args.flip else [])
    pred, det = out / "direct.csv", out / "detected.csv"
    subprocess.run([args.bin, "eval", str(data), "--usage", args.usage, "--predictions", str(pred), "-y"] + model,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([args.bin, "log", str(video), "--detect-every", "1", "--smoothing", "0", "--csv", str(det),
                    "-y", "--quiet"] + model, check=True)
    direct = {}
    with open(pred, newline="") as f:
        for r in csv.DictReader(f):
            direct[int(r["line"])] = r["prediction"]
    best: dict[int, tuple[float, str]] = {}
    cx, cy = FRAME_W / 2, FRAME_H / 2
    with open(det, newline="") as f:
        for r in csv.DictReader(f):
            i = int(r["frame"])
            x, y, w, h = (float(r[k]) for k in ("x", "y", "width", "height"))
            d = math.hypot(x + w / 2 - cx, y + h / 2 - cy)
            if i not in best or d < best[i][0]:
                best[i] = (d, r["emotion"])
    n = len(items)
    found = [(k, lab, best[k][1]) for k, (line, lab, _) in enumerate(items) if k in best]
    ok_det = sum(1 for k, lab, p in found if p == LABELS[lab])
    ok_dir_found = sum(1 for k, lab, _ in found if direct.get(items[k][0]) == LABELS[lab])
    ok_dir_all = sum(1 for line, lab, _ in items if direct.get(line) == LABELS[lab])
    res = dict(data=str(data), usage=args.usage, model=args.model or "default", flip=args.flip, faces=n, found=len(found),
               direct_all=ok_dir_all / n, direct_on_found=ok_dir_found / max(1, len(found)),
               through_detector=ok_det / max(1, len(found)))
    res["loss_points"] = 100 * (res["direct_on_found"] - res["through_detector"])
    print(f"{args.usage}: {n} faces, the detector found {len(found)} ({100 * len(found) / n:.1f}%)")
    print(f"  direct, all faces:          {100 * res['direct_all']:.2f}%")
    print(f"  direct, the faces found:    {100 * res['direct_on_found']:.2f}%")
    print(f"  through the detector:       {100 * res['through_detector']:.2f}%  ({res['loss_points']:+.2f} points lost)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
