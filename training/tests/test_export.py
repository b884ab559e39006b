import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from torch import nn

from training import export, models, runtime

CFG = dict(labels=["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"], mean=0.5, std=0.25,
           input_size=48)


def _randomise_bn(m: nn.Module, seed: int = 0):
    """Non-trivial BN statistics and affine parameters so folding is really exercised."""
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            mod.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            mod.bias.data.copy_(torch.rand(n, generator=g) * 0.4 - 0.2)
    return m


def _logits_from_export(meta, tensors, x):
    meta = dict(meta, layers=[l for l in meta["layers"] if l["op"] != "softmax"])
    return runtime.forward(meta, tensors, x)


@pytest.mark.parametrize("name", ["fernet", "cnn_small", "logreg", "mlp", "resnet9", "emotionrec"])
def test_round_trip_matches_pytorch_eval(tmp_path, name):
    torch.manual_seed(1)
    m = _randomise_bn(models.build(name, 7)).eval()
    st, js = export.export(m, dict(CFG, model=name), tmp_path / name)
    meta, tensors = runtime.load(tmp_path / name)
    u8 = np.random.RandomState(2).randint(0, 256, (4, 48, 48)).astype(np.uint8)
    x = runtime.preprocess(u8, meta)
    with torch.no_grad():
        ref = m(torch.from_numpy(x)).numpy()
    got = _logits_from_export(meta, tensors, x)
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
    probs = runtime.forward(meta, tensors, x)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert probs.argmax(1).tolist() == ref.argmax(1).tolist()


def test_json_describes_every_tensor_and_no_batchnorm(tmp_path):
    m = _randomise_bn(models.build("fernet", 7)).eval()
    st, js = export.export(m, dict(CFG, model="fernet"), tmp_path / "f")
    meta = json.loads(js.read_text())
    tensors = load_file(str(st))
    named = {l[k] for l in meta["layers"] for k in ("weight", "bias") if k in l}
    assert named == set(tensors)
    assert all(t.dtype == np.float32 for t in tensors.values())
    assert not any("bn" in l["op"] or "batch" in l["op"] for l in meta["layers"])
    convs = [l for l in meta["layers"] if l["op"] == "conv"]
    assert [l["name"] for l in convs] == [f"conv{i}" for i in range(7)]
    assert tensors["conv0.weight"].shape == (32, 1, 3, 3) and tensors["conv0.bias"].shape == (32,)
    assert meta["layers"][0]["inputs"] == ["input"]
    assert meta["layers"][-1]["op"] == "softmax" and meta["layers"][-1]["output_shape"] == [7]
    assert meta["parameters"] == sum(t.size for t in tensors.values())
    assert meta["flops_per_face"] == models.count_flops(m)
    assert meta["preprocessing"]["mean"] == 0.5 and meta["preprocessing"]["std"] == 0.25


def test_fold_bn_against_direct_formula():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=True)
    bn = _randomise_bn(nn.BatchNorm2d(4)).eval()
    w, b = export.fold_bn(conv.weight, conv.bias, bn)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        ref = bn(conv(x))
        got = nn.functional.conv2d(x, w, b, padding=1)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_residual_is_an_add_node(tmp_path):
    m = _randomise_bn(models.build("resnet9", 7)).eval()
    layers, _ = export.build_graph(m)
    adds = [l for l in layers if l["op"] == "add"]
    assert len(adds) == 2
    names = [l["name"] for l in layers]
    for a in adds:
        skip, body = a["inputs"]
        assert names.index(skip) < names.index(body) < names.index(a["name"])


def test_unsupported_layer_is_rejected():
    m = nn.Sequential(nn.Conv2d(1, 4, 3, groups=1), nn.Sigmoid())
    with pytest.raises(export.ExportError, match="Sigmoid"):
        export.build_graph(m)
    with pytest.raises(export.ExportError, match="grouped"):
        export.build_graph(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3, groups=2)))
