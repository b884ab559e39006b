"""The shipped model's recipe: time-budgeted training on both framings, teachers and distillation.

    python -m training.recipe --pack out/gpu/fer2013.npz.xz --arch teacher --out runs/t0 --minutes 4
    python -m training.recipe --pack ... --arch fernet --out runs/s --minutes 4 \
        --teacher runs/t0/best.pt --teacher runs/t1/best.pt
    python -m training.recipe --pack ... --evaluate runs/t0/best.pt runs/t1/best.pt   # ensemble figures

Protocol: a fixed 10% of `Training` (seed 20261204) is the validation split, the only data any
choice is made on; `PublicTest` is reported, never selected on. Every batch mixes two framings
of each face: FER2013's own, and the crop fer-live's pipeline takes of it after MTCNN
(`training.framing`; half of the batch where the detector found the face), each under the same
random affine augmentation, flip, softening and random erasing. Outside the 48x48 image a crop repeats the
border or, for a quarter of the pipeline crops, sees mid-gray, as on a padded canvas.

The learning rate follows the one-cycle curve over *elapsed training time* (`--minutes`), so a
run fits its budget on any machine (a GPU or a 2-core CPU); `--resume` continues `last.pt` with
its schedule. An exponential moving average of the weights (decay 0.999, batch-norm buffers
included) is evaluated beside the raw weights each epoch; `best.pt` keeps whichever scored best on
validation (mean of the two framings). With `--teacher`, the loss is
`alpha * T^2 * KL(teachers' mean softmax at T || student at T) + (1 - alpha) * CE`.
Checkpoints have `training.train`'s layout, so `training.export` and `training.evaluate` take them.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from . import data, framing, models, pack, plots, precision
from .schedules import onecycle_lr

VAL_SEED = 20261204
VAL_SHARE = 0.10
ARCHS = {
    # The shipped network (Swift: ~2,200 faces/s on two cores).
    "fernet": dict(widths=(32, 48, 96, 192, 384), dropout=0.4),
    # 1.5x the channels of fernet (2.2x the multiply-adds).
    "fernet_m": dict(widths=(48, 64, 128, 256, 512), dropout=0.4),
    # Teacher: 2.7x the channels of fernet, for the ensemble that is distilled.
    "teacher": dict(widths=(64, 128, 256, 512, 1024), dropout=0.5),
}


def log(msg: str):
    print(msg, flush=True)


def split_validation(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation rows of `Training` (fixed, whatever the machine)."""
    perm = np.random.default_rng(VAL_SEED).permutation(n)
    k = int(round(n * VAL_SHARE))
    return np.sort(perm[k:]), np.sort(perm[:k])


class Faces:
    """One split on the device: uint8 images, labels and pipeline framings."""

    def __init__(self, images, labels, found, affine, device):
        self.images = torch.from_numpy(np.ascontiguousarray(images)).to(device)
        self.labels = torch.from_numpy(labels.astype(np.int64)).to(device)
        self.found = torch.from_numpy(found).to(device)
        self.theta = framing.pixel_to_theta(torch.from_numpy(affine)).to(device)

    def __len__(self):
        return len(self.labels)


def load_splits(pack_path: str, device) -> dict[str, Faces]:
    z = pack.load(pack_path)
    tr, va = split_validation(len(z["train_labels"]))
    out = {}
    for name, key, idx in (("train", "train", tr), ("val", "train", va), ("test", "test", None)):
        sel = slice(None) if idx is None else idx
        out[name] = Faces(z[f"{key}_images"][sel], z[f"{key}_labels"][sel], z[f"{key}_found"][sel],
                          z[f"{key}_affine"][sel], device)
    return out


def normalise(x_u8: torch.Tensor) -> torch.Tensor:
    return ((x_u8.float() / 255.0 - data.MEAN) / data.STD).unsqueeze(1)


