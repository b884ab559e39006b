import csv
import json

import pytest
import torch

from training import evaluate, report, train
from .conftest import synthetic_rows, write_csv


@pytest.fixture
def csv50(tmp_path):
    lines, _, _, _ = synthetic_rows(63, usage_cycle=("Training", "Training", "PublicTest"))
    return write_csv(tmp_path / "fer50.csv.gz", lines, gz=True)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("model", ["fernet", "cnn_small"])
def test_one_epoch_smoke_then_resume(tmp_path, csv50, model):
    out = tmp_path / "runs" / model
    args = ["--data", str(csv50), "--model", model, "--out", str(out), "--epochs", "2", "--batch", "16",
            "--threads", "1", "--seed", "3"]
    assert train.main(args + ["--stop-after", "1"]) == 0
    for f in ("best.pt", "last.pt", "metrics.csv", "config.json"):
        assert (out / f).exists(), f
    rows = _rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1"]
    assert 0.0 <= float(rows[0]["val_acc"]) <= 1.0 and float(rows[0]["train_loss"]) > 0
    assert list((tmp_path / "runs" / "cache").glob("*.npz")), "parsed CSV cache beside the run dir"

    # --resume continues the interrupted schedule from last.pt ...
    assert train.main(args + ["--resume"]) == 0
    rows = _rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    for f in ("results.json", "curves.png", "confusion.png"):
        assert (out / f).exists(), f
    res = json.loads((out / "results.json").read_text())
    assert res["results"]["PublicTest"]["n"] == 21
    m, cfg = evaluate.load_checkpoint(out / "best.pt")
    assert cfg["model"] == model and len(cfg["labels"]) == 7

    # ... and ends where an uninterrupted run with the same seed ends.
    whole = tmp_path / "runs" / (model + "-whole")
    assert train.main(args[:5] + [str(whole)] + args[6:] + ["--no-plots"]) == 0
    a = torch.load(out / "last.pt", weights_only=False)["model"]
    b = torch.load(whole / "last.pt", weights_only=False)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], msg=k)


def test_training_learns_synthetic_bands(tmp_path):
    """Classes are bright bands at different heights: a short run must beat chance clearly."""
    lines, _, _, _ = synthetic_rows(280, usage_cycle=("Training", "Training", "Training", "PublicTest"))
    path = write_csv(tmp_path / "f.csv", lines)
    out = tmp_path / "r"
    train.main(["--data", str(path), "--model", "cnn_small", "--out", str(out), "--epochs", "4",
                "--batch", "32", "--aug", "none", "--threads", "1", "--no-plots"])
    res = json.loads((out / "results.json").read_text())
    assert res["results"]["PublicTest"]["acc"] > 0.6


def test_classes_option_changes_output_size(tmp_path, csv50):
    out = tmp_path / "r4"
    train.main(["--data", str(csv50), "--model", "logreg", "--out", str(out), "--epochs", "1",
                "--classes", "angry,happy,sad,neutral", "--threads", "1", "--no-plots"])
    m, cfg = evaluate.load_checkpoint(out / "best.pt")
    assert cfg["labels"] == ["angry", "happy", "sad", "neutral"]
    assert m(torch.zeros(1, 1, 48, 48)).shape == (1, 4)


def test_time_budget_stops_and_schedule_shape():
    assert train.onecycle_lr(0.0, 0.1) == pytest.approx(0.004)
    assert train.onecycle_lr(0.2, 0.1) == pytest.approx(0.1)
    assert train.onecycle_lr(1.0, 0.1) == pytest.approx(0.1 / 25 / 1000)
    lrs = [train.onecycle_lr(p / 100, 0.1) for p in range(101)]
    peak = lrs.index(max(lrs))
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))


def test_evaluate_rejects_bad_checkpoint(tmp_path):
    torch.save({"weights": 1}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a training.train checkpoint"):
        evaluate.load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError):
        evaluate.load_checkpoint(tmp_path / "missing.pt")


def test_init_starts_from_checkpoint_weights(tmp_path, csv50):
    a = tmp_path / "a"
    base = ["--data", str(csv50), "--model", "cnn_small", "--epochs", "1", "--threads", "1", "--no-plots"]
    train.main(base + ["--out", str(a)])
    b = tmp_path / "b"
    # Zero learning rate and weight decay: the weights must stay those of the init checkpoint.
    train.main(base + ["--out", str(b), "--init", str(a / "best.pt"), "--lr", "0", "--wd", "0",
                       "--sched", "constant", "--opt", "sgd"])
    wa = torch.load(a / "best.pt", weights_only=False)["model"]
    wb = torch.load(b / "last.pt", weights_only=False)["model"]
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], msg=k)
    assert json.loads((b / "config.json").read_text())["init"]["epoch"] == 1


def test_keep_epochs_writes_each_epochs_weights_for_averaging(tmp_path, csv50):
    from training import average
    out = tmp_path / "runs" / "keep"
    assert train.main(["--data", str(csv50), "--model", "cnn_small", "--out", str(out), "--epochs", "2",
                       "--batch", "16", "--threads", "1", "--seed", "1", "--keep-epochs", "--no-plots"]) == 0
    e1, e2 = out / "epoch01.pt", out / "epoch02.pt"
    assert e1.exists() and e2.exists()
    last = torch.load(out / "last.pt", weights_only=False)["model"]
    kept = torch.load(e2, weights_only=False)["model"]
    assert all(torch.equal(last[k], kept[k]) for k in last)
    soup = tmp_path / "soup" / "best.pt"
    assert average.main(["--checkpoints", str(e1), str(e2), "--data", str(csv50), "--out", str(soup)]) == 0
    model, cfg = evaluate.load_checkpoint(soup)
    assert cfg["model"] == "cnn_small" and len(cfg["averaged_from"]) == 2
