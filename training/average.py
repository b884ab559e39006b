"""Average the weights of several checkpoints of one model (a "soup": Wortsman et al., ICML 2022;
stochastic weight averaging: Izmailov et al., UAI 2018), then re-estimate batch-norm statistics
on the training images, and report PublicTest accuracy of each input and of the average.

    python -m training.average --checkpoints runs/ship/best.pt runs/ship3/best.pt \\
        --data FILE --out runs/soup/best.pt

Averaging only makes sense for checkpoints that share an ancestry (a second training cycle
started from the first with --init, or the last epochs of one run); the inputs must have the same
model and labels. The output is a normal training checkpoint (export it with training.export).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from . import data
from .evaluate import evaluate_checkpoint, load_checkpoint
from .inference import to_input


def average_state_dicts(states: list[dict]) -> dict:
    """Element-wise mean of float tensors; integer buffers (BN's num_batches_tracked) from the first."""
    if not states:
        raise ValueError("nothing to average")
    keys = list(states[0])
    for i, s in enumerate(states[1:], 1):
        if list(s) != keys:
            raise ValueError(f"checkpoint {i} has different tensors from checkpoint 0")
        for k in keys:
            if s[k].shape != states[0][k].shape:
                raise ValueError(f"checkpoint {i}: {k} has shape {tuple(s[k].shape)}, not {tuple(states[0][k].shape)}")
    out = {}
    for k in keys:
        if states[0][k].is_floating_point():
            out[k] = sum(s[k].double() for s in states).div(len(states)).to(states[0][k].dtype)
        else:
            out[k] = states[0][k].clone()
    return out


@torch.no_grad()
def recalibrate_bn(model: torch.nn.Module, images_u8: torch.Tensor, batch: int = 256) -> None:
    """Batch-norm running statistics re-estimated as the plain mean over `images_u8` (unaugmented):
    the averaged weights' activations differ from every input's, so their statistics do not fit."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    model.train()
    for i in range(0, len(images_u8), batch):
        model(to_input(images_u8[i:i + batch]))
    model.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", nargs="+", required=True)
    ap.add_argument("--data", required=True, help="Kaggle FER2013 CSV: Training for BN statistics, PublicTest to report")
    ap.add_argument("--out", required=True, help="where to write the averaged checkpoint (.pt)")
    ap.add_argument("--bn-images", type=int, default=0, help="training images for BN statistics (0: all)")
    ap.add_argument("--cache-dir")
    args = ap.parse_args(argv)
    if len(args.checkpoints) < 2:
        ap.error("give at least two checkpoints")
    try:
        loaded = [load_checkpoint(p) for p in args.checkpoints]
        cfg0 = loaded[0][1]
        for p, (_, cfg) in zip(args.checkpoints, loaded):
            if cfg["model"] != cfg0["model"] or cfg["labels"] != cfg0["labels"]:
                raise ValueError(f"{p}: model {cfg['model']} / labels {cfg['labels']} differ from the first checkpoint's")
        raw = data.load_raw(args.data, cache_dir=args.cache_dir)
        ds = data.make_dataset(raw, cfg0.get("classes"), cfg0.get("merge"))
        if "Training" not in ds.splits:
            raise ValueError(f"{args.data}: no Training rows for the batch-norm statistics")
        results = {}
        for p, (model, cfg) in zip(args.checkpoints, loaded):
            results[p] = evaluate_checkpoint(model, cfg, args.data, cache_dir=args.cache_dir, log=lambda *_: None,
                                             splits=("PublicTest",)).get("PublicTest")
        model = loaded[0][0]
        model.load_state_dict(average_state_dicts([m.state_dict() for m, _ in loaded]))
        train = torch.from_numpy(ds.splits["Training"].images)
        if args.bn_images:
            train = train[: args.bn_images]
        recalibrate_bn(model, train)
        avg = evaluate_checkpoint(model, cfg0, args.data, cache_dir=args.cache_dir, log=lambda *_: None,
                                  splits=("PublicTest",)).get("PublicTest")
    except (OSError, ValueError, data.DataError) as e:
        print(f"training.average: {e}", file=sys.stderr)
        return 1
    for p, r in results.items():
        if r:
            print(f"{p}: PublicTest {r['acc']:.4f} (flip {r['acc_flip']:.4f})")
    if avg:
        print(f"average of {len(loaded)}: PublicTest {avg['acc']:.4f} (flip {avg['acc_flip']:.4f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    config = dict(cfg0, averaged_from=[str(p) for p in args.checkpoints])
    config.pop("epoch", None)
    torch.save({"model": model.state_dict(), "config": config, "epoch": None,
                "val_acc": avg["acc"] if avg else None, "val_acc_flip": avg["acc_flip"] if avg else None}, out)
    (out.parent / "average.json").write_text(json.dumps(
        {"inputs": {p: (r and {"acc": r["acc"], "acc_flip": r["acc_flip"]}) for p, r in results.items()},
         "average": avg and {"acc": avg["acc"], "acc_flip": avg["acc_flip"]}}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
