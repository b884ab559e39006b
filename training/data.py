"""FER2013 loading: the Kaggle CSV (plain or gzipped) and the `train/<label>/*.jpg` folder layout.

Everything is returned as uint8 tensors held in memory (N x 48 x 48) so augmentation can run as
batched tensor ops; a parsed CSV is cached as .npz because parsing 35k rows of text takes a while.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FER_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SPLITS = ("Training", "PublicTest", "PrivateTest")
IMAGE_SIZE = 48
# Input normalisation used by every model here (and written into the export JSON):
# x = (pixel / 255 - MEAN) / STD.
MEAN = 0.5
STD = 0.25


class DataError(Exception):
    """Bad input data: the message names the file/line and the reason."""


@dataclass
class RawData:
    """All rows of a source, labels as the original FER2013 codes 0..6."""
    images: np.ndarray  # uint8 N x 48 x 48
    labels: np.ndarray  # int64 N (original FER2013 code)
    splits: np.ndarray  # int8 N (index into SPLITS)
    problems: list[str] = field(default_factory=list)


@dataclass
class Split:
    images: np.ndarray  # uint8 N x 48 x 48
    labels: np.ndarray  # int64 N, index into Dataset.labels


@dataclass
class Dataset:
    labels: list[str]
    splits: dict[str, Split]

    def counts(self) -> dict[str, list[int]]:
        return {name: np.bincount(s.labels, minlength=len(self.labels)).tolist()
                for name, s in self.splits.items()}


def _open_text(path: Path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, "r", encoding="utf-8", newline="")


def parse_csv(path: str | os.PathLike, strict: bool = False) -> RawData:
    """Parse a Kaggle FER2013 CSV (`emotion,pixels,Usage`; Usage optional).

    Malformed rows are collected in `problems` as "FILE:LINE: reason" and skipped, or raise
    DataError at the first one when `strict`.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    problems: list[str] = []
    images, labels, splits = [], [], []
    npix = IMAGE_SIZE * IMAGE_SIZE

    def bad(line: int, why: str):
        msg = f"{path}:{line}: {why}"
        if strict:
            raise DataError(msg)
        problems.append(msg)

    try:
        with _open_text(path) as f:
            reader = csv.reader(f)
            try:
                header = next(reader)
            except StopIteration:
                raise DataError(f"{path}: empty file")
            cols = [h.strip().lower() for h in header]
            if "emotion" not in cols or "pixels" not in cols:
                raise DataError(f"{path}:1: header must name columns emotion and pixels, got {header!r}")
            ie, ip = cols.index("emotion"), cols.index("pixels")
            iu = cols.index("usage") if "usage" in cols else None
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(cols):
                    bad(line, f"expected {len(cols)} fields, got {len(row)}")
                    continue
                e = row[ie].strip()
                if not e.isdigit() or int(e) >= len(FER_LABELS):
                    bad(line, f"unknown emotion label {e!r} (expected 0-6)")
                    continue
                parts = row[ip].split()
                if len(parts) != npix:
                    bad(line, f"expected {npix} pixel values, got {len(parts)}")
                    continue
                try:
                    px = np.array(parts, dtype=np.int64)
                except ValueError:
                    bad(line, "non-numeric pixel value")
                    continue
                if px.min() < 0 or px.max() > 255:
                    bad(line, "pixel value outside 0-255")
                    continue
                usage = row[iu].strip() if iu is not None else "Training"
                if usage not in SPLITS:
                    bad(line, f"unknown Usage {usage!r} (expected one of {', '.join(SPLITS)})")
                    continue
                images.append(px.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE))
                labels.append(int(e))
                splits.append(SPLITS.index(usage))
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: unreadable CSV ({exc})") from exc
    if not images:
        raise DataError(f"{path}: no valid rows")
    return RawData(np.stack(images), np.array(labels, dtype=np.int64),
                   np.array(splits, dtype=np.int8), problems)


