#!/usr/bin/env python3
"""Time facenet-pytorch 2.5.3's MTCNN(keep_all=True) on frames of INPUT (decoded first with the
ffmpeg CLI to RGB24, as the Swift side's tests do), two torch threads, default parameters.
Prints frames, faces, the median fps over --runs passes and the median process CPU time per frame
(user + system, all threads: less sensitive to other load than fps); --json adds one JSON line.

    /work/venv/bin/python tools/bench_reference_mtcnn.py /work/shared/media/woman2.mp4 --frames 100
"""
import argparse
import json
import statistics
import subprocess
import time

import numpy as np
import torch
from facenet_pytorch import MTCNN


def decode(path, frames):
    w, h = map(int, subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                    "stream=width,height", "-of", "csv=p=0", path],
                                   check=True, capture_output=True, text=True).stdout.strip().split(","))
    # -fps_mode passthrough: the stream's own frames. The rawvideo output is otherwise constant-rate
    # from time 0, so a stream that starts later (audience.mp4 at 0.85 s) began with 25 copies of
    # its first frame, and the reference was timed on other frames than fer-live.
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-frames:v", str(frames), "-fps_mode", "passthrough", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("input")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    frames = decode(args.input, args.frames)
    mtcnn = MTCNN(keep_all=True, device="cpu")
    for f in frames[:5]:
        mtcnn.detect(f)
    times, cpu, faces = [], [], 0
    for _ in range(args.runs):
        found = 0
        c0 = time.process_time()
        t0 = time.perf_counter()
        for f in frames:
            boxes, _ = mtcnn.detect(f)
            found += 0 if boxes is None else len(boxes)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        faces = found
    med = statistics.median(times)
    fps = len(frames) / med
    cpu_ms = statistics.median(cpu) / len(frames) * 1000
    h, w = frames.shape[1:3]
    print(f"facenet-pytorch MTCNN: {len(frames)} frames {w}x{h}, {faces} faces, median {med:.3f} s "
          f"over {args.runs} runs, {fps:.1f} fps ({args.threads} threads), CPU {cpu_ms:.2f} ms/frame (all threads)")
    if args.json:
        print(json.dumps({"input": args.input, "frames": len(frames), "faces": faces, "seconds": med, "fps": fps,
                          "cpu_ms_per_frame": cpu_ms, "threads": args.threads, "runs": args.runs}))


if __name__ == "__main__":
    main()
