"""The pipeline-framing recipe: crop maps, the validation split, starting from an export."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training import framing, models, recipe, runtime

ROOT = Path(__file__).resolve().parents[2]


def test_identity_crop_returns_the_image():
    x = torch.rand(2, 1, 48, 48)
    theta = framing.pixel_to_theta(torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]] * 2))
    assert torch.allclose(framing.sample(x, theta), x, atol=1e-5)


def test_crop_origin_moves_the_picture():
    # origin (3, 0): output pixel u reads source pixel u + 3 (rows unchanged).
    x = torch.arange(48.0).repeat(48, 1).view(1, 1, 48, 48)
    theta = framing.pixel_to_theta(torch.tensor([[[1.0, 0, 3.0], [0, 1.0, 0]]]))
    y = framing.sample(x, theta)
    assert torch.allclose(y[0, 0, 5, :40], x[0, 0, 5, 3:43], atol=1e-4)
    # Beyond the right edge the border repeats, or a constant is seen when asked.
    assert y[0, 0, 5, 47].item() == pytest.approx(47.0)
    z = framing.sample(x, theta, fill=torch.tensor([-1.0]))
    assert z[0, 0, 5, 47].item() == pytest.approx(-1.0)


def test_read_transforms(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("row,found,score,origin_x,origin_y,axisU_x,axisU_y,axisV_x,axisV_y\n"
                 "0,1,0.99,2.0,-1.0,1.1,0.1,-0.1,1.1\n1,0,,,,,,,\n")
    fr = framing.read_transforms(p, 3)
    assert fr.found.tolist() == [True, False, False]
    assert np.allclose(fr.affine[0], [[1.1, -0.1, 2.0], [0.1, 1.1, -1.0]])
    assert fr.affine[1].tolist() == [[1, 0, 0], [0, 1, 0]]
    p.write_text("row,found,score,origin_x,origin_y,axisU_x,axisU_y,axisV_x,axisV_y\n7,1,1,0,0,1,0,0,1\n")
    with pytest.raises(ValueError, match="row 7"):
        framing.read_transforms(p, 3)


def test_soften_keeps_flat_images_and_blurs_edges():
    x = torch.zeros(2, 1, 48, 48)
    x[:, :, :, 24:] = 1
    y = framing.soften(x, torch.tensor([0.0, 0.125]))
    assert torch.equal(y[0], x[0])
    assert y[1, 0, 10, 23].item() == pytest.approx(0.125) and y[1, 0, 10, 24].item() == pytest.approx(0.875)


def test_validation_split_is_fixed_and_disjoint():
    a, b = recipe.split_validation(1000)
    a2, b2 = recipe.split_validation(1000)
    assert np.array_equal(a, a2) and np.array_equal(b, b2)
    assert len(b) == 100 and not set(a) & set(b) and len(a) + len(b) == 1000


def test_init_from_export_computes_what_the_export_does():
    export = ROOT / "models/emotion/fernet"
    net = models.build("fernet", 7, **recipe.ARCHS["fernet"])
    recipe.init_from_export(net, str(export))
    net.eval()
    x = torch.randn(3, 1, 48, 48)
    meta, tensors = runtime.load(export)
    want = runtime.forward(meta, tensors, x.numpy())
    got = torch.softmax(net(x), 1).detach().numpy()
    assert np.allclose(got, want, atol=1e-4)


def _tiny_pack(path: Path, n_train: int = 160, n_test: int = 40) -> Path:
    from training import pack
    rng = np.random.default_rng(0)
    arrays = {}
    for key, n in (("train", n_train), ("test", n_test)):
        arrays[f"{key}_images"] = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
        arrays[f"{key}_labels"] = rng.integers(0, 7, n).astype(np.uint8)
        arrays[f"{key}_found"] = rng.random(n) < 0.9
        affine = np.zeros((n, 2, 3), dtype=np.float32)
        affine[:, 0, 0] = affine[:, 1, 1] = 1.0
        arrays[f"{key}_affine"] = affine
    pack.write(arrays, path)
    return path


def test_a_run_resumed_from_a_copied_last_checkpoint_finishes(tmp_path):
    """A committed checkpoint folder holds last.pt but no best.pt; resuming it, even with the
    budget already spent, ends with a best.pt and results.json (the final EMA stands in)."""
    data = _tiny_pack(tmp_path / "tiny.npz.xz")
    run = tmp_path / "run"
    args = ["--pack", str(data), "--arch", "fernet", "--out", str(run), "--minutes", "0.01", "--batch", "32",
            "--max-epochs", "1", "--seed", "3"]
    assert recipe.main(args) == 0
    assert (run / "best.pt").exists() and (run / "results.json").exists()
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("last.pt", "metrics.csv"):
        (copy / name).write_bytes((run / name).read_bytes())
    assert recipe.main(["--pack", str(data), "--arch", "fernet", "--out", str(copy), "--minutes", "0.01",
                        "--batch", "32", "--max-epochs", "1", "--seed", "3", "--resume"]) == 0
    assert (copy / "best.pt").exists() and (copy / "results.json").exists()
    ck = torch.load(copy / "best.pt", map_location="cpu", weights_only=False)
    assert ck["weights"] == "ema" and ck["epoch"] == 1
    # Its export records how it was trained: the recipe's seed, pack and validation split.
    from training import export
    assert export.main(["--checkpoint", str(copy / "best.pt"), "--out", str(tmp_path / "m")]) == 0
    rec = json.loads((tmp_path / "m.json").read_text())["training"]
    assert rec["seed"] == 3 and rec["data"] == str(data) and rec["epoch"] == 1
    assert rec["args"]["arch"] == "fernet" and rec["validation"]["n"] > 0


def test_an_epoch_schedule_runs_its_epochs_whatever_the_time_budget(tmp_path):
    """With --schedule-epochs the one-cycle curve follows epochs, not time: a tiny time budget
    (which alone stops after one epoch) still gives the 3 epochs, the LR rising from its start
    to near the peak and back down, the same at every speed; resuming continues the count."""
    import csv
    data = _tiny_pack(tmp_path / "tiny.npz.xz")
    run = tmp_path / "run"
    common = ["--pack", str(data), "--arch", "fernet", "--out", str(run), "--minutes", "0.0001", "--batch", "32",
              "--seed", "3", "--lr", "0.1"]
    assert recipe.main(common + ["--schedule-epochs", "3", "--max-epochs", "2"]) == 0
    assert recipe.main(common + ["--schedule-epochs", "3", "--resume"]) == 0
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    lrs = [float(r["lr"]) for r in rows]  # the LR of each epoch's last step
    assert lrs[0] > lrs[1] > lrs[2]  # past the peak (15% in) after the first epoch, then annealing
    assert lrs[2] < 0.01
    time_only = tmp_path / "time"
    assert recipe.main(common[:5] + [str(time_only)] + common[6:]) == 0
    assert len(list(csv.DictReader(open(time_only / "metrics.csv")))) == 1


def test_scores_without_flips_give_the_same_plain_accuracies():
    """The per-epoch validation leaves the flipped copies out: the plain accuracies are those of
    the full evaluation, and no flip figure is claimed."""
    torch.manual_seed(0)
    kw = dict(recipe.ARCHS["fernet"])
    net = models.build("fernet", 7, **kw).eval()
    n = 24
    rng = np.random.default_rng(1)
    affine = np.zeros((n, 2, 3), dtype=np.float32)
    affine[:, 0, 0] = affine[:, 1, 1] = 0.9
    affine[:, :, 2] = rng.uniform(-2, 2, (n, 2))
    faces = recipe.Faces(rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), rng.integers(0, 7, n).astype(np.uint8),
                         rng.random(n) < 0.8, affine, torch.device("cpu"))
    full = recipe.scores([net], faces, bf16=False)
    quick = recipe.scores([net], faces, bf16=False, flip=False)
    for key in ("direct", "pipeline", "direct_on_found", "n", "found"):
        assert quick[key] == pytest.approx(full[key]), key
    assert "direct_flip" in full and "direct_flip" not in quick


def test_resuming_an_nchw_checkpoint_trains_on(tmp_path):
    """last.pt written by a run in the NCHW layout (parameters and momentum buffers contiguous)
    resumes in today's channels-last run and trains another epoch, its 4-d momentum buffers
    converted to channels-last (an SGD step keeps a buffer's layout, so they would stay NCHW
    unless the resume converted them)."""
    data = _tiny_pack(tmp_path / "tiny.npz.xz")
    run = tmp_path / "run"
    common = ["--pack", str(data), "--arch", "fernet", "--out", str(run), "--minutes", "1", "--batch", "32",
              "--seed", "3", "--schedule-epochs", "2"]
    assert recipe.main(common + ["--max-epochs", "1"]) == 0
    ck = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    ck["model"] = {k: v.contiguous() for k, v in ck["model"].items()}
    for st in ck["optimizer"]["state"].values():
        if st.get("momentum_buffer") is not None:
            st["momentum_buffer"] = st["momentum_buffer"].contiguous()
    torch.save(ck, run / "last.pt")
    assert recipe.main(common + ["--resume"]) == 0
    resumed = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    assert resumed["epoch"] == 2
    bufs = [st["momentum_buffer"] for st in resumed["optimizer"]["state"].values()
            if st.get("momentum_buffer") is not None and st["momentum_buffer"].dim() == 4]
    assert bufs and all(b.is_contiguous(memory_format=torch.channels_last) for b in bufs)
    assert any(not b.is_contiguous() for b in bufs)  # (with one input channel the two layouts coincide)
