#!/usr/bin/env python3
"""Reference outputs of facenet-pytorch 2.5.3's MTCNN for the Swift tests (Tests/Fixtures/mtcnn).

Writes:
  astronaut.rgb, group.rgb, noface.rgb  raw RGB24 inputs (sizes in reference.json)
  reference.json   MTCNN(keep_all=True) boxes [x1, y1, x2, y2], scores, landmarks per input;
                   inputs from ../shared (media/*.mp4 frames, *.jpg) are listed with their path
                   and frame numbers only (never copied): tests decode them with the ffmpeg CLI
                   exactly as done here, and skip when shared data is absent.
  nets.safetensors fixed network inputs and the raw P-Net / R-Net / O-Net outputs, plus one
                   area-resampled pyramid level (torch interpolate(mode="area")).

    /work/venv/bin/python tools/make_mtcnn_fixtures.py [--shared /work/shared]
"""
import argparse
import json
import os
import subprocess

import numpy as np
import torch
from PIL import Image
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import imresample
from safetensors.torch import save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "mtcnn")

VIDEO_FRAMES = {"media/woman2.mp4": [0, 25, 50, 75, 100], "media/test.mp4": [0, 30, 60, 90]}
STILLS = ["media/justin.jpg", "media/no-faces.jpg"]


def ffmpeg_frames(path, frames=None):
    """RGB24 frames decoded by the ffmpeg CLI, the same command the Swift tests run."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", path],
                           check=True, capture_output=True, text=True).stdout.strip().split(",")
    w, h = int(probe[0]), int(probe[1])
    cmd = ["ffmpeg", "-v", "error", "-i", path]
    if frames is not None:
        sel = "+".join(f"eq(n\\,{n})" for n in frames)
        cmd += ["-vf", f"select='{sel}'"]
    cmd += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)
    return arr


def group_picture(astro):
    """Astronaut's head and shoulders pasted at several sizes on a smooth background."""
    h, w = 300, 480
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([60 + 80 * xx / w, 90 + 60 * yy / h, 140 - 50 * xx / w], axis=-1)
    canvas = Image.fromarray(bg.astype(np.uint8))
    head = Image.fromarray(astro).crop((130, 20, 330, 220))
    for size, (x, y) in [(150, (20, 40)), (100, (200, 20)), (70, (340, 60)), (48, (220, 200)), (36, (330, 220)),
                         (120, (330, 150))]:
        canvas.paste(head.resize((size, size), Image.BILINEAR), (x, y))
    return np.array(canvas)


