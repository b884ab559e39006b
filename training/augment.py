"""Batched augmentation on whole tensors (no per-image PIL), so data handling costs little CPU."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, g: torch.Generator, max_shift: float = 4.0, max_rot: float = 10.0,
                  scale=(0.9, 1.1), flip: bool = True) -> torch.Tensor:
    """x: N x C x H x W float. Per-sample random translation (+-max_shift px, like a 48 crop of a
    4-px-padded image), rotation (+-max_rot deg), zoom and horizontal flip in one grid_sample."""
    n, _, h, w = x.shape
    ang = (torch.rand(n, generator=g) * 2 - 1) * math.radians(max_rot)
    s = torch.empty(n).uniform_(scale[0], scale[1], generator=g)
    tx = (torch.rand(n, generator=g) * 2 - 1) * (2 * max_shift / w)
    ty = (torch.rand(n, generator=g) * 2 - 1) * (2 * max_shift / h)
    fx = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    theta = torch.stack([torch.stack([cos * fx, -sin, tx], 1),
                         torch.stack([sin * fx, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_erasing(x: torch.Tensor, g: torch.Generator, p: float = 0.5, area=(0.02, 0.2),
                   ratio=(0.3, 3.3), value: float = 0.0) -> torch.Tensor:
    """Erase one random rectangle per sample with probability p (set to `value`)."""
    n, _, h, w = x.shape
    a = torch.empty(n).uniform_(area[0], area[1], generator=g) * h * w
    logr = torch.empty(n).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=g)
    r = torch.exp(logr)
    eh = torch.sqrt(a * r).clamp(1, h).floor()
    ew = torch.sqrt(a / r).clamp(1, w).floor()
    y0 = (torch.rand(n, generator=g) * (h - eh + 1)).floor()
    x0 = (torch.rand(n, generator=g) * (w - ew + 1)).floor()
    on = torch.rand(n, generator=g) < p
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    m = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1)) &
         (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1)) & on.view(n, 1, 1))
    return x.masked_fill(m.unsqueeze(1), value)
