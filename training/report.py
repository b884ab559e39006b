"""Finish a run: evaluate best.pt (float32, with and without flip TTA) on every split, write
results.json, curves.png (loss/accuracy/lr) and confusion.png. train.py calls this at the end;
run it by hand to refresh a run (or one stopped early):

    python -m training.report runs/ship --data FILE
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from . import plots
from .evaluate import evaluate_checkpoint, load_checkpoint


def finalize(run: str | Path, data_path: str, cache_dir=None, log=print, make_plots: bool = True) -> dict:
    run = Path(run)
    model, cfg = load_checkpoint(run / "best.pt")
    res = evaluate_checkpoint(model, cfg, data_path, cache_dir=cache_dir, log=log)
    m = plots.read_metrics(run / "metrics.csv") if (run / "metrics.csv").exists() else {}
    summary = dict(model=cfg["model"], labels=cfg["labels"], best_epoch=cfg.get("epoch"),
                   epochs_run=int(m["epoch"][-1]) if m else None,
                   train_time_s=float(m["train_time_s"][-1]) if m else None,
                   params=cfg.get("params"), flops_per_face=cfg.get("flops"), recipe=cfg.get("recipe"),
                   results=res)
    (run / "results.json").write_text(json.dumps(summary, indent=1))
    if make_plots:
        if m:
            plots.plot_curves(run / "metrics.csv", run / "curves.png", f"{cfg['model']} ({run.name})")
        if "PublicTest" in res:
            plots.plot_confusion(np.array(res["PublicTest"]["confusion"]), cfg["labels"], run / "confusion.png",
                                 f"{cfg['model']} PublicTest {100 * res['PublicTest']['acc']:.1f}% "
                                 f"(epoch {cfg.get('epoch')})")
    for name, r in res.items():
        log(f"final: {cfg['model']} best epoch {cfg.get('epoch')}  {name} accuracy {100 * r['acc']:.2f}% "
            f"(flip TTA {100 * r['acc_flip']:.2f}%)")
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory with best.pt and metrics.csv")
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    finalize(args.run, args.data, cache_dir=Path(args.run).resolve().parent / "cache",
             make_plots=not args.no_plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
