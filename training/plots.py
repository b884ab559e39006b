"""PNG plots of a run: loss / accuracy / learning-rate curves from metrics.csv, confusion matrix."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .schedules import onecycle_lr


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def read_metrics(path: str | Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in (rows[0].keys() if rows else [])}


def epoch_start_lr(m: dict[str, np.ndarray], config_json: Path) -> np.ndarray:
    """The logged learning rate, except for time-budget runs, where it is recomputed from the
    cumulative training time (runs before the logging fix logged the scheduler's base LR)."""
    import json
    try:
        recipe = json.loads(config_json.read_text())["recipe"]
    except (OSError, ValueError, KeyError):
        return m["lr"]
    if recipe.get("sched") != "onecycle-time":
        return m["lr"]
    start = np.concatenate([[0.0], m["train_time_s"][:-1]])
    return np.array([onecycle_lr(t / (60 * recipe["time_budget_min"]), recipe["lr"]) for t in start])


def plot_curves(metrics_csv: str | Path, out_png: str | Path, title: str = "") -> None:
    m = read_metrics(metrics_csv)
    if not m:
        return
    m["lr"] = epoch_start_lr(m, Path(metrics_csv).with_name("config.json"))
    plt = _plt()
    ep = m["epoch"]
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    ax[0].plot(ep, m["train_loss"], label="train")
    ax[0].plot(ep, m["val_loss"], label="PublicTest")
    ax[0].set_title("loss"), ax[0].set_xlabel("epoch"), ax[0].legend()
    ax[1].plot(ep, m["train_acc"], label="train (augmented)")
    ax[1].plot(ep, m["val_acc"], label="PublicTest")
    ax[1].plot(ep, m["val_acc_flip"], label="PublicTest, flip TTA")
    ax[1].set_title("accuracy"), ax[1].set_xlabel("epoch"), ax[1].legend()
    ax[2].plot(ep, m["lr"])
    ax[2].set_title("learning rate (at epoch start)"), ax[2].set_xlabel("epoch")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def plot_confusion(cm: np.ndarray, labels: list[str], out_png: str | Path, title: str = "") -> None:
    plt = _plt()
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted"), ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{cm[i, j]}\n{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax)
    ax.set_title(title or "confusion matrix (row-normalised)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