def noface_picture():
    """Smooth gradients, blobs and stripes: textures with no face."""
    h, w = 240, 320
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(xx / 37.0) * np.cos(yy / 53.0)
    g = 128 + 90 * np.cos((xx + yy) / 41.0)
    b = 100 + 80 * ((xx // 40 + yy // 40) % 2)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def detect(mtcnn, img):
    boxes, probs, points = mtcnn.detect(img, landmarks=True)
    faces = []
    if boxes is not None:
        for b, p, pts in zip(boxes, probs, points):
            faces.append({"box": [float(v) for v in b], "score": float(p),
                          "landmarks": [[float(x), float(y)] for x, y in pts]})
    return sorted(faces, key=lambda f: -f["score"])


def norm(t):
    return (t - 127.5) * 0.0078125


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=os.environ.get("FER_SHARED", os.path.join(ROOT, "..", "shared")))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    mtcnn = MTCNN(keep_all=True, device="cpu")
    options = {"min_face_size": 20, "factor": 0.709, "thresholds": [0.6, 0.7, 0.7]}

    astro = np.array(Image.open(os.path.join(ROOT, "Tests", "Fixtures", "astronaut.png")).convert("RGB"))
    cases = []
    for name, img in [("astronaut", astro), ("group", group_picture(astro)), ("noface", noface_picture())]:
        img.tofile(os.path.join(OUT, f"{name}.rgb"))
        faces = detect(mtcnn, img)
        cases.append({"name": name, "input": {"kind": "raw", "file": f"{name}.rgb",
                                              "width": img.shape[1], "height": img.shape[0]}, "faces": faces})
        print(f"{name}: {img.shape[1]}x{img.shape[0]}, {len(faces)} faces")

    # A JPEG photo, detected as a facenet-pytorch user loads one (Pillow): the "photo" case. The
    # file is made once (quality 75: blocky enough that how it is decoded moves the boxes).
    photo = os.path.join(OUT, "group.jpg")
    if not os.path.exists(photo):
        Image.fromarray(group_picture(astro)).save(photo, quality=75)
    img = np.asarray(Image.open(photo).convert("RGB"))
    faces = detect(mtcnn, img)
    cases.append({"name": "group.jpg", "input": {"kind": "photo", "file": "group.jpg",
                                                 "width": img.shape[1], "height": img.shape[0]}, "faces": faces})
    print(f"group.jpg: {img.shape[1]}x{img.shape[0]}, {len(faces)} faces")

    if os.path.isdir(args.shared):
        for rel, frames in VIDEO_FRAMES.items():
            arr = ffmpeg_frames(os.path.join(args.shared, rel), frames)
            for n, img in zip(frames, arr):
                faces = detect(mtcnn, img)
                cases.append({"name": f"{rel}#{n}", "input": {"kind": "shared", "path": rel, "frame": n,
                                                               "width": img.shape[1], "height": img.shape[0]},
                              "faces": faces})
                print(f"{rel}#{n}: {len(faces)} faces")
        for rel in STILLS:
            img = ffmpeg_frames(os.path.join(args.shared, rel))[0]
            faces = detect(mtcnn, img)
            cases.append({"name": rel, "input": {"kind": "shared", "path": rel, "frame": 0,
                                                  "width": img.shape[1], "height": img.shape[0]}, "faces": faces})
            print(f"{rel}: {img.shape[1]}x{img.shape[0]}, {len(faces)} faces")
    else:
        print(f"no shared data at {args.shared}: shared cases left out")

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"generator": "tools/make_mtcnn_fixtures.py", "reference": "facenet-pytorch 2.5.3 MTCNN(keep_all=True)",
                   "box_format": "x1,y1,x2,y2", "options": options, "cases": cases}, f, indent=1)

    # Network-level fixtures: real image content, normalized as detect_face does.
    x = torch.as_tensor(astro).permute(2, 0, 1).unsqueeze(0).float()
    tensors = {}
    level = imresample(x, (int(512 * 0.6 * 0.709 ** 4 + 1), int(512 * 0.6 * 0.709 ** 4 + 1)))
    tensors["pyramid.scale"] = torch.tensor([0.6 * 0.709 ** 4])
    tensors["pyramid.out"] = norm(level)
    pin = norm(imresample(x[:, :, 60:260, 140:340], (41, 37)))
    with torch.no_grad():
        reg, prob = mtcnn.pnet(pin)
        tensors["pnet.in"], tensors["pnet.reg"], tensors["pnet.prob"] = pin, reg, prob
        boxes = [(80, 160, 200, 300), (100, 120, 260, 320), (0, 0, 100, 100), (300, 300, 500, 500), (60, 150, 250, 280)]
        rin = torch.cat([norm(imresample(x[:, :, y0:y1, x0:x1], (24, 24))) for (y0, x0, y1, x1) in boxes])
        reg, prob = mtcnn.rnet(rin)
        tensors["rnet.in"], tensors["rnet.reg"], tensors["rnet.prob"] = rin, reg, prob
        oin = torch.cat([norm(imresample(x[:, :, y0:y1, x0:x1], (48, 48))) for (y0, x0, y1, x1) in boxes[:3]])
        reg, pts, prob = mtcnn.onet(oin)
        tensors["onet.in"], tensors["onet.reg"], tensors["onet.landmarks"], tensors["onet.prob"] = oin, reg, pts, prob
    save_file({k: v.float().contiguous() for k, v in tensors.items()}, os.path.join(OUT, "nets.safetensors"),
              metadata={"generator": "tools/make_mtcnn_fixtures.py"})
    print("nets.safetensors:", {k: list(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
