import COpenBLAS

/// Thin wrapper over cblas_sgemm, row-major: C[m, n] = A[m, k] * B[k, n] (+ C when accumulate).
/// `transB` reads B as stored [n, k].
@inline(__always)
func sgemm(m: Int, n: Int, k: Int,
           a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
           c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    guard m > 0, n > 0, k > 0 else { return }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                accumulate ? 1 : 0, c, Int32(ldc))
}
