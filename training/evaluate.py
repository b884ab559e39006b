"""Accuracy of a checkpoint on every split the data has (with and without flip test-time averaging).

    python -m training.evaluate --checkpoint runs/ship/best.pt --data FILE [--json out.json] [--plot cm.png]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from . import data, models, plots
from .inference import evaluate_split


def load_checkpoint(path: str | Path) -> tuple[torch.nn.Module, dict]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(ck, dict) or "model" not in ck or "config" not in ck:
        raise ValueError(f"{path}: not a training.train checkpoint (needs 'model' and 'config')")
    cfg = ck["config"]
    kw = {k: v for k, v in cfg.get("model_kw", {}).items() if k != "pretrained"}
    model = models.build(cfg["model"], len(cfg["labels"]), **kw)
    model.load_state_dict(ck["model"])
    model.eval()
    cfg = dict(cfg, epoch=ck.get("epoch"))
    return model, cfg


def evaluate_checkpoint(model, cfg: dict, data_path: str, cache_dir=None, log=print,
                        splits=("PublicTest", "PrivateTest")) -> dict:
    raw = data.load_raw(data_path, cache_dir=cache_dir, log=log)
    ds = data.make_dataset(raw, cfg.get("classes"), cfg.get("merge"))
    if ds.labels != cfg["labels"]:
        raise ValueError(f"labels of the data {ds.labels} differ from the checkpoint's {cfg['labels']}")
    out = {}
    for name in splits:
        if name not in ds.splits:
            continue
        sp = ds.splits[name]
        ev = evaluate_split(model, sp, bf16=False)
        n = len(ds.labels)
        cm = plots.confusion(sp.labels, ev["pred"], n)
        cmf = plots.confusion(sp.labels, ev["pred_flip"], n)
        out[name] = dict(n=int(len(sp.labels)), acc=ev["acc"], acc_flip=ev["acc_flip"], loss=ev["loss"],
                         per_class_acc={ds.labels[i]: float(cm[i, i] / max(cm[i].sum(), 1)) for i in range(n)},
                         confusion=cm.tolist(), confusion_flip=cmf.tolist())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--plot", help="write the PublicTest confusion matrix PNG here")
    ap.add_argument("--include-training", action="store_true", help="also evaluate on Training (slow)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model, cfg = load_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cache = args.cache_dir or Path(args.checkpoint).resolve().parent.parent / "cache"
    splits = ("PublicTest", "PrivateTest") + (("Training",) if args.include_training else ())
    res = evaluate_checkpoint(model, cfg, args.data, cache_dir=cache, splits=splits)
    print(f"{cfg['model']} (epoch {cfg.get('epoch')}), labels {cfg['labels']}")
    for name, r in res.items():
        print(f"  {name:11s} n={r['n']:5d}  accuracy {100 * r['acc']:.2f}%  with flip TTA {100 * r['acc_flip']:.2f}%")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(model=cfg["model"], epoch=cfg.get("epoch"),
                                                   labels=cfg["labels"], results=res), indent=1))
    if args.plot and "PublicTest" in res:
        plots.plot_confusion(np.array(res["PublicTest"]["confusion"]), cfg["labels"], args.plot,
                             f"{cfg['model']} on PublicTest: {100 * res['PublicTest']['acc']:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