def load_folder(root: str | os.PathLike) -> RawData:
    """The common image-folder layout: `train/<label>/*.jpg` and `test/<label>/*.jpg` (optionally
    `val/` or `publictest/` and `privatetest/`). `train` -> Training; `test`/`val`/`publictest` ->
    PublicTest; `privatetest` -> PrivateTest. Images are converted to gray and resized to 48x48."""
    from PIL import Image

    root = Path(root)
    split_dirs = {"train": 0, "training": 0, "test": 1, "val": 1, "validation": 1,
                  "publictest": 1, "privatetest": 2}
    images, labels, splits, problems = [], [], [], []
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name.lower() not in split_dirs:
            continue
        for ld in sorted(d.iterdir()):
            if not ld.is_dir():
                continue
            name = ld.name.lower()
            if name not in FER_LABELS:
                problems.append(f"{ld}: unknown label folder (expected one of {', '.join(FER_LABELS)})")
                continue
            for f in sorted(ld.iterdir()):
                if f.suffix.lower() not in (".jpg", ".jpeg", ".png", ".bmp"):
                    continue
                try:
                    with Image.open(f) as im:
                        im = im.convert("L")
                        if im.size != (IMAGE_SIZE, IMAGE_SIZE):
                            im = im.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)
                        images.append(np.asarray(im, dtype=np.uint8))
                except OSError as exc:
                    problems.append(f"{f}: unreadable image ({exc})")
                    continue
                labels.append(FER_LABELS.index(name))
                splits.append(split_dirs[d.name.lower()])
    if not images:
        raise DataError(f"{root}: no images found under train/<label>/ or test/<label>/")
    return RawData(np.stack(images), np.array(labels, dtype=np.int64),
                   np.array(splits, dtype=np.int8), problems)


def _cache_key(path: Path) -> str:
    st = path.stat()
    h = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return f"{path.name.split('.')[0]}-{h}.npz"


def load_raw(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
             strict: bool = False, log=print) -> RawData:
    path = Path(path)
    if path.is_dir():
        raw = load_folder(path)
    else:
        cache = Path(cache_dir) / _cache_key(path) if cache_dir else None
        if cache is not None and cache.exists() and not strict:
            z = np.load(cache, allow_pickle=False)
            raw = RawData(z["images"], z["labels"], z["splits"], list(z["problems"]))
            log(f"data: loaded parsed cache {cache}")
        else:
            raw = parse_csv(path, strict=strict)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(".tmp.npz")
                np.savez(tmp, images=raw.images, labels=raw.labels, splits=raw.splits,
                         problems=np.array(raw.problems, dtype=str))
                os.replace(tmp, cache)
    if raw.problems:
        log(f"data: skipped {len(raw.problems)} malformed row(s):")
        for p in raw.problems[:20]:
            log(f"  {p}")
        if len(raw.problems) > 20:
            log(f"  ... and {len(raw.problems) - 20} more")
    return raw


def label_mapping(classes: str | None = None, merge: str | None = None) -> tuple[list[str], dict[int, int]]:
    """Map FER2013 codes to output indices.

    classes: comma-separated subset/order of FER labels to keep (others are dropped).
    merge: comma-separated `src=dst` pairs; rows labelled src are relabelled dst (src disappears).
    Returns (output label names, {fer code: output index}).
    """
    merges: dict[str, str] = {}
    if merge:
        for item in merge.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise DataError(f"--merge {merge!r}: expected src=dst, got {item!r}")
            src, dst = (s.strip().lower() for s in item.split("=", 1))
            for n in (src, dst):
                if n not in FER_LABELS:
                    raise DataError(f"--merge {merge!r}: unknown label {n!r}")
            if src == dst:
                raise DataError(f"--merge {merge!r}: {src} merged into itself")
            merges[src] = dst
    # Resolve chains (a=b, b=c -> a=c).
    def final(n: str) -> str:
        seen = set()
        while n in merges:
            if n in seen:
                raise DataError(f"--merge {merge!r}: cycle through {n!r}")
            seen.add(n)
            n = merges[n]
        return n

    if classes:
        out = [c.strip().lower() for c in classes.split(",") if c.strip()]
        for c in out:
            if c not in FER_LABELS:
                raise DataError(f"--classes {classes!r}: unknown label {c!r} (known: {', '.join(FER_LABELS)})")
            if c in merges:
                raise DataError(f"--classes {classes!r}: {c!r} is merged away by --merge")
        if len(set(out)) != len(out):
            raise DataError(f"--classes {classes!r}: repeated label")
    else:
        out = [n for n in FER_LABELS if n not in merges]
    if len(out) < 2:
        raise DataError("need at least two output classes")
    mapping = {}
    for code, name in enumerate(FER_LABELS):
        f = final(name)
        if f in out:
            mapping[code] = out.index(f)
    return out, mapping


def make_dataset(raw: RawData, classes: str | None = None, merge: str | None = None) -> Dataset:
    names, mapping = label_mapping(classes, merge)
    lut = np.full(len(FER_LABELS), -1, dtype=np.int64)
    for k, v in mapping.items():
        lut[k] = v
    mapped = lut[raw.labels]
    splits = {}
    for i, s in enumerate(SPLITS):
        sel = (raw.splits == i) & (mapped >= 0)
        if sel.any():
            splits[s] = Split(raw.images[sel], mapped[sel])
    if "Training" not in splits:
        raise DataError("no Training rows for the chosen classes")
    return Dataset(names, splits)
