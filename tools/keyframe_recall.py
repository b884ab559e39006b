#!/usr/bin/env python3
"""How many of full detection's faces the keyframe mode keeps.

    python3 tools/keyframe_recall.py VIDEO [--every 5] [--bin .build/release/fer-live] [--out DIR]

Runs `fer-live log VIDEO --detect-every 1` (full detection on every frame) and `--detect-every N`,
matches each frame's boxes greedily at IoU >= 0.5, and reports the share of full detection's
faces the keyframe mode found, the frames where it missed one, and the longest run of frames a
face stayed missed (a new face may be found up to N-1 frames late). Each miss is also told
apart: "new" when full detection's face had appeared less than N frames before (it follows
full detection's faces from frame to frame at IoU >= 0.3), "lost" otherwise. Standard library only.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def boxes(path: Path) -> dict[int, list[tuple[float, float, float, float]]]:
    out: dict[int, list] = defaultdict(list)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out[int(r["frame"])].append(tuple(float(r[k]) for k in ("x", "y", "width", "height")))
    return out


def iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def greedy_pairs(a: list, b: list, threshold: float) -> list[tuple[int, int]]:
    """Pairs (i, j) of boxes of `a` and `b`, best IoU first, each box used once, IoU >= threshold."""
    pairs = sorted(((iou(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)), reverse=True)
    used_a, used_b, out = set(), set(), []
    for v, i, j in pairs:
        if v < threshold:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i); used_b.add(j); out.append((i, j))
    return out


def matched(full: list, keyed: list, threshold: float = 0.5) -> list[bool]:
    """For each full-detection box, whether a keyframe box matches it (greedy by IoU)."""
    hit = [False] * len(full)
    for i, _ in greedy_pairs(full, keyed, threshold):
        hit[i] = True
    return hit


def track_ages(full: dict[int, list]) -> dict[int, list[int]]:
    """For each full-detection box, how many frames ago its face first appeared (0: new in this
    frame), following each box to the best-overlapping box of the frame before (IoU >= 0.3)."""
    ages: dict[int, list[int]] = {}
    prev_frame, prev_boxes, prev_ages = None, [], []
    for frame in sorted(full):
        cur = full[frame]
        age = [0] * len(cur)
        if prev_frame is not None and frame == prev_frame + 1:
            for i, j in greedy_pairs(cur, prev_boxes, 0.3):
                age[i] = prev_ages[j] + 1
        ages[frame] = age
        prev_frame, prev_boxes, prev_ages = frame, cur, age
    return ages


def run(binary: str, video: str, every: int, out: Path, extra: list[str]) -> Path:
    path = out / f"every{every}.csv"
    subprocess.run([binary, "log", video, "--detect-every", str(every), "--smoothing", "0", "--csv", str(path),
                    "-y", "--quiet"] + extra, check=True)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--bin", default=str(ROOT / ".build/release/fer-live"))
    ap.add_argument("--out", default=str(ROOT / "out/keyframe-recall"))
    ap.add_argument("--json", help="also write the figures here")
    args, extra = ap.parse_known_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    full = boxes(run(args.bin, args.video, 1, out, extra))
    keyed = boxes(run(args.bin, args.video, args.every, out, extra))
    total = found = new_missed = 0
    missed_frames = []
    ages = track_ages(full)
    for frame in sorted(full):
        hit = matched(full[frame], keyed.get(frame, []))
        total += len(hit)
        found += sum(hit)
        new_missed += sum(1 for h, a in zip(hit, ages[frame]) if not h and a < args.every)
        if not all(hit):
            missed_frames.append(frame)
    # Longest run of consecutive frames with a miss: a bound on how late a face is found again.
    longest = run_len = 0
    prev = None
    for f in missed_frames:
        run_len = run_len + 1 if prev is not None and f == prev + 1 else 1
        longest = max(longest, run_len)
        prev = f
    res = dict(video=args.video, every=args.every, full_faces=total, kept=found,
               recall=found / total if total else 1.0, frames_with_a_miss=len(missed_frames),
               longest_miss_run=longest, keyframe_faces=sum(len(v) for v in keyed.values()),
               missed_new=new_missed, missed_lost=total - found - new_missed,
               recall_outside_grace=(found / (total - new_missed)) if total > new_missed else 1.0)
    print(f"{args.video}: full detection {total} faces; --detect-every {args.every} kept {found} "
          f"({100 * res['recall']:.1f}%), {len(missed_frames)} frames with a miss, longest run {longest} frames; "
          f"{res['keyframe_faces']} faces in all; misses: {new_missed} new faces (under {args.every} frames old), "
          f"{res['missed_lost']} lost; kept {100 * res['recall_outside_grace']:.1f}% of the faces outside the new-face grace")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
