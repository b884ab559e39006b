"""Whether a run computes under bf16 autocast: only where the hardware does bf16 arithmetic.

On CPUs with AVX512-BF16 (or AMX) bf16 autocast trains fernet about 2.5x faster than float32; on
CPUs without it (AVX2 machines, and AVX-512 ones without the BF16 extension) PyTorch emulates
bf16 and the same step is about 10x slower than float32 (measured: 6.0 s against 0.59 s per
batch of 128 on a 2-core AVX2 VM). `--precision auto` picks by the hardware.
"""
from __future__ import annotations

from pathlib import Path

import torch

CHOICES = ("auto", "bf16", "fp32")
# /proc/cpuinfo flags of x86 CPUs with bf16 dot products, and the Arm feature name.
_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The feature flags of the first CPU in /proc/cpuinfo (x86 'flags', Arm 'Features')."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def native_bf16(device: torch.device, cpuinfo: str | None = None) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(cpu_flags(cpuinfo) & _BF16_FLAGS)


def use_bf16(choice: str, device: torch.device, cpuinfo: str | None = None) -> bool:
    """`choice` is one of CHOICES; 'auto' is bf16 exactly where the hardware has it."""
    if choice not in CHOICES:
        raise ValueError(f"precision {choice!r}: expected one of {', '.join(CHOICES)}")
    if choice == "auto":
        return native_bf16(device, cpuinfo)
    return choice == "bf16"
