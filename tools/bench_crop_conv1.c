/* R-Net's and O-Net's conv1 alone (Sources/CKernels), one thread, best of 200 runs, on random
   data of their shapes (3 -> 28 channels on 24x24 crops in groups of 8, 3 -> 32 on 48x48 in
   groups of 3, as CropNet groups them): the direct channels-last kernel (`nn_conv_nhwc`) against
   Winograd F(4, 3) along the rows (`nn_rowwino_nhwc`), with their largest difference; then with
   the 3x3 stride-2 pool that follows, pooled separately (`nn_maxpool_nhwc`) or fused
   (`nn_rowwino_pool_nhwc`), which must give the same bits.

     clang -O3 -ISources/CKernels/include tools/bench_crop_conv1.c Sources/CKernels/[a-z]*.c \
       -o /tmp/bench_crop_conv1 -lm -lpthread
     /tmp/bench_crop_conv1            (add "narrow" for the AVX2 register blocking)

   On an AVX-512 machine the kernels run their AVX-512 clones; the AVX2 code itself is timed by
   building with the clones removed and -march=x86-64-v3 (see tools/README.md). */
#include "ckernels.h"
#include "bench_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 64-byte-aligned floats, as ChannelsLastConv keeps the row Winograd weights (AlignedFloats). */
static float *aligned(long n) {
    return aligned_alloc(64, (sizeof(float) * n + 63) / 64 * 64);
}

static void conv1(const char *net, int side, int cout, int crops) {
    const int cin = 3, coutp = 32, oh = side - 2;
    const long outN = (long)crops * oh * oh * coutp;
    float *in = randoms((long)crops * side * side * cin + NN_INPUT_SLACK, -1, 1), *wt = randoms(cout * cin * 9, -0.5f, 0.5f);
    float *bias = randoms(coutp, -0.5f, 0.5f), *slopes = randoms(coutp, 0.0f, 0.6f);
    float *wpack = aligned(9L * cin * coutp), *u = aligned(nn_rowwino_nhwc_packed_size(coutp));
    float *direct = malloc(sizeof(float) * outN), *rows = malloc(sizeof(float) * outN);
    if (!in || !wt || !bias || !slopes || !wpack || !u || !direct || !rows) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (int o = cout; o < coutp; o++) bias[o] = slopes[o] = 0;
    for (long i = 0; wpack && i < 9L * cin * coutp; i++) wpack[i] = 0;
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int k = 0; k < 9; k++) wpack[(k * cin + c) * coutp + o] = wt[(o * cin + c) * 9 + k];
    nn_rowwino_pack_nhwc(wt, cout, coutp, u);
    double best[2] = {1e9, 1e9};
    for (int rep = 0; rep < 200; rep++) {
        double t0 = now();
        nn_conv_nhwc(in, side, side, cin, cin, wpack, bias, slopes, coutp, 3, 3, NN_ACT_PRELU, direct, 0, (long)crops * oh * oh);
        double t1 = now();
        nn_rowwino_nhwc(in, side, side, cin, u, bias, slopes, coutp, NN_ACT_PRELU, rows, 0, (long)crops * oh);
        double t2 = now();
        if (t1 - t0 < best[0]) best[0] = t1 - t0;
        if (t2 - t1 < best[1]) best[1] = t2 - t1;
    }
    double diff = 0;
    for (long i = 0; i < outN; i++) diff = fmax(diff, fabs(direct[i] - rows[i]));
    printf("%s conv1 %dx%d 3 -> %d, %d crops: direct %.2f us/crop, rows F(4, 3) %.2f us/crop (%.2fx), largest difference %.1e\n",
           net, side, side, cout, crops, best[0] / crops * 1e6, best[1] / crops * 1e6, best[0] / best[1], diff);

    /* With the 3x3 stride-2 pool after it: pooled separately (nn_maxpool_nhwc) or fused. */
    const int ph = (oh - 2) / 2 + 1;
    float *pooled = malloc(sizeof(float) * crops * ph * ph * coutp), *fused = malloc(sizeof(float) * crops * ph * ph * coutp);
    if (!pooled || !fused) { fprintf(stderr, "out of memory\n"); exit(1); }
    double pbest[2] = {1e9, 1e9};
    for (int rep = 0; rep < 200; rep++) {
        double t0 = now();
        nn_rowwino_nhwc(in, side, side, cin, u, bias, slopes, coutp, NN_ACT_PRELU, rows, 0, (long)crops * oh);
        nn_maxpool_nhwc(rows, crops, oh, oh, coutp, 3, 2, ph, ph, pooled);
        double t1 = now();
        nn_rowwino_pool_nhwc(in, side, side, cin, u, bias, slopes, coutp, NN_ACT_PRELU, ph, ph, fused, 0, (long)crops * ph);
        double t2 = now();
        if (t1 - t0 < pbest[0]) pbest[0] = t1 - t0;
        if (t2 - t1 < pbest[1]) pbest[1] = t2 - t1;
    }
    const int same = memcmp(pooled, fused, sizeof(float) * crops * ph * ph * coutp) == 0;
    printf("%s conv1 + pool: rows then pool %.2f us/crop, fused %.2f us/crop (%.2fx), %s\n", net, pbest[0] / crops * 1e6,
           pbest[1] / crops * 1e6, pbest[0] / pbest[1], same ? "same bits" : "DIFFERENT");
    free(in); free(wt); free(bias); free(slopes); free(wpack); free(u); free(direct); free(rows); free(pooled); free(fused);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "narrow") == 0) nn_set_wide_registers(0);
    printf("register blocking: %s\n", nn_wide_registers() ? "AVX-512 (wide)" : "AVX2 (narrow)");
    conv1("R-Net", 24, 28, 8);
    conv1("O-Net", 48, 32, 3);
    return 0;
}
