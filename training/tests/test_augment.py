import math

import torch

from training import augment


def test_affine_identity_when_ranges_are_zero():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 1, 48, 48)
    y = augment.random_affine(x, g, max_shift=0, max_rot=0, scale=(1, 1), flip=False)
    torch.testing.assert_close(y, x, atol=1e-4, rtol=0)


def test_affine_shift_only_moves_by_whole_pixels_within_range():
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(16, 1, 48, 48)
    x[:, :, 24, 24] = 1.0
    y = augment.random_affine(x, g, max_shift=4, max_rot=0, scale=(1, 1), flip=False)
    for i in range(16):
        yy, xx = torch.nonzero(y[i, 0] > 0.01, as_tuple=True)
        assert len(yy) > 0
        assert (yy - 24).abs().max() <= 5 and (xx - 24).abs().max() <= 5


def test_erasing_area_and_probability():
    g = torch.Generator().manual_seed(2)
    x = torch.ones(200, 1, 48, 48)
    y = augment.random_erasing(x, g, p=0.5, area=(0.02, 0.2), value=0.0)
    erased = (y == 0).flatten(1).float().mean(1)
    frac_on = (erased > 0).float().mean().item()
    assert 0.35 < frac_on < 0.65
    assert erased.max().item() <= 0.2 + 0.02
    assert erased[erased > 0].min().item() >= 0.005
    torch.testing.assert_close(augment.random_erasing(x, g, p=0.0), x)
