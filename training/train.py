"""Train a FER2013 model.

    python -m training.train --data FILE_OR_DIR --model NAME --out runs/NAME [--epochs N] [--resume]

Trains on `Training`, selects on `PublicTest` (best.pt), evaluates on `PrivateTest` at the end when
the data has it. Writes last.pt every epoch (--resume continues from it), metrics.csv, plots.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import augment, data, models, precision
from .inference import evaluate_split, predict, to_input  # noqa: F401 (re-exported for callers of train)
from .report import finalize
from .schedules import onecycle_lr

# Per-model training recipes (the tutorials' choices where they made one); CLI flags override.
RECIPES = {
    # Tutorial 1: batch 400, 25 epochs.
    "logreg": dict(epochs=25, batch=400, opt="adam", lr=1e-3, wd=0.0, sched="constant", smoothing=0.0,
                   aug="none", clip=0.0),
    "mlp": dict(epochs=25, batch=400, opt="adam", lr=1e-3, wd=0.0, sched="constant", smoothing=0.0,
                aug="flip", clip=0.0),
    # Tutorial 2: plain CNN, 10 epochs, Adam.
    "cnn_small": dict(epochs=10, batch=128, opt="adam", lr=1e-3, wd=0.0, sched="constant", smoothing=0.0,
                      aug="flip", clip=0.0),
    # Tutorials 2 and 5: one-cycle LR, weight decay, gradient clipping.
    "resnet9": dict(epochs=10, batch=128, opt="adam", lr=0.01, wd=1e-4, sched="onecycle", smoothing=0.0,
                    aug="affine", clip=0.1),
    "emotionrec": dict(epochs=30, batch=128, opt="adam", lr=1e-3, wd=1e-4, sched="onecycle", smoothing=0.0,
                       aug="affine", clip=0.1),
    # Tutorial 3: ResNet18, LR scheduler (100 epochs there; fewer here by default).
    "resnet18": dict(epochs=30, batch=128, opt="sgd", lr=0.05, wd=5e-4, sched="cosine", smoothing=0.1,
                     aug="full", clip=0.0),
    # Tutorial 4: VGG19, Adam, 25 epochs, batch 64.
    "vgg19": dict(epochs=25, batch=64, opt="adam", lr=1e-4, wd=0.0, sched="constant", smoothing=0.0,
                  aug="flip", clip=0.0),
    # The shipped model.
    "fernet": dict(epochs=50, batch=128, opt="sgd", lr=0.1, wd=5e-4, sched="onecycle", smoothing=0.1,
                   aug="full", clip=0.0),
}
DEFAULT_RECIPE = dict(epochs=30, batch=128, opt="sgd", lr=0.1, wd=5e-4, sched="onecycle", smoothing=0.1,
                      aug="full", clip=0.0)


def log(msg: str):
    print(msg, flush=True)


def seed_everything(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(name, params, lr, wd):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name!r}")


def make_scheduler(name, opt, lr, epochs, steps_per_epoch):
    total = epochs * steps_per_epoch
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.2,
                                                   div_factor=25, final_div_factor=1e3)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if name == "step":  # the tutorials' StepLR-like decay: x0.1 at 50% and 75%
        return torch.optim.lr_scheduler.MultiStepLR(
            opt, milestones=[int(total * 0.5), int(total * 0.75)], gamma=0.1)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    raise ValueError(f"unknown scheduler {name!r}")


def augment_batch(xb_u8: torch.Tensor, g: torch.Generator, aug: str) -> torch.Tensor:
    x = to_input(xb_u8)
    if aug == "none":
        return x
    if aug == "flip":
        m = torch.rand(len(x), generator=g) < 0.5
        x[m] = torch.flip(x[m], dims=[3])
        return x
    x = augment.random_affine(x, g)
    if aug == "full":
        x = augment.random_erasing(x, g, p=0.5, value=0.0)
    return x


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="Kaggle FER2013 CSV (.csv or .csv.gz) or a train/ test/ folder tree")
    ap.add_argument("--model", required=True, help="model name: " + ", ".join(sorted(models.MODELS)))
    ap.add_argument("--out", required=True, help="run directory (checkpoints, metrics.csv, plots)")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--time-budget", type=float, default=0.0,
                    help="minutes of training: the one-cycle LR follows elapsed training time instead of "
                         "steps and training stops when the budget is spent (--epochs is then a maximum); "
                         "for a shared CPU whose speed is unpredictable")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float, help="peak learning rate")
    ap.add_argument("--wd", type=float, help="weight decay")
    ap.add_argument("--opt", choices=["sgd", "adam", "adamw"])
    ap.add_argument("--sched", choices=["onecycle", "cosine", "step", "constant"])
    ap.add_argument("--smoothing", type=float, help="label smoothing")
    ap.add_argument("--aug", choices=["none", "flip", "affine", "full"])
    ap.add_argument("--clip", type=float, help="gradient clipping norm (0: off)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stop-after", type=int, default=0,
                    help="stop after this many epochs in this invocation (continue later with --resume)")
    ap.add_argument("--keep-epochs", action="store_true",
                    help="also write every epoch's weights to OUT/epochNN.pt (for training.average)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    ap.add_argument("--classes", help="comma-separated subset of labels, e.g. angry,happy,sad,neutral")
    ap.add_argument("--merge", help="merge labels, e.g. disgust=angry")
    ap.add_argument("--strict", action="store_true", help="reject the data at the first malformed row")
    ap.add_argument("--init", help="start from the weights of this training checkpoint (same model and "
                                   "labels) with a fresh schedule, e.g. a second, lower-LR cycle")
    ap.add_argument("--pretrained", help="local ImageNet weights file for resnet18/vgg19")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-bf16", action="store_true", help="train in float32 even where the CPU has bf16 arithmetic (elsewhere float32 is the default)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    ap.add_argument("--cache-dir", help="where to cache the parsed CSV (.npz); default: beside OUT")
    ap.add_argument("--no-plots", action="store_true")
    return ap.parse_args(argv)


METRICS_HEADER = ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "val_acc_flip", "epoch_s",
                  "train_time_s"]


def resolve_recipe(args, last_path: Path):
    """The model's recipe with the command line's overrides, and the checkpoint to resume (or
    None). A resumed run keeps the recipe it was started with: only a time budget may change
    (the time-based schedule then stretches from where it is)."""
    recipe = dict(RECIPES.get(args.model, DEFAULT_RECIPE))
    for k in ("epochs", "batch", "lr", "wd", "opt", "sched", "smoothing", "aug", "clip"):
        v = getattr(args, k)
        if v is not None:
            recipe[k] = v
    if not (args.resume and last_path.exists()):
        return recipe, None
    ck = torch.load(last_path, map_location="cpu", weights_only=False)
    if ck["config"]["model"] != args.model:
        raise SystemExit(f"error: {last_path} is a {ck['config']['model']} run, not {args.model}")
    old = ck["config"]["recipe"]
    for k, v in recipe.items():
        if k in old and old[k] != v and getattr(args, k, None) is not None and not (
                k == "epochs" and args.time_budget):
            log(f"resume: keeping {k}={old[k]} of the interrupted run (ignoring {v})")
    keep_epochs = recipe["epochs"] if args.time_budget else old["epochs"]
    recipe = dict(old, epochs=keep_epochs)
    if not args.time_budget and old.get("time_budget_min"):
        args.time_budget = old["time_budget_min"]
    return recipe, ck


def load_splits(args, ck, last_path: Path, cache_dir: Path):
    """The data set (labels as asked) and its Training and PublicTest splits."""
    t0 = time.time()
    raw = data.load_raw(args.data, cache_dir=cache_dir, strict=args.strict, log=log)
    ds = data.make_dataset(raw, args.classes, args.merge)
    log(f"data: {args.data} parsed in {time.time() - t0:.1f}s; labels {ds.labels}; counts {ds.counts()}")
    if ck is not None and ds.labels != ck["config"]["labels"]:
        raise SystemExit(f"error: {last_path} was trained on labels {ck['config']['labels']}, "
                         f"not {ds.labels} (pass the same --classes/--merge to resume)")
    train = ds.splits["Training"]
    if args.limit:
        train = data.Split(train.images[:args.limit], train.labels[:args.limit])
    return ds, train, ds.splits.get("PublicTest")


def make_schedule(recipe, opt, steps: int, time_budget_min: float):
    """The LR scheduler. With a time budget the one-cycle curve follows elapsed training time
    (set per step by the loop; the scheduler object stays constant)."""
    if time_budget_min:
        recipe["sched"] = "onecycle-time"
        recipe["time_budget_min"] = time_budget_min
        for pg in opt.param_groups:
            pg["lr"] = onecycle_lr(0.0, recipe["lr"])
        return make_scheduler("constant", opt, recipe["lr"], recipe["epochs"], steps)
    return make_scheduler(recipe["sched"], opt, recipe["lr"], recipe["epochs"], steps)


def train_epoch(model, opt, sched, xtr, ytr, g, recipe, bf16: bool, train_time: float, budget_s: float):
    """One pass over the shuffled training set. Returns (loss, accuracy, faces seen, out of
    time); with a time budget it stops mid-epoch when the budget is spent."""
    model.train()
    te = time.time()
    steps = math.ceil(len(xtr) / recipe["batch"])
    perm = torch.randperm(len(xtr), generator=g)
    tot_loss, tot_ok, seen = 0.0, 0, 0
    for i in range(steps):
        if budget_s:
            progress = (train_time + time.time() - te) / budget_s
            if progress >= 1.0:
                return tot_loss / max(1, seen), tot_ok / max(1, seen), seen, True
            for pg in opt.param_groups:
                pg["lr"] = onecycle_lr(progress, recipe["lr"])
        idx = perm[i * recipe["batch"]:(i + 1) * recipe["batch"]]
        if len(idx) == 0:
            continue
        x = augment_batch(xtr[idx], g, recipe["aug"]).contiguous(memory_format=torch.channels_last)
        y = ytr[idx]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=recipe["smoothing"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if recipe["clip"]:
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["clip"])
        opt.step()
        if not budget_s:
            sched.step()
        tot_loss += loss.item() * len(y)
        tot_ok += (logits.argmax(1) == y).sum().item()
        seen += len(y)
    return tot_loss / max(1, seen), tot_ok / max(1, seen), seen, False


def append_metrics(path: Path, row: dict):
    with open(path, "a", newline="") as f:
        csv.writer(f).writerow([row["epoch"], f"{row['lr']:.6g}", f"{row['train_loss']:.4f}",
                                f"{row['train_acc']:.4f}", f"{row['val_loss']:.4f}",
                                f"{row['val_acc']:.4f}", f"{row['val_acc_flip']:.4f}",
                                f"{row['epoch_s']:.1f}", f"{row['train_time_s']:.1f}"])


def save_atomically(obj, path: Path):
    """torch.save under a temporary name, then renamed: a stopped run never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    last_path = out / "last.pt"
    recipe, ck = resolve_recipe(args, last_path)
    # bf16 autocast only where the CPU computes in bf16 (training.precision); float32 elsewhere.
    bf16 = precision.use_bf16("fp32" if args.no_bf16 else "auto", torch.device("cpu"))
    seed_everything(args.seed)
    cache_dir = Path(args.cache_dir) if args.cache_dir else out.resolve().parent / "cache"
    ds, train, val = load_splits(args, ck, last_path, cache_dir)

    model_kw = {"pretrained": args.pretrained} if args.pretrained else {}
    model = models.build(args.model, len(ds.labels), **model_kw).to(memory_format=torch.channels_last)
    nparams, flops = models.count_params(model), models.count_flops(model)
    log(f"model: {args.model}  params {nparams:,}  FLOPs/face {flops / 1e6:.1f} M  recipe {recipe}")
    steps = math.ceil(len(train.images) / recipe["batch"])
    opt = make_optimizer(recipe["opt"], model.parameters(), recipe["lr"], recipe["wd"])
    budget_s = args.time_budget * 60.0
    sched = make_schedule(recipe, opt, steps, args.time_budget)
    g = torch.Generator().manual_seed(args.seed)
    config = dict(model=args.model, labels=ds.labels, classes=args.classes, merge=args.merge,
                  recipe=recipe, seed=args.seed, data=str(args.data), mean=data.MEAN, std=data.STD,
                  input_size=data.IMAGE_SIZE, params=nparams, flops=flops, model_kw=model_kw)

    start_epoch, best_acc, train_time = 0, -1.0, 0.0
    if args.init and ck is None:
        ick = torch.load(args.init, map_location="cpu", weights_only=False)
        if ick.get("config", {}).get("model") != args.model or ick["config"]["labels"] != ds.labels:
            raise SystemExit(f"error: {args.init} is not a {args.model} checkpoint with labels {ds.labels}")
        model.load_state_dict(ick["model"])
        config["init"] = dict(checkpoint=str(args.init), epoch=ick.get("epoch"), val_acc=ick.get("val_acc"))
        log(f"init: weights from {args.init} (epoch {ick.get('epoch')}, PublicTest {ick.get('val_acc')})")
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        g.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        start_epoch, best_acc, train_time = ck["epoch"], ck["best_acc"], ck.get("train_time", 0.0)
        log(f"resume: from {last_path} at epoch {start_epoch}, best PublicTest {best_acc:.4f}")
    elif args.resume:
        log(f"resume: {last_path} not found, starting fresh")
    metrics_path = out / "metrics.csv"
    if start_epoch == 0:
        with open(metrics_path, "w", newline="") as f:
            csv.writer(f).writerow(METRICS_HEADER)
    (out / "config.json").write_text(json.dumps(config, indent=2))

    xtr, ytr = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    for epoch in range(start_epoch, recipe["epochs"]):
        te = time.time()
        lr_now = onecycle_lr(train_time / budget_s, recipe["lr"]) if budget_s else opt.param_groups[0]["lr"]
        loss, acc, seen, out_of_time = train_epoch(model, opt, sched, xtr, ytr, g, recipe, bf16, train_time, budget_s)
        train_time += time.time() - te
        if seen == 0:
            break
        row = dict(epoch=epoch + 1, lr=lr_now, train_loss=loss, train_acc=acc,
                   val_loss=float("nan"), val_acc=float("nan"), val_acc_flip=float("nan"))
        improved = True
        if val is not None:
            ev = evaluate_split(model, val, bf16=bf16, channels_last=True)
            row.update(val_loss=ev["loss"], val_acc=ev["acc"], val_acc_flip=ev["acc_flip"])
            improved = ev["acc"] > best_acc
        row["epoch_s"] = time.time() - te
        row["train_time_s"] = train_time
        append_metrics(metrics_path, row)
        log(f"epoch {epoch + 1}/{recipe['epochs']}  lr {lr_now:.4g}  train loss {row['train_loss']:.4f} "
            f"acc {row['train_acc']:.4f}  PublicTest loss {row['val_loss']:.4f} acc {row['val_acc']:.4f} "
            f"(flip {row['val_acc_flip']:.4f})  {row['epoch_s']:.0f}s")
        weights = dict(model=model.state_dict(), config=config, epoch=epoch + 1,
                       val_acc=row["val_acc"], val_acc_flip=row["val_acc_flip"])
        if improved:
            best_acc = row["val_acc"] if val is not None else best_acc
            save_atomically(weights, out / "best.pt")
        save_atomically(dict(model=model.state_dict(), optimizer=opt.state_dict(), scheduler=sched.state_dict(),
                             generator=g.get_state(), torch_rng=torch.get_rng_state(), epoch=epoch + 1,
                             best_acc=best_acc, train_time=train_time, config=config), last_path)
        if args.keep_epochs:
            # Weights only, for training.average over the last epochs of a cycle.
            torch.save(weights, out / f"epoch{epoch + 1:02d}.pt")
        if out_of_time:
            log(f"time budget of {args.time_budget:g} min spent")
            break
        if args.stop_after and epoch + 1 - start_epoch >= args.stop_after and epoch + 1 < recipe["epochs"]:
            log(f"stopping after {args.stop_after} epoch(s); continue with --resume")
            return 0

    log(f"done: best PublicTest acc {best_acc:.4f}; train time {train_time / 60:.1f} min")
    finalize(out, args.data, cache_dir=cache_dir, log=log, make_plots=not args.no_plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
