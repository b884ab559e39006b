"""The pipeline's framing of FER2013 faces, for training on the crops fer-live really makes.

fer-live does not classify a video face the way FER2013 frames it: it finds the face with MTCNN
and cuts a 48x48 crop whose scale and rotation come from the landmarks (Swift
`FacePreprocessor.transform`). `fer-live measure-framing --transforms FILE` runs that detector on
every FER2013 image (upscaled 48 -> 160, on a mid-gray canvas) and writes, per row, the crop the
pipeline would take, mapped back to the 48x48 image:

    row,found,score,origin_x,origin_y,axisU_x,axisU_y,axisV_x,axisV_y

An output pixel at (u, v) (corner-origin coordinates, pixel centres at +0.5) is read from
`origin + u * axisU + v * axisV` in the 48x48 image. This module turns those rows into
`grid_sample` matrices and composes them with the random augmentation, so that a training batch
can mix FER2013's own framing with the pipeline's.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

SIDE = 48


@dataclass
class Framings:
    """Per image: whether the detector found it, and the crop as a 2 x 3 pixel-space affine map
    (source = A @ (u, v) + origin)."""
    found: np.ndarray   # bool N
    affine: np.ndarray  # float32 N x 2 x 3


def read_transforms(path: str | Path, count: int) -> Framings:
    """Reads `measure-framing --transforms` output for `count` rows (in the CSV's row order)."""
    found = np.zeros(count, dtype=bool)
    affine = np.tile(np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), (count, 1, 1))
    with open(path, newline="") as f:
        rd = csv.DictReader(f)
        for line, r in enumerate(rd, start=2):
            i = int(r["row"])
            if not 0 <= i < count:
                raise ValueError(f"{path}:{line}: row {i} outside 0..{count - 1}")
            if r["found"] != "1":
                continue
            ox, oy = float(r["origin_x"]), float(r["origin_y"])
            ux, uy = float(r["axisU_x"]), float(r["axisU_y"])
            vx, vy = float(r["axisV_x"]), float(r["axisV_y"])
            if not all(math.isfinite(v) for v in (ox, oy, ux, uy, vx, vy)):
                raise ValueError(f"{path}:{line}: non-finite transform")
            found[i] = True
            affine[i] = [[ux, vx, ox], [uy, vy, oy]]
    return Framings(found, affine)


def pixel_to_theta(affine: torch.Tensor) -> torch.Tensor:
    """N x 2 x 3 pixel-space maps -> N x 3 x 3 maps in grid_sample's normalised coordinates
    (align_corners=False: n = p / 24 - 1 on a 48-pixel side)."""
    h = SIDE / 2
    a = affine[:, :, :2]
    o = affine[:, :, 2]
    t = a.sum(2) + o / h - 1  # A @ (1, 1) + origin / 24 - 1
    out = torch.zeros(len(affine), 3, 3, dtype=affine.dtype, device=affine.device)
    out[:, :2, :2] = a
    out[:, :2, 2] = t
    out[:, 2, 2] = 1
    return out


def identity_theta(n: int, device=None) -> torch.Tensor:
    return torch.eye(3, device=device).expand(n, 3, 3).clone()


def random_augment_theta(n: int, g: torch.Generator, device=None, max_shift: float = 4.0,
                         max_rot: float = 10.0, scale=(0.9, 1.1), flip: bool = True) -> torch.Tensor:
    """The augmentation of `augment.random_affine` as N x 3 x 3 normalised maps (output -> input)."""
    ang = (torch.rand(n, generator=g, device=device) * 2 - 1) * math.radians(max_rot)
    s = torch.empty(n, device=device).uniform_(scale[0], scale[1], generator=g)
    tx = (torch.rand(n, generator=g, device=device) * 2 - 1) * (2 * max_shift / SIDE)
    ty = (torch.rand(n, generator=g, device=device) * 2 - 1) * (2 * max_shift / SIDE)
    ones = torch.ones(n, device=device)
    fx = torch.where(torch.rand(n, generator=g, device=device) < 0.5, -ones, ones) if flip else ones
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    out = torch.zeros(n, 3, 3, device=device)
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = cos * fx, -sin, tx
    out[:, 1, 0], out[:, 1, 1], out[:, 1, 2] = sin * fx, cos, ty
    out[:, 2, 2] = 1
    return out


def sample(x: torch.Tensor, theta: torch.Tensor, fill: torch.Tensor | None = None) -> torch.Tensor:
    """x: N x 1 x 48 x 48 float; theta: N x 3 x 3 (output -> input, normalised). Outside the
    image the border is repeated, or, where `fill` (N values, NaN = border) is given, a constant."""
    grid = F.affine_grid(theta[:, :2, :], list(x.shape), align_corners=False)
    border = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if fill is None:
        return border
    use = ~torch.isnan(fill)
    if not bool(use.any()):
        return border
    f = torch.nan_to_num(fill).view(-1, 1, 1, 1)
    const = F.grid_sample(x - f, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + f
    return torch.where(use.view(-1, 1, 1, 1), const, border)


def soften(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Separable [w, 1 - 2w, w] blur per sample (w: N values in 0..0.5), border repeated. The
    pipeline's area-averaging crop of a bilinearly enlarged face is close to w = 0.125."""
    wv = w.view(-1, 1, 1, 1)
    p = F.pad(x, (1, 1, 0, 0), mode="replicate")
    x = (1 - 2 * wv) * x + wv * (p[..., :-2] + p[..., 2:])
    p = F.pad(x, (0, 0, 1, 1), mode="replicate")
    return (1 - 2 * wv) * x + wv * (p[..., :-2, :] + p[..., 2:, :])