def make_batch(faces: Faces, idx: torch.Tensor, g: torch.Generator, p_pipeline: float) -> torch.Tensor:
    dev = faces.images.device
    n = len(idx)
    x = normalise(faces.images[idx])
    use = (torch.rand(n, generator=g, device=dev) < p_pipeline) & faces.found[idx]
    crop = torch.where(use.view(-1, 1, 1), faces.theta[idx], framing.identity_theta(n, dev))
    theta = crop @ framing.random_augment_theta(n, g, dev)
    # A quarter of the pipeline crops see a constant (mid-gray +- noise) outside the image.
    gray = (torch.rand(n, generator=g, device=dev) * 0.4 - 0.2)
    const = use & (torch.rand(n, generator=g, device=dev) < 0.25)
    fill = torch.where(const, gray, torch.full_like(gray, float("nan")))
    # Half the faces softened as by an upscale then area downscale (fer-live's crop of an
    # enlarged face: a [w, 1 - 2w, w] kernel, w up to 0.2; 0.125 is a box over a bilinear image).
    w = torch.rand(n, generator=g, device=dev) * 0.2 * (torch.rand(n, generator=g, device=dev) < 0.5)
    x = framing.soften(x, w)
    x = framing.sample(x, theta, fill)
    return erase_on_device(x, g)


def erase_on_device(x: torch.Tensor, g: torch.Generator, p: float = 0.5, area=(0.02, 0.2),
                    ratio=(0.3, 3.3)) -> torch.Tensor:
    """`augment.random_erasing` with its random draws on x's device (one rectangle, value 0)."""
    n, _, h, w = x.shape
    dev = x.device
    a = torch.empty(n, device=dev).uniform_(area[0], area[1], generator=g) * h * w
    r = torch.exp(torch.empty(n, device=dev).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=g))
    eh = torch.sqrt(a * r).clamp(1, h).floor()
    ew = torch.sqrt(a / r).clamp(1, w).floor()
    y0 = (torch.rand(n, generator=g, device=dev) * (h - eh + 1)).floor()
    x0 = (torch.rand(n, generator=g, device=dev) * (w - ew + 1)).floor()
    on = torch.rand(n, generator=g, device=dev) < p
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, w)
    m = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1)) &
         (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1)) & on.view(n, 1, 1))
    return x.masked_fill(m.unsqueeze(1), 0.0)


