import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def synthetic_rows(n: int, seed: int = 0, usage_cycle=("Training", "Training", "Training", "PublicTest")):
    """Rows of a FER2013-style CSV: class k is a bright horizontal band at height 6k plus noise, so
    the classes are learnable; returns (lines, images, labels, usages)."""
    rng = np.random.RandomState(seed)
    lines, imgs, labels, usages = [], [], [], []
    for i in range(n):
        k = i % 7
        img = rng.randint(0, 60, size=(48, 48))
        img[6 * k:6 * k + 6, :] = 200 + rng.randint(0, 50, size=(6, 48))
        u = usage_cycle[i % len(usage_cycle)]
        lines.append(f"{k}," + " ".join(map(str, img.ravel())) + f",{u}")
        imgs.append(img.astype(np.uint8))
        labels.append(k)
        usages.append(u)
    return lines, np.stack(imgs), np.array(labels), usages


def write_csv(path: Path, lines, gz: bool = False) -> Path:
    text = "emotion,pixels,Usage\n" + "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def tiny_csv(tmp_path):
    lines, imgs, labels, usages = synthetic_rows(70)
    return write_csv(tmp_path / "fer.csv", lines), imgs, labels, usages
