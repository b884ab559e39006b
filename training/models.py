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


class Residual(nn.Module):
    """y = x + body(x): the one skip connection the Swift runtime knows (residual add)."""

    def __init__(self, *body: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*body)

    def forward(self, x):
        return x + self.body(x)


class LogReg(nn.Module):
    """Tutorial 1: logistic regression on the 2,304 pixels."""

    def __init__(self, num_classes: int = 7):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(48 * 48, num_classes))

    def forward(self, x):
        return self.net(x)


class MLP(nn.Module):
    """Tutorial 1: feed-forward network, two hidden ReLU layers."""

    def __init__(self, num_classes: int = 7, hidden=(512, 256)):
        super().__init__()
        h1, h2 = hidden
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(48 * 48, h1), nn.ReLU(inplace=True),
                                 nn.Linear(h1, h2), nn.ReLU(inplace=True), nn.Linear(h2, num_classes))

    def forward(self, x):
        return self.net(x)


class CNNSmall(nn.Module):
    """Tutorial 2's plain CNN (conv + ReLU + max-pool blocks, then a dense head; no BN)."""

    def __init__(self, num_classes: int = 7):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),     # 24
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),    # 12
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),   # 6
            nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(128 * 6 * 6, 256), nn.ReLU(inplace=True),
                                        nn.Dropout(0.3), nn.Linear(256, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def _block(cin, cout, pool=False):
    layers = conv_bn(cin, cout)
    if pool:
        layers.append(nn.MaxPool2d(2))
    return layers


class ResNet9(nn.Module):
    """Tutorials 2 and 5: the cifar10-fast ResNet9 with a 1-channel input and an extra dense layer in
    the classifier (trained with one-cycle LR, weight decay and gradient clipping)."""

    def __init__(self, num_classes: int = 7):
        super().__init__()
        self.features = nn.Sequential(
            *_block(1, 64), *_block(64, 128, pool=True),                       # 24
            Residual(*_block(128, 128), *_block(128, 128)),
            *_block(128, 256, pool=True), *_block(256, 512, pool=True),        # 6
            Residual(*_block(512, 512), *_block(512, 512)),
            nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten())             # 3 -> 1
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(512, 128), nn.ReLU(inplace=True),
                                        nn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class EmotionRecognition(nn.Module):
    """Tutorial 5's custom CNN "EmotionRecognition": four conv-BN-ReLU x2 + max-pool + dropout
    stages (64-128-256-512), then a two-layer dense head. (The tutorial's notebook is not in its
    text, so widths follow its description of a deep VGG-like CNN.)"""

    def __init__(self, num_classes: int = 7, dropout: float = 0.25):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for w in (64, 128, 256, 512):
            layers += conv_bn(cin, w) + conv_bn(w, w) + [nn.MaxPool2d(2), nn.Dropout(dropout)]
            cin = w
        self.features = nn.Sequential(*layers, nn.Flatten())                     # 512 x 3 x 3
        self.classifier = nn.Sequential(nn.Linear(512 * 3 * 3, 256), nn.BatchNorm1d(256),
                                        nn.ReLU(inplace=True), nn.Dropout(0.5),
                                        nn.Linear(256, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def _load_pretrained(model: nn.Module, path: str, first_conv: str, drop_prefixes: tuple[str, ...]):
    """Load a local torchvision ImageNet state dict: the RGB first conv is summed over its input
    channels (gray = R = G = B), the ImageNet classifier is dropped."""
    import torch as _t
    sd = _t.load(path, map_location="cpu", weights_only=True)
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    key = first_conv + ".weight"
    if key not in sd:
        raise ValueError(f"{path}: no tensor {key!r}; not a torchvision state dict for this model")
    if sd[key].shape[1] == 3:
        sd[key] = sd[key].sum(1, keepdim=True)
    sd = {k: v for k, v in sd.items() if not k.startswith(drop_prefixes)}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    bad = [k for k in missing if not k.startswith(drop_prefixes)]
    if bad or unexpected:
        raise ValueError(f"{path}: weights do not fit (missing {bad[:5]}, unexpected {unexpected[:5]})")


def resnet18(num_classes: int = 7, pretrained: str | None = None) -> nn.Module:
    """Tutorial 3: torchvision ResNet18, first conv takes 1 channel (pretrained RGB kernels summed),
    new fc layer. Runs at 48x48 (final feature map 2x2) rather than upscaling to 224."""
    import torchvision
    m = torchvision.models.resnet18(weights=None)
    m.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
    if pretrained:
        _load_pretrained(m, pretrained, "conv1", ("fc.",))
    m.fc = nn.Linear(512, num_classes)
    return m


def vgg19(num_classes: int = 7, pretrained: str | None = None) -> nn.Module:
    """Tutorial 4: torchvision VGG19 with a 1-channel first conv and the tutorial's head
    (+1024 dense, dropout 0.2); global average pooling replaces the 7x7 pool for 48x48 input."""
    import torchvision
    m = torchvision.models.vgg19(weights=None)
    m.features[0] = nn.Conv2d(1, 64, 3, padding=1)
    if pretrained:
        _load_pretrained(m, pretrained, "features.0", ("classifier.",))
    m.avgpool = nn.AdaptiveAvgPool2d(1)
    m.classifier = nn.Sequential(nn.Flatten(), nn.Linear(512, 1024), nn.ReLU(inplace=True),
                                 nn.Dropout(0.2), nn.Linear(1024, num_classes))
    return m


MODELS = {
    "logreg": LogReg,
    "mlp": MLP,
    "cnn_small": CNNSmall,
    "resnet9": ResNet9,
    "emotionrec": EmotionRecognition,
    "resnet18": resnet18,
    "vgg19": vgg19,
    "fernet": FerNet,
}
SHIPPED = "fernet"


def build(name: str, num_classes: int, **kw) -> nn.Module:
    if kw.get("pretrained") and name not in ("resnet18", "vgg19"):
        raise ValueError(f"--pretrained applies to resnet18 and vgg19, not {name!r}")
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
