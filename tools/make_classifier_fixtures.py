#!/usr/bin/env python3
"""Reference outputs for the Swift classifier's parity tests (Tests/ClassifierTests).

    /work/venv/bin/python tools/make_classifier_fixtures.py                       # tiny model only
    /work/venv/bin/python tools/make_classifier_fixtures.py \\
        --checkpoint runs/ship/best.pt --model models/emotion/fernet             # + the shipped model

Writes, under Tests/Fixtures/classifier/:
  inputs.json          fixed 48x48 gray inputs (uint8): crops of Tests/Fixtures/astronaut.png
                       (BT.601 gray, PIL box resize) and synthetic patterns. Nothing from FER2013.
  tiny.json/.safetensors
                       a small random-init network exported with training.export: strided and
                       non-square convolutions, BN folding, PReLU, ReLU, padded max-pool, a residual
                       add, global average pooling, Linear+BatchNorm1d, and a merged 5-label output
                       (disgust=angry, surprise=fear). A few KB, so it is committed.
  expected_tiny.json   PyTorch probabilities of that network on every input (and with flip TTA).
  expected_fernet.json (with --checkpoint) PyTorch probabilities of the checkpoint, for the exported
                       model named in the file (path relative to the repo + SHA-256 of its weights);
                       the test skips when that model is absent and fails when its weights changed
                       (rerun this script after exporting a new model).

Each expected file is also checked against training/runtime.py (a NumPy interpreter of the exported
JSON), so a broken export shows up here, before Swift is involved.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training import export as exp  # noqa: E402
from training import models, runtime  # noqa: E402

OUT = ROOT / "Tests" / "Fixtures" / "classifier"
FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def gray601(rgb: np.ndarray) -> np.ndarray:
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)


def make_inputs() -> list[dict]:
    from PIL import Image
    img = np.asarray(Image.open(ROOT / "Tests" / "Fixtures" / "astronaut.png").convert("RGB"))
    g = gray601(img)
    h, w = g.shape
    items = []
    # Square crops of the astronaut picture (face, helmet, flag, whole), box-resized to 48x48.
    for name, (x, y, s) in {"astronaut_face": (0.32, 0.08, 0.40), "astronaut_helmet": (0.05, 0.0, 0.60),
                            "astronaut_patch": (0.55, 0.55, 0.30), "astronaut_whole": (0.0, 0.0, 1.0),
                            "astronaut_corner": (0.7, 0.0, 0.3)}.items():
        x0, y0, side = int(x * w), int(y * h), int(s * min(w, h))
        crop = g[y0:y0 + side, x0:x0 + side]
        im = Image.fromarray(np.clip(np.rint(crop), 0, 255).astype(np.uint8)).resize((48, 48), Image.BOX)
        items.append((name, np.asarray(im)))
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    rng = np.random.default_rng(2013)
    synth = {
        "black": np.zeros((48, 48)),
        "white": np.full((48, 48), 255.0),
        "gradient_x": xx * 255 / 47,
        "checker_4": ((xx // 4 + yy // 4) % 2) * 255,
        "rings": 127.5 + 127.5 * np.cos(np.hypot(xx - 24, yy - 20) / 3.0),
        "noise": rng.integers(0, 256, (48, 48)),
        "blob_left": 255 * np.exp(-((xx - 14) ** 2 + (yy - 24) ** 2) / 60.0),
    }
    for name, a in synth.items():
        items.append((name, np.clip(np.rint(a), 0, 255).astype(np.uint8)))
    return [{"name": n, "pixels": a.reshape(-1).astype(int).tolist()} for n, a in items]


def preprocess(pixels: np.ndarray, meta: dict) -> torch.Tensor:
    pp = meta["preprocessing"]
    x = pixels.astype(np.float32).reshape(-1, 1, 48, 48) * np.float32(pp["scale"])
    return torch.from_numpy((x - np.float32(pp["mean"])) / np.float32(pp["std"]))


def torch_probs(model: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(x).double(), 1)
        pm = torch.softmax(model(torch.flip(x, dims=[3])).double(), 1)
    return p.numpy(), (0.5 * (p + pm)).numpy()


def expected(model: nn.Module, model_base: Path, inputs: list[dict], note: str) -> dict:
    meta, tensors = runtime.load(model_base)
    pixels = np.array([i["pixels"] for i in inputs], dtype=np.uint8)
    x = preprocess(pixels, meta)
    p, pf = torch_probs(model, x)
    ref = runtime.forward(meta, tensors, x.numpy())
    err = float(np.abs(ref - p).max())
    if err > 1e-4:
        raise SystemExit(f"export check failed: NumPy runtime differs from PyTorch by {err:.2e} for {model_base}")
    st = model_base.with_name(meta["weights"])
    rel = st.resolve().relative_to(ROOT) if st.resolve().is_relative_to(ROOT) else st
    return {
        "note": note,
        "model": str(rel.with_suffix("")),
        "weights_sha256": hashlib.sha256(st.read_bytes()).hexdigest(),
        "labels": meta["labels"],
        "preprocessing": {k: meta["preprocessing"][k] for k in ("scale", "mean", "std")},
        "numpy_runtime_max_abs_diff": err,
        "cases": [{"name": i["name"], "probabilities": [round(float(v), 8) for v in a],
                   "probabilities_flip": [round(float(v), 8) for v in b]} for i, a, b in zip(inputs, p, pf)],
    }


def tiny_model() -> tuple[nn.Module, dict]:
    torch.manual_seed(7)
    m = nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.PReLU(8),   # 24x24
        nn.Conv2d(8, 12, (3, 5), padding=(1, 2)), nn.ReLU(),                                   # 24x24
        nn.MaxPool2d(3, stride=2, padding=1),                                                  # 12x12
        models.Residual(nn.Conv2d(12, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(),
                        nn.Conv2d(12, 12, 1)),
        nn.ReLU(),
        nn.Conv2d(12, 16, 3, stride=2), nn.PReLU(1),                                            # 5x5
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 24), nn.BatchNorm1d(24), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(24, 5),
    )
    g = torch.Generator().manual_seed(11)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            mod.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
        if isinstance(mod, nn.PReLU):
            mod.weight.data.copy_(torch.rand(mod.weight.shape, generator=g) * 0.4)
    with torch.no_grad():
        m[-1].weight.mul_(8)  # peaked probabilities, so a wrong layer cannot hide in near-uniform output
    m.eval()
    cfg = {"model": "tiny_test", "labels": ["angry", "fear", "happy", "sad", "neutral"],
           "merge": "disgust=angry,surprise=fear", "mean": 0.5, "std": 0.25, "input_size": 48}
    return m, cfg


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="training checkpoint of the shipped model (runs/ship/best.pt)")
    ap.add_argument("--model", default=str(ROOT / "models" / "emotion" / "fernet"),
                    help="its export, path without extension (default: models/emotion/fernet)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)

    inputs = make_inputs()
    (OUT / "inputs.json").write_text(json.dumps(
        {"note": "48x48 gray uint8 inputs, row-major; made by tools/make_classifier_fixtures.py",
         "inputs": inputs}, separators=(",", ":")))

    tiny, cfg = tiny_model()
    exp.export(tiny, cfg, OUT / "tiny")
    (OUT / "expected_tiny.json").write_text(json.dumps(
        expected(tiny, OUT / "tiny", inputs, "random-init test network (tools/make_classifier_fixtures.py)"), indent=1))
    print(f"wrote {OUT}/inputs.json, tiny.json, tiny.safetensors, expected_tiny.json")

    if args.checkpoint:
        from training.evaluate import load_checkpoint
        model, ccfg = load_checkpoint(args.checkpoint)
        base = Path(args.model)
        meta = json.loads(base.with_name(base.name + ".json").read_text())
        if meta["labels"] != ccfg["labels"] or meta["model"] != ccfg["model"]:
            raise SystemExit(f"{base}.json ({meta['model']}, {meta['labels']}) is not an export of {args.checkpoint}")
        note = f"{ccfg['model']} epoch {ccfg.get('epoch')} from {args.checkpoint}"
        target = OUT / f"expected_{base.name}.json"
        target.write_text(json.dumps(expected(model, base, inputs, note), indent=1))
        print(f"wrote {target} for {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
