"""Export a checkpoint for the Swift runtime: NAME.safetensors + NAME.json.

    python -m training.export --checkpoint runs/ship/best.pt --out models/emotion/NAME [--data FILE]

BatchNorm is folded into the preceding convolution / linear layer, every tensor is float32, and the
JSON lists the layers in execution order (a small graph: each node names its inputs) so a Swift
builder can construct any exported model generically. See training/README.md for the format.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch import nn

from . import data, models
from .evaluate import evaluate_checkpoint, load_checkpoint

FORMAT = "fer-live-classifier"
FORMAT_VERSION = 1


class ExportError(Exception):
    pass


def fold_bn(weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.BatchNorm1d | nn.BatchNorm2d):
    """W' = W * g / sqrt(var + eps) per output channel; b' = (b - mean) * g / sqrt(var + eps) + beta."""
    scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
    w = weight.detach().double() * scale.view(-1, *([1] * (weight.dim() - 1)))
    b = bias.detach().double() if bias is not None else torch.zeros_like(scale)
    b = (b - bn.running_mean.double()) * scale + bn.bias.detach().double()
    return w.float(), b.float()


def _flatten_modules(module: nn.Module) -> list[nn.Module]:
    """Leaf modules in execution order for the supported (Sequential-composed) models."""
    if isinstance(module, (nn.Sequential,)):
        out = []
        for m in module:
            out += _flatten_modules(m)
        return out
    if isinstance(module, models.Residual):
        return [module]
    if isinstance(module, (models.FerNet, models.CNNSmall, models.ResNet9, models.EmotionRecognition)):
        return _flatten_modules(module.features) + _flatten_modules(module.classifier)
    if isinstance(module, (models.LogReg, models.MLP)):
        return _flatten_modules(module.net)
    if type(module).__name__ == "VGG":
        return (_flatten_modules(module.features) + _flatten_modules(module.avgpool)
                + _flatten_modules(module.classifier))
    return [module]


def _pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


class _Builder:
    def __init__(self):
        self.layers: list[dict] = []
        self.tensors: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def name(self, op: str) -> str:
        i = self.counts.get(op, 0)
        self.counts[op] = i + 1
        return f"{op}{i}"

    def add(self, op: str, inputs: list[str], shape: list[int], **fields) -> str:
        name = self.name(op)
        self.layers.append(dict(name=name, op=op, inputs=inputs, **fields, output_shape=list(shape)))
        return name

    def tensor(self, name: str, t: torch.Tensor) -> str:
        self.tensors[name] = t.detach().float().contiguous().clone()
        return name

    def emit(self, mods: list[nn.Module], x: str, shape: list[int]) -> tuple[str, list[int]]:
        i = 0
        while i < len(mods):
            m = mods[i]
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            if isinstance(m, nn.Conv2d):
                if m.groups != 1:
                    raise ExportError(f"{m}: grouped convolution is not supported by the Swift runtime")
                if m.padding_mode != "zeros" or isinstance(m.padding, str):
                    raise ExportError(f"{m}: only explicit zero padding is supported")
                w, b = m.weight, m.bias
                if isinstance(nxt, nn.BatchNorm2d):
                    w, b = fold_bn(w, b, nxt)
                    i += 1
                elif b is None:
                    b = torch.zeros(m.out_channels)
                kh, kw = m.kernel_size
                (sh, sw), (ph, pw), (dh, dw) = _pair(m.stride), _pair(m.padding), _pair(m.dilation)
                if (dh, dw) != (1, 1):
                    raise ExportError(f"{m}: dilation is not supported")
                c, h, wd = shape
                oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
                name = self.name("conv")
                self.counts["conv"] -= 1
                x = self.add("conv", [x], [m.out_channels, oh, ow],
                             weight=self.tensor(f"{name}.weight", w), bias=self.tensor(f"{name}.bias", b),
                             in_channels=m.in_channels, out_channels=m.out_channels, kernel=[kh, kw],
                             stride=[sh, sw], padding=[ph, pw])
                shape = [m.out_channels, oh, ow]
            elif isinstance(m, nn.Linear):
                w, b = m.weight, m.bias
                if isinstance(nxt, nn.BatchNorm1d):
                    w, b = fold_bn(w, b, nxt)
                    i += 1
                elif b is None:
                    b = torch.zeros(m.out_features)
                if len(shape) != 1 or shape[0] != m.in_features:
                    raise ExportError(f"{m}: input shape {shape} does not fit (flatten first)")
                name = self.name("linear")
                self.counts["linear"] -= 1
                x = self.add("linear", [x], [m.out_features], weight=self.tensor(f"{name}.weight", w),
                             bias=self.tensor(f"{name}.bias", b), in_features=m.in_features,
                             out_features=m.out_features)
                shape = [m.out_features]
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                raise ExportError(f"{m}: BatchNorm not directly after a conv/linear cannot be folded")
            elif isinstance(m, nn.ReLU):
                x = self.add("relu", [x], shape)
            elif isinstance(m, nn.PReLU):
                name = self.name("prelu")
                self.counts["prelu"] -= 1
                x = self.add("prelu", [x], shape, weight=self.tensor(f"{name}.weight", m.weight))
            elif isinstance(m, nn.MaxPool2d):
                k, s, p = _pair(m.kernel_size), _pair(m.stride or m.kernel_size), _pair(m.padding)
                if m.ceil_mode or _pair(m.dilation) != [1, 1]:
                    raise ExportError(f"{m}: ceil_mode/dilation not supported")
                c, h, wd = shape
                shape = [c, (h + 2 * p[0] - k[0]) // s[0] + 1, (wd + 2 * p[1] - k[1]) // s[1] + 1]
                x = self.add("maxpool", [x], shape, kernel=k, stride=s, padding=p)
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                if _pair(m.output_size) != [1, 1]:
                    raise ExportError(f"{m}: only global average pooling (output 1x1) is supported")
                shape = [shape[0], 1, 1]
                x = self.add("global_avg_pool", [x], shape)
            elif isinstance(m, nn.Flatten):
                n = 1
                for d in shape:
                    n *= d
                shape = [n]
                x = self.add("flatten", [x], shape)
            elif isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Identity)):
                pass  # identity at inference
            elif isinstance(m, models.Residual):
                skip = x
                y, yshape = self.emit(_flatten_modules(m.body), x, shape)
                if yshape != shape:
                    raise ExportError(f"residual body changes shape {shape} -> {yshape}")
                x = self.add("add", [skip, y], shape)
            else:
                raise ExportError(f"{type(m).__name__}: layer not supported by the Swift runtime")
            i += 1
        return x, shape


def build_graph(model: nn.Module, input_size: int = 48) -> tuple[list[dict], dict[str, torch.Tensor]]:
    b = _Builder()
    x, shape = b.emit(_flatten_modules(model), "input", [1, input_size, input_size])
    if len(shape) != 1:
        raise ExportError(f"model output shape {shape} is not a vector of logits")
    b.add("softmax", [x], shape)
    return b.layers, b.tensors


def export(model: nn.Module, cfg: dict, out: Path, accuracy: dict | None = None) -> tuple[Path, Path]:
    from safetensors.torch import save_file

    model.eval()
    layers, tensors = build_graph(model, cfg.get("input_size", data.IMAGE_SIZE))
    out.parent.mkdir(parents=True, exist_ok=True)
    st_path = out.with_name(out.name + ".safetensors")
    js_path = out.with_name(out.name + ".json")
    save_file(tensors, str(st_path), metadata={"format": FORMAT, "model": cfg["model"]})
    st_path.chmod(0o644)  # safetensors creates the file owner-only
    nparams = sum(t.numel() for t in tensors.values())
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": out.name,
        "model": cfg["model"],
        "labels": cfg["labels"],
        "input": {"channels": 1, "height": cfg.get("input_size", 48), "width": cfg.get("input_size", 48),
                  "layout": "NCHW, row-major, float32"},
        "preprocessing": {
            "color": "gray; from RGB use ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B",
            "resize": "48x48 (bilinear) of the face crop",
            "scale": 1.0 / 255.0,
            "mean": cfg.get("mean", data.MEAN),
            "std": cfg.get("std", data.STD),
            "formula": "x = (pixel / 255 - mean) / std",
        },
        "output": "probabilities (the last layer is softmax over the logits), one per label",
        "weights": st_path.name,
        "tensor_layout": {"conv": "weight [out, in, kh, kw], bias [out]", "linear": "weight [out, in], bias [out]",
                          "prelu": "weight [channels] (or [1])", "flatten": "channel-major: index c*H*W + y*W + x"},
        "batchnorm": "folded into the preceding conv/linear at export",
        "layers": layers,
        "parameters": int(nparams),
        "flops_per_face": int(models.count_flops(model, cfg.get("input_size", 48))),
        "training": training_record(cfg),
    }
    if accuracy:
        meta["accuracy"] = accuracy
    js_path.write_text(json.dumps(meta, indent=1))
    return st_path, js_path


def training_record(cfg: dict) -> dict:
    """How the weights were trained, for the JSON: training.train's keys, and for a
    training.recipe checkpoint its command line (seed, schedule, pack) and validation split,
    which its config keeps under "args" and "validation"."""
    rec = {k: cfg.get(k) for k in ("recipe", "seed", "data", "classes", "merge", "epoch")}
    args = cfg.get("args")
    if isinstance(args, dict):
        rec["seed"] = args.get("seed", rec["seed"])
        rec["data"] = args.get("pack", rec["data"])
        rec["args"] = {k: v for k, v in args.items() if isinstance(v, (str, int, float, bool, list, type(None)))}
    if "validation" in cfg:
        rec["validation"] = cfg["validation"]
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True, help="output path without extension, e.g. models/emotion/fernet")
    ap.add_argument("--data", help="measure accuracy on this data and record it in the JSON")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model, cfg = load_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    acc = None
    if args.data:
        res = evaluate_checkpoint(model, cfg, args.data,
                                  cache_dir=Path(args.checkpoint).resolve().parent.parent / "cache")
        acc = {name: {"n": r["n"], "accuracy": round(r["acc"], 4), "accuracy_flip_tta": round(r["acc_flip"], 4)}
               for name, r in res.items() if name != "Training"}
    try:
        st, js = export(model, cfg, Path(args.out), acc)
    except ExportError as exc:
        print(f"error: {args.checkpoint}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {st} ({st.stat().st_size / 1e6:.2f} MB) and {js}")
    if acc:
        for name, a in acc.items():
            print(f"  {name}: {100 * a['accuracy']:.2f}% (flip TTA {100 * a['accuracy_flip_tta']:.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
