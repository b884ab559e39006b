"""Time of one training step (forward, backward, SGD) at batch 128 on this machine's CPU,
NCHW against channels-last, alternated in pairs; prints each pair, the medians and what an
epoch of the recipe's training rows costs at that speed.

    PYTHONPATH=. .venv/bin/python tools/bench_train_step.py [--arch fernet|fernet_m|teacher] [--pairs 4] [--threads 2]

Behind training.recipe's choice of channels-last on the CPU, and behind the estimate of what the
GPU recipe (tools/gpu_train.sh: four `teacher`s) would take on these cores. Random data: the
step's arithmetic does not depend on the values.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from training import models
from training.recipe import ARCHS


# Rows an epoch of training.recipe trains on: Training less the 10% validation split (each face
# once, in one of the two framings).
EPOCH_ROWS = 25_838


def step_seconds(arch: str, channels_last: bool, steps: int = 8) -> float:
    torch.manual_seed(0)
    net = models.build("fernet", 7, **ARCHS[arch])
    x, y = torch.randn(128, 1, 48, 48), torch.randint(0, 7, (128,))
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    net.train()
    times = []
    for _ in range(steps + 2):  # the first two warm up
        t = time.perf_counter()
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    return statistics.median(times[2:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(ARCHS), default="fernet")
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nchw, cl = [], []
    for _ in range(args.pairs):
        nchw.append(step_seconds(args.arch, False))
        cl.append(step_seconds(args.arch, True))
        print(f"NCHW {nchw[-1]:.3f} s, channels-last {cl[-1]:.3f} s")
    print(f"median: NCHW {statistics.median(nchw):.3f} s, channels-last {statistics.median(cl):.3f} s, "
          f"ratio {statistics.median(nchw) / statistics.median(cl):.2f}")
    best = min(statistics.median(nchw), statistics.median(cl))
    print(f"{args.arch}: {best * EPOCH_ROWS / 128 / 60:.1f} min per epoch of {EPOCH_ROWS:,} rows at the faster layout "
          f"({args.threads} threads)")


if __name__ == "__main__":
    main()
