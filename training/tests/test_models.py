import pytest
import torch
from torch import nn

from training import models


@pytest.mark.parametrize("name", sorted(models.MODELS))
@pytest.mark.parametrize("classes", [7, 4])
def test_forward_shape(name, classes):
    torch.manual_seed(0)
    m = models.build(name, classes).eval()
    with torch.no_grad():
        y = m(torch.randn(3, 1, 48, 48))
    assert y.shape == (3, classes)
    assert torch.isfinite(y).all()


def test_unknown_model_and_misplaced_pretrained():
    with pytest.raises(ValueError, match="unknown model"):
        models.build("alexnet", 7)
    with pytest.raises(ValueError, match="--pretrained"):
        models.build("fernet", 7, pretrained="x.pth")


def test_flop_count_by_hand():
    # conv 1->4 3x3 pad 1 on 48x48: 2*48*48*4*9 ; maxpool; flatten 4*24*24 -> linear 5
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(4 * 24 * 24, 5))
    assert models.count_flops(m) == 2 * 48 * 48 * 4 * 9 + 2 * 4 * 24 * 24 * 5


def test_shipped_model_fits_swift_budget():
    m = models.build(models.SHIPPED, 7)
    assert 60e6 <= models.count_flops(m) <= 110e6
    assert models.count_params(m) < 3_000_000


def test_pretrained_loading_sums_rgb_first_conv(tmp_path):
    import torchvision
    ref = torchvision.models.resnet18(weights=None)
    sd = ref.state_dict()
    torch.save(sd, tmp_path / "r18.pth")
    m = models.build("resnet18", 4, pretrained=str(tmp_path / "r18.pth"))
    torch.testing.assert_close(m.conv1.weight, sd["conv1.weight"].sum(1, keepdim=True))
    torch.testing.assert_close(m.layer1[0].conv1.weight, sd["layer1.0.conv1.weight"])
    assert m.fc.out_features == 4
    torch.save({"foo": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="conv1.weight"):
        models.build("resnet18", 4, pretrained=str(tmp_path / "bad.pth"))
