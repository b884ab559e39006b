"""Model zoo: the tutorials' models plus the shipped `fernet`.

Every model takes N x 1 x 48 x 48 normalised gray input and returns N x num_classes logits.
"""
from __future__ import annotations

import torch
from torch import nn


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class FerNet(nn.Module):
    """The shipped model: VGG-style, BN, most convolutions at 24x24 and below so it costs about
    100 MFLOPs per face (fast enough for im2col + sgemm at >1000 faces/s on two cores).

    48: conv 1->32 | pool -> 24: conv 32->48 | pool -> 12: conv 48->96, 96->96 |
    pool -> 6: conv 96->192, 192->192 | pool -> 3: conv 192->384 | GAP | dropout | linear.
    Built only from layers the Swift runtime has (Conv2d, BatchNorm, ReLU, MaxPool2d, global
    average pooling, Flatten, Dropout, Linear) in one flat Sequential so export is generic.
    """

    def __init__(self, num_classes: int = 7, widths=(32, 48, 96, 192, 384), dropout: float = 0.4):
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.features = nn.Sequential(
            *conv_bn(1, w0), nn.MaxPool2d(2),
            *conv_bn(w0, w1), nn.MaxPool2d(2),
            *conv_bn(w1, w2), *conv_bn(w2, w2), nn.MaxPool2d(2),
            *conv_bn(w2, w3), *conv_bn(w3, w3), nn.MaxPool2d(2),
            *conv_bn(w3, w4),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(w4, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


MODELS = {
    "fernet": FerNet,
}


def build(name: str, num_classes: int, **kw) -> nn.Module:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(MODELS))})")
    return MODELS[name](num_classes=num_classes, **kw)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, size: int = 48, channels: int = 1) -> int:
    """FLOPs (2 x multiply-adds) of one forward pass on a single face, counting Conv2d and Linear
    (what im2col + sgemm will compute); BN is folded at export, pooling/activations are ignored."""
    total = 0

    def conv_hook(m: nn.Conv2d, inp, out):
        nonlocal total
        cin = m.in_channels // m.groups
        kh, kw = m.kernel_size
        total += 2 * out.shape[1] * out.shape[2] * out.shape[3] * cin * kh * kw

    def lin_hook(m: nn.Linear, inp, out):
        nonlocal total
        total += 2 * m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, channels, size, size))
    model.train(was)
    for h in hooks:
        h.remove()
    return total
