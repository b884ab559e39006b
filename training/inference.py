"""Classifying FER2013 images with a PyTorch model: the exported input normalisation, softmax
probabilities with and without mirror averaging, and one split's accuracy. Shared by training,
evaluation, averaging and reports (kept apart from `train` so they need not import it)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import data


def to_input(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 N x 48 x 48 -> float N x 1 x 48 x 48, normalised exactly as exported."""
    return ((images_u8.float() / 255.0 - data.MEAN) / data.STD).unsqueeze(1)


@torch.no_grad()
def predict(model, images_u8: torch.Tensor, batch: int = 512, bf16: bool = False,
            channels_last: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities of the images and of their horizontal mirrors."""
    model.eval()
    out, outf = [], []
    for i in range(0, len(images_u8), batch):
        x = to_input(images_u8[i:i + batch])
        x = torch.cat([x, torch.flip(x, dims=[3])])
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            p = F.softmax(model(x).float(), 1)
        n = len(x) // 2
        out.append(p[:n])
        outf.append(p[n:])
    return torch.cat(out), torch.cat(outf)


def evaluate_split(model, split: data.Split, bf16=False, channels_last=False) -> dict:
    """Accuracy without and with flip test-time augmentation (mean of image and mirror probs)."""
    x = torch.from_numpy(split.images)
    y = torch.from_numpy(split.labels)
    p, pm = predict(model, x, bf16=bf16, channels_last=channels_last)
    pf = 0.5 * (p + pm)
    loss = F.nll_loss(torch.log(p.clamp_min(1e-12)), y).item()
    return dict(loss=loss, acc=(p.argmax(1) == y).float().mean().item(),
                acc_flip=(pf.argmax(1) == y).float().mean().item(),
                pred=p.argmax(1).numpy(), pred_flip=pf.argmax(1).numpy(), probs=p, probs_flip=pf)