@torch.no_grad()
def probabilities(nets, faces: Faces, pipeline: bool, batch: int = 1024, bf16: bool = True,
                  flip: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mean softmax of `nets` over the split in one framing, without and (with `flip`) with flip
    averaging."""
    dev = faces.images.device
    out, outf = [], []
    for i in range(0, len(faces), batch):
        idx = torch.arange(i, min(i + batch, len(faces)), device=dev)
        x = normalise(faces.images[idx])
        if pipeline:
            x = framing.sample(x, faces.theta[idx])
        if flip:
            x = torch.cat([x, torch.flip(x, dims=[3])])
        x = x.contiguous(memory_format=torch.channels_last)
        p = 0
        for net in nets:
            net.eval()
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                p = p + F.softmax(net(x).float(), 1)
        p = p / len(nets)
        k = len(idx)
        out.append(p[:k])
        if flip:
            outf.append(0.5 * (p[:k] + p[k:]))
    return torch.cat(out), (torch.cat(outf) if flip else None)


def scores(nets, faces: Faces, bf16: bool = True, flip: bool = True) -> dict:
    """Accuracy on the split: FER2013 framing (all faces) and pipeline framing (faces the
    detector found), each without and (with `flip`) with flip averaging. The per-epoch
    validation leaves the flips out: they doubled its cost, a tenth of an epoch on the CPU."""
    y = faces.labels
    res = {}
    found = faces.found
    direct = None
    for name, pipe in (("direct", False), ("pipeline", True)):
        p, pf = probabilities(nets, faces, pipe, bf16=bf16, flip=flip)
        sel = found if pipe else torch.ones_like(found)
        res[name] = (p.argmax(1) == y)[sel].float().mean().item()
        if pf is not None:
            res[name + "_flip"] = (pf.argmax(1) == y)[sel].float().mean().item()
        direct = p if direct is None else direct
    # The same faces classified directly: the figure the pipeline framing is compared with.
    res["direct_on_found"] = (direct.argmax(1) == y)[found].float().mean().item()
    res["n"] = len(y)
    res["found"] = int(faces.found.sum().item())
    return res


def load_net(path: str | Path, device) -> tuple[torch.nn.Module, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = ck["config"]
    net = models.build(cfg["model"], len(cfg["labels"]), **cfg.get("model_kw", {}))
    net.load_state_dict(ck["model"])
    net.to(device).eval()
    net = net.to(memory_format=torch.channels_last)
    return net, cfg


def init_from_export(net: torch.nn.Module, path: str) -> None:
    """Loads an export (conv with bias, BN folded) into a FerNet of the same widths: each conv's
    folded weight goes to the conv, its bias to the following BatchNorm, whose statistics are set
    to identity (mean 0, variance 1 - eps, scale 1), so the network computes what the export does."""
    spec = json.loads(Path(path + ".json").read_text())
    weights = load_file(path + ".safetensors")
    convs = [L for L in spec["layers"] if L["op"] == "conv"]
    linears = [L for L in spec["layers"] if L["op"] == "linear"]
    mods = list(net.features)
    pairs = [(m, mods[i + 1]) for i, m in enumerate(mods) if isinstance(m, torch.nn.Conv2d)]
    lin = [m for m in net.classifier if isinstance(m, torch.nn.Linear)]
    if len(pairs) != len(convs) or len(lin) != len(linears):
        raise ValueError(f"{path}: {len(convs)} convs / {len(linears)} linears, the network has {len(pairs)} / {len(lin)}")
    with torch.no_grad():
        for (conv, bn), L in zip(pairs, convs):
            conv.weight.copy_(weights[L["weight"]])
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - bn.eps)
            bn.weight.fill_(1)
            bn.bias.copy_(weights[L["bias"]])
        for m, L in zip(lin, linears):
            m.weight.copy_(weights[L["weight"]])
            m.bias.copy_(weights[L["bias"]])


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True, help="training.pack output (.npz.xz or its .part0)")
    ap.add_argument("--arch", choices=sorted(ARCHS), default="fernet")
    ap.add_argument("--out", help="run folder")
    ap.add_argument("--minutes", type=float, default=5.0, help="training time budget (the LR schedule follows it)")
    ap.add_argument("--schedule-epochs", type=float, default=0,
                    help="the LR schedule follows epochs done of this many instead of training time (0: time)")
    ap.add_argument("--max-epochs", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--p-pipeline", type=float, default=0.5, help="share of each batch in the pipeline's framing")
    ap.add_argument("--teacher", action="append", default=[], help="teacher checkpoint (repeat for an ensemble)")
    ap.add_argument("--alpha", type=float, default=0.7)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--init-export", metavar="PATH",
                    help="start from an exported fernet (models/emotion/NAME, batch norm unfolded as identity)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=precision.CHOICES, default="auto",
                    help="bf16 autocast or float32; auto: bf16 where the hardware has it (training.precision)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--evaluate", nargs="+", metavar="CHECKPOINT", help="only evaluate these (as one ensemble)")
    ap.add_argument("--json", help="with --evaluate: write the figures here")
    return ap.parse_args(argv)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def evaluate_main(args, device) -> int:
    splits = load_splits(args.pack, device)
    nets = [load_net(p, device)[0] for p in args.evaluate]
    res = {name: scores(nets, splits[name], bf16=args.bf16) for name in ("val", "test")}
    res["checkpoints"] = args.evaluate
    for name in ("val", "test"):
        r = res[name]
        log(f"{name}: direct {100 * r['direct']:.2f}% (flip {100 * r['direct_flip']:.2f}%), pipeline "
            f"{100 * r['pipeline']:.2f}% (flip {100 * r['pipeline_flip']:.2f}%) on {r['found']} found, "
            f"direct on those {100 * r['direct_on_found']:.2f}%")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


def train_main(args, device) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    splits = load_splits(args.pack, device)
    train, val = splits["train"], splits["val"]
    labels = list(data.FER_LABELS)
    kw = dict(ARCHS[args.arch])
    kw["widths"] = list(kw["widths"])
    net = models.build("fernet", len(labels), **kw).to(device)
    # Channels-last on every device: on the CPU too, oneDNN's channels-last convolutions made a
    # training step of fernet at batch 128 about 1.3x faster than NCHW (2-core AVX2 VM, median
    # 0.514 s against 0.658 s over four alternated pairs, tools/bench_train_step.py, 2026-12-07).
    net = net.to(memory_format=torch.channels_last)
    if args.init_export:
        init_from_export(net, args.init_export)
        log(f"init: weights of {args.init_export}.safetensors")
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.wd)
    teachers = [load_net(p, device)[0] for p in args.teacher]
    g = torch.Generator(device=device).manual_seed(args.seed)
    config = dict(model="fernet", model_kw=kw, labels=labels, arch=args.arch, recipe="training.recipe",
                  args={k: v for k, v in vars(args).items() if k not in ("evaluate", "json")},
                  mean=data.MEAN, std=data.STD, input_size=data.IMAGE_SIZE,
                  params=models.count_params(net), flops=models.count_flops(copy.deepcopy(net).cpu()),
                  validation=dict(seed=VAL_SEED, share=VAL_SHARE, n=len(val)))
    budget = args.minutes * 60
    epoch, elapsed, best = 0, 0.0, -1.0
    metrics = out / "metrics.csv"
    if args.resume and (out / "last.pt").exists():
        ck = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
        net.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["optimizer"])
        # Momentum buffers in their parameters' layout (a checkpoint written by an NCHW run).
        for p in net.parameters():
            st = opt.state.get(p, {})
            if p.dim() == 4 and st.get("momentum_buffer") is not None:
                st["momentum_buffer"] = st["momentum_buffer"].contiguous(memory_format=torch.channels_last)
        g.set_state(ck["generator"])
        epoch, elapsed, best = ck["epoch"], ck["elapsed"], ck["best"]
        log(f"resumed {out / 'last.pt'} at epoch {epoch}, {elapsed / 60:.1f} of {args.minutes:g} min")
    elif metrics.exists():
        metrics.unlink()
    fields = ["epoch", "lr", "train_loss", "train_acc", "val_direct", "val_pipeline", "val_direct_ema",
              "val_pipeline_ema", "elapsed_s"]
    log(f"{args.arch}: {config['params'] / 1e6:.2f} M parameters, {config['flops'] / 1e6:.1f} MFLOPs/face, "
        f"{len(train)} train / {len(val)} val faces, {len(teachers)} teacher(s), {args.minutes:g} min on {device}")
    # Where the one-cycle schedule stands: training time spent of the budget, or with
    # --schedule-epochs, epochs done of that many (the same curve whatever the machine's speed).
    def progress(t0: float, step: int, steps: int) -> float:
        if args.schedule_epochs:
            return (epoch + step / steps) / args.schedule_epochs
        return (elapsed + time.time() - t0) / budget

    def more_epochs() -> bool:
        if epoch >= args.max_epochs:
            return False
        return epoch < args.schedule_epochs if args.schedule_epochs else elapsed < budget

    while more_epochs():
        t0 = time.time()
        net.train()
        perm = torch.randperm(len(train), generator=g, device=device)
        tot_loss, tot_ok, tot_n = 0.0, 0, 0
        lr = args.lr
        starts = range(0, len(perm) - args.batch + 1, args.batch)
        for step, i in enumerate(starts):
            lr = augment_lr = onecycle_lr(min(1.0, progress(t0, step, len(starts))), args.lr, pct_start=0.15)
            for group in opt.param_groups:
                group["lr"] = augment_lr
            idx = perm[i:i + args.batch]
            x = make_batch(train, idx, g, args.p_pipeline).contiguous(memory_format=torch.channels_last)
            y = train.labels[idx]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                logits = net(x)
                if teachers:
                    with torch.no_grad():
                        pt = sum(F.softmax(t(x).float() / args.temperature, 1) for t in teachers) / len(teachers)
            logits = logits.float()
            loss = F.cross_entropy(logits, y, label_smoothing=args.smoothing)
            if teachers:
                kd = F.kl_div(F.log_softmax(logits / args.temperature, 1), pt, reduction="batchmean")
                loss = args.alpha * args.temperature ** 2 * kd + (1 - args.alpha) * loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update_parameters(net)
            tot_loss += loss.detach() * len(idx)
            tot_ok += (logits.argmax(1) == y).sum()
            tot_n += len(idx)
        elapsed += time.time() - t0
        epoch += 1
        s_raw, s_ema = scores([net], val, args.bf16, flip=False), scores([ema.module], val, args.bf16, flip=False)
        row = dict(epoch=epoch, lr=lr, train_loss=float(tot_loss) / tot_n, train_acc=float(tot_ok) / tot_n,
                   val_direct=s_raw["direct"], val_pipeline=s_raw["pipeline"], val_direct_ema=s_ema["direct"],
                   val_pipeline_ema=s_ema["pipeline"], elapsed_s=elapsed)
        new = not metrics.exists()
        with open(metrics, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            if new:
                w.writeheader()
            w.writerow({k: (round(v, 5) if isinstance(v, float) else v) for k, v in row.items()})
        for which, s, model in (("raw", s_raw, net), ("ema", s_ema, ema.module)):
            score = (s["direct"] + s["pipeline"]) / 2
            if score > best:
                best = score
                torch.save(dict(model=_cpu_state(model), config=config, epoch=epoch, weights=which,
                                val=s, val_score=score), out / "best.pt.tmp")
                os.replace(out / "best.pt.tmp", out / "best.pt")
        torch.save(dict(model=net.state_dict(), ema=ema.state_dict(), optimizer=opt.state_dict(),
                        generator=g.get_state(), epoch=epoch, elapsed=elapsed, best=best, config=config),
                   out / "last.pt.tmp")
        os.replace(out / "last.pt.tmp", out / "last.pt")
        log(f"epoch {epoch}: lr {lr:.4f} loss {row['train_loss']:.3f} train {100 * row['train_acc']:.1f}% "
            f"val {100 * s_raw['direct']:.2f}/{100 * s_raw['pipeline']:.2f} ema "
            f"{100 * s_ema['direct']:.2f}/{100 * s_ema['pipeline']:.2f} ({elapsed:.0f}s)")
    # The last epoch's weights as ordinary checkpoints too: a run that starts from weights which
    # saw the validation rows (--init-export) cannot select on them, and ships its final EMA.
    for which, model in (("raw", net), ("ema", ema.module)):
        torch.save(dict(model=_cpu_state(model), config=config, epoch=epoch, weights=which), out / f"final_{which}.pt")
    # A run resumed from a copied last.pt (a committed checkpoint carries no best.pt) that never
    # beat its recorded best has no best.pt here: the final EMA stands in.
    if not (out / "best.pt").exists():
        s_ema = scores([ema.module], val, args.bf16)
        torch.save(dict(model=_cpu_state(ema.module), config=config, epoch=epoch, weights="ema", val=s_ema,
                        val_score=(s_ema["direct"] + s_ema["pipeline"]) / 2), out / "best.pt")
    # Final figures of the selected weights, PublicTest included (reported, not selected on).
    ck = torch.load(out / "best.pt", map_location="cpu", weights_only=False)
    best_net = models.build("fernet", len(labels), **kw)
    best_net.load_state_dict(ck["model"])
    best_net.to(device)
    res = dict(arch=args.arch, epochs=epoch, train_seconds=round(elapsed, 1), best_epoch=ck["epoch"],
               weights=ck["weights"], params=config["params"], flops=config["flops"],
               teachers=args.teacher, val=scores([best_net], val, args.bf16), test=scores([best_net], splits["test"], args.bf16))
    (out / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    plots.plot_recipe_curves(metrics, out / "curves.png", title=f"{args.arch} ({out.name})")
    t = res["test"]
    log(f"done: best epoch {ck['epoch']} ({ck['weights']}); val {100 * res['val']['direct']:.2f}%, PublicTest "
        f"direct {100 * t['direct']:.2f}% (flip {100 * t['direct_flip']:.2f}%), pipeline {100 * t['pipeline']:.2f}% "
        f"vs direct on the same faces {100 * t['direct_on_found']:.2f}%")
    return 0


def _cpu_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    device = pick_device(args.device)
    args.bf16 = precision.use_bf16(args.precision, device)
    log(f"precision: {'bf16 autocast' if args.bf16 else 'float32'} on {device} (--precision {args.precision})")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    else:
        torch.backends.cudnn.benchmark = True
    if args.evaluate:
        return evaluate_main(args, device)
    if not args.out:
        print("error: --out is needed to train", file=sys.stderr)
        return 2
    return train_main(args, device)


if __name__ == "__main__":
    sys.exit(main())
