"""One compact file with everything `training.recipe` needs: the FER2013 images and labels, and
the pipeline's framing of each face (`training.framing`).

    python -m training.pack --data ../shared/data/fer2013/fer2013-train-publictest.csv.gz \
        --framing out/framing --out out/gpu/fer2013.npz.xz [--parts 2]

`--framing DIR` holds `Training.csv` and `PublicTest.csv` from `fer-live measure-framing
--usage U --rows 100000 --side 160 --margin 40 --transforms DIR/U.csv`. The output is an npz
compressed with xz; `--parts N` cuts it into N files (`.part0`, `.part1`, ...) so that each fits a
transfer limit; `load` takes the file or its first part.
"""
from __future__ import annotations

import argparse
import io
import lzma
import sys
from pathlib import Path

import numpy as np

from . import data, framing

SPLITS = {"train": "Training", "test": "PublicTest"}


def build(data_path: str, framing_dir: str) -> dict[str, np.ndarray]:
    raw = data.load_raw(data_path)
    out: dict[str, np.ndarray] = {}
    for key, usage in SPLITS.items():
        sel = raw.splits == data.SPLITS.index(usage)
        images, labels = raw.images[sel], raw.labels[sel]
        fr = framing.read_transforms(Path(framing_dir) / f"{usage}.csv", len(images))
        out[f"{key}_images"] = images
        out[f"{key}_labels"] = labels.astype(np.uint8)
        out[f"{key}_found"] = fr.found
        out[f"{key}_affine"] = fr.affine
    return out


def write(arrays: dict[str, np.ndarray], out: Path, parts: int = 1) -> list[Path]:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    blob = lzma.compress(buf.getvalue(), preset=6)
    out.parent.mkdir(parents=True, exist_ok=True)
    if parts <= 1:
        out.write_bytes(blob)
        return [out]
    step = -(-len(blob) // parts)
    paths = []
    for k in range(parts):
        p = out.with_name(out.name + f".part{k}")
        p.write_bytes(blob[k * step:(k + 1) * step])
        paths.append(p)
    return paths


def load(path: str | Path) -> dict[str, np.ndarray]:
    """Reads a pack: the .npz.xz itself, or its `.part0` (the other parts beside it)."""
    path = Path(path)
    if path.name.endswith(".part0"):
        stem = path.name[: -len(".part0")]
        blob = b""
        k = 0
        while (path.parent / f"{stem}.part{k}").exists():
            blob += (path.parent / f"{stem}.part{k}").read_bytes()
            k += 1
    else:
        blob = path.read_bytes()
    raw = lzma.decompress(blob) if blob[:6] == b"\xfd7zXZ\x00" else blob
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--framing", required=True, help="folder with Training.csv and PublicTest.csv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--parts", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        arrays = build(args.data, args.framing)
    except (OSError, ValueError, data.DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in write(arrays, Path(args.out), args.parts):
        print(f"wrote {p} ({p.stat().st_size / 1e6:.1f} MB)")
    for key in SPLITS:
        n, f = len(arrays[f"{key}_labels"]), int(arrays[f"{key}_found"].sum())
        print(f"  {key}: {n} faces, {f} found by the detector ({100 * f / n:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
