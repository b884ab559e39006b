/* One core's float32 multiply-add peak: ten independent chains of AVX2 FMAs (enough to cover
   the instruction's latency on two FMA pipes), timed over 2 G instructions. The ceiling the
   detector's and classifier's kernels are compared with (FaceDetect README, "Speed").

     cc -O2 -mavx2 -mfma tools/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

int main(void) {
    /* Ten named accumulators rather than an array, so that every compiler keeps them in registers. */
    __m256 a0 = _mm256_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    const long n = 200000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long k = 0; k < n; k++) {
        a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
        a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
        a9 = _mm256_fmadd_ps(a9, b, c);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const __m256 acc[10] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9};
    const double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    /* The chains' values are printed so that the loop cannot be dropped. */
    float keep = 0, lanes[8];
    for (int i = 0; i < 10; i++) { _mm256_storeu_ps(lanes, acc[i]); keep += lanes[0]; }
    printf("%.2f G FMA instructions/s = %.1f GMAC/s (float32, one core; checksum %.3f)\n",
           (double)n * 10 / s / 1e9, (double)n * 10 * 8 / s / 1e9, keep);
    return 0;
}
