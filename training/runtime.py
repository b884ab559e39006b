"""A plain NumPy interpreter of an exported model (NAME.json + NAME.safetensors).

It mirrors what the Swift runtime does (im2col + matrix multiply, float32) and uses nothing from
the PyTorch model, so comparing its output with the PyTorch model checks the export itself.

    python -m training.runtime models/emotion/fernet image.png
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def load(path_no_ext: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    from safetensors.numpy import load_file
    p = Path(path_no_ext)
    meta = json.loads(p.with_name(p.name + ".json").read_text())
    tensors = load_file(str(p.with_name(meta["weights"])))
    return meta, tensors


def preprocess(gray_u8: np.ndarray, meta: dict) -> np.ndarray:
    """uint8 N x 48 x 48 (already gray and resized) -> float32 N x 1 x 48 x 48."""
    pp = meta["preprocessing"]
    x = gray_u8.astype(np.float32) * np.float32(pp["scale"])
    x = (x - np.float32(pp["mean"])) / np.float32(pp["std"])
    return x[:, None, :, :]


def _im2col(x: np.ndarray, kh, kw, sh, sw, ph, pw) -> tuple[np.ndarray, int, int]:
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    return cols.reshape(n, c * kh * kw, oh * ow), oh, ow


def forward(meta: dict, tensors: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """x: float32 N x 1 x H x W (preprocessed). Returns the output of the last layer."""
    vals = {"input": x.astype(np.float32)}
    out = None
    for L in meta["layers"]:
        a = vals[L["inputs"][0]]
        op = L["op"]
        if op == "conv":
            w = tensors[L["weight"]]
            b = tensors[L["bias"]]
            (kh, kw), (sh, sw), (ph, pw) = L["kernel"], L["stride"], L["padding"]
            cols, oh, ow = _im2col(a, kh, kw, sh, sw, ph, pw)
            wm = w.reshape(w.shape[0], -1)
            out = np.einsum("ok,nkp->nop", wm, cols, optimize=True) + b[None, :, None]
            out = out.reshape(a.shape[0], w.shape[0], oh, ow).astype(np.float32)
        elif op == "linear":
            out = (a @ tensors[L["weight"]].T + tensors[L["bias"]]).astype(np.float32)
        elif op == "relu":
            out = np.maximum(a, 0)
        elif op == "prelu":
            s = tensors[L["weight"]]
            s = s.reshape(1, -1, *([1] * (a.ndim - 2))) if a.ndim > 2 else s.reshape(1, -1)
            out = np.where(a > 0, a, a * s).astype(np.float32)
        elif op == "maxpool":
            (kh, kw), (sh, sw), (ph, pw) = L["kernel"], L["stride"], L["padding"]
            n, c, h, w = a.shape
            ap = np.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
            oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
            out = np.full((n, c, oh, ow), -np.inf, dtype=np.float32)
            for i in range(kh):
                for j in range(kw):
                    out = np.maximum(out, ap[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw])
        elif op == "global_avg_pool":
            out = a.mean(axis=(2, 3), keepdims=True, dtype=np.float32)
        elif op == "flatten":
            out = a.reshape(a.shape[0], -1)
        elif op == "add":
            out = a + vals[L["inputs"][1]]
        elif op == "softmax":
            e = np.exp(a - a.max(axis=1, keepdims=True))
            out = e / e.sum(axis=1, keepdims=True)
        else:
            raise ValueError(f"layer {L['name']}: unknown op {op!r}")
        if list(out.shape[1:]) != L["output_shape"]:
            raise ValueError(f"layer {L['name']}: shape {list(out.shape[1:])} != declared {L['output_shape']}")
        vals[L["name"]] = out
    return out


def main(argv=None) -> int:
    from PIL import Image
    argv = argv if argv is not None else sys.argv[1:]
    if len(argv) < 2:
        print("usage: python -m training.runtime MODEL_PATH_WITHOUT_EXT IMAGE...", file=sys.stderr)
        return 2
    meta, tensors = load(argv[0])
    for f in argv[1:]:
        im = Image.open(f).convert("L").resize((48, 48), Image.BILINEAR)
        p = forward(meta, tensors, preprocess(np.asarray(im)[None], meta))[0]
        print(f, " ".join(f"{l}={v:.3f}" for l, v in zip(meta["labels"], p)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
