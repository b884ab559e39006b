import pytest
import torch

from training import models
from training.average import average_state_dicts, recalibrate_bn


def test_average_is_the_elementwise_mean_and_keeps_integer_buffers():
    a = models.build("cnn_small", 7).state_dict()
    torch.manual_seed(1)
    b = models.build("cnn_small", 7).state_dict()
    avg = average_state_dicts([a, b])
    for k in a:
        if a[k].is_floating_point():
            assert torch.allclose(avg[k], (a[k] + b[k]) / 2, atol=1e-7), k
        else:
            assert torch.equal(avg[k], a[k]), k


def test_average_rejects_different_architectures():
    a = models.build("cnn_small", 7).state_dict()
    b = models.build("cnn_small", 4).state_dict()
    with pytest.raises(ValueError, match="shape"):
        average_state_dicts([a, b])


def test_bn_statistics_are_re_estimated_from_the_images():
    torch.manual_seed(0)
    model = models.build("fernet", 7)
    images = torch.randint(0, 256, (64, 48, 48), dtype=torch.uint8)
    recalibrate_bn(model, images, batch=16)
    first = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    # The first BN follows the first conv (no bias): its running mean is the conv output's mean.
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    from training.train import to_input
    with torch.no_grad():
        y = conv(to_input(images))
    assert torch.allclose(first.running_mean, y.mean(dim=(0, 2, 3)), atol=1e-4)
    assert not model.training
