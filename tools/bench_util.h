/* What the C benchmark tools share: a monotonic clock and random test data. Header-only, so each
   tool still builds from its own command line. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H
#include <stdlib.h>
#include <time.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* n floats uniform in [lo, hi] from rand() (NULL when out of memory). */
static inline float *randoms(long n, float lo, float hi) {
    float *p = malloc(sizeof(float) * n);
    for (long i = 0; p && i < n; i++) p[i] = lo + (hi - lo) * (float)rand() / (float)RAND_MAX;
    return p;
}
#endif
