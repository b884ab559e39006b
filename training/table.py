"""Markdown results table from finished runs (their results.json, written by training.report):

    python -m training.table runs/ship runs/cnn_small runs/logreg runs/mlp
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def row(run: Path) -> str:
    r = json.loads((run / "results.json").read_text())
    pt = r["results"].get("PublicTest", {})
    priv = r["results"].get("PrivateTest")
    t = r.get("train_time_s") or 0.0
    cells = [
        f"`{r['model']}` ({run.name})",
        f"{100 * pt['acc']:.2f}%" if pt else "-",
        f"{100 * pt['acc_flip']:.2f}%" if pt else "-",
        f"{100 * priv['acc']:.2f}%" if priv else "n/a",
        f"{r['params'] / 1e6:.2f} M" if r.get("params") else "-",
        f"{r['flops_per_face'] / 1e6:.1f}" if r.get("flops_per_face") else "-",
        f"{r.get('epochs_run')} (best {r.get('best_epoch')})",
        f"{t / 60:.0f} min",
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    runs = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    print("| model (run) | PublicTest | PublicTest, flip TTA | PrivateTest | params | MFLOPs/face | epochs | train time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in runs:
        if not (run / "results.json").exists():
            print(f"error: {run}/results.json missing (run python -m training.report {run} --data FILE)",
                  file=sys.stderr)
            return 2
        print(row(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
