import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which OpenBLAS kernels run, and the fix when they are the slow generic ones.
///
/// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from CPUID when the library loads.
/// It does not know recent CPUs (Sapphire Rapids: "Intel(R) Xeon(R) Processor" with AVX-512 FP16,
/// Zen 4) and falls back to "Prescott", SSE3 kernels: sgemm ran at half the speed of the
/// SkylakeX kernels on this project's machine (fernet 88 vs 193 faces/s, same load). The choice is
/// made before `main`, from `OPENBLAS_CORETYPE`, so the fix is to set that variable and run the
/// program again (`relaunchWithBetterKernelsIfNeeded`).
public enum BLASCore {
    /// OpenBLAS's name for the kernels in use, e.g. "SkylakeX", "Haswell", "Prescott".
    public static var name: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Kernels known to be generic (no AVX): a relaunch can only help on those.
    static let generic: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "unknown"]

    /// The OpenBLAS core type this CPU can run, from the kernel's CPU flags (Linux).
    public static func bestCoreType(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard let cpuinfo, let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    static let relaunchMarker = "FER_LIVE_BLAS_RELAUNCHED"

    /// When OpenBLAS loaded generic kernels on a CPU that has AVX2/AVX-512 and the user did not
    /// choose a core type, sets `OPENBLAS_CORETYPE` and replaces this process with a fresh run
    /// of the same executable and arguments. Returns (doing nothing) otherwise or if exec fails.
    /// Call first thing in `main`, before any threads start.
    public static func relaunchWithBetterKernelsIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env[relaunchMarker] == nil,
              generic.contains(name), let best = bestCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", best, 1)
        setenv(relaunchMarker, "1", 1)
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", cargs)
        // exec failed: carry on with the generic kernels.
        for p in cargs { free(p) }
    }
}
