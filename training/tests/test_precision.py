"""training.precision: bf16 autocast only where the hardware computes in bf16."""
import pytest
import torch

from training import precision

AVX2 = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n"
AVX512 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512vl\n"
BF16 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n"
CPU = torch.device("cpu")


def test_auto_follows_the_cpu_flags():
    assert not precision.use_bf16("auto", CPU, AVX2)
    assert not precision.use_bf16("auto", CPU, AVX512)  # AVX-512 without its BF16 extension
    assert precision.use_bf16("auto", CPU, BF16)
    assert precision.use_bf16("auto", CPU, ARM)
    assert not precision.use_bf16("auto", CPU, "")


def test_explicit_choice_wins():
    assert precision.use_bf16("bf16", CPU, AVX2)
    assert not precision.use_bf16("fp32", CPU, BF16)


def test_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="fp16"):
        precision.use_bf16("fp16", CPU, AVX2)


def test_flags_of_the_first_cpu_only():
    two = AVX2 + "\nprocessor\t: 1\nflags\t\t: avx512_bf16\n"
    assert precision.cpu_flags(two) == {"fpu", "sse", "sse2", "avx", "avx2", "fma"}
