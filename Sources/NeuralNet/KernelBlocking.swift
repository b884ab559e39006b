import CKernels

/// Which register blocks the C kernels use on this CPU (`nn_wide_registers`): 24 vector
/// accumulators with AVX-512, 6 without it (AVX2). Benchmarks report it beside their figures,
/// since the same build runs about twice as fast per core where the CPU has AVX-512.
public enum KernelBlocking: String, Sendable {
    case avx512 = "avx512"
    case avx2 = "avx2"

    public static var current: KernelBlocking { nn_wide_registers() != 0 ? .avx512 : .avx2 }
}
