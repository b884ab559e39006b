import COpenBLAS
import CKernels

/// OpenBLAS's side of the thread policy (`Parallel.Threads`): one BLAS thread, since the cores
/// are already shared out by Dispatch, and an allocator that keeps large buffers.
public enum BLASSetup {
    /// Sets OpenBLAS's own thread count (1 by default, see above). Call before heavy work.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Runs once, on the first forward pass. Besides OpenBLAS's threads it keeps glibc from
    /// handing multi-megabyte activation buffers back to the kernel after every layer: with the
    /// default (dynamic) thresholds each layer's output was a fresh mmap, and page faults plus
    /// page zeroing took a third of detection time.
    static let configure: Void = {
        openblas_set_num_threads(1)
        nn_configure_allocator()
    }()
}
