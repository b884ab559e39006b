/* P-Net's convolution kernels alone (Sources/CKernels), one thread, best of 7 runs of 20 calls,
   on random data of P-Net's shapes:
   - conv1 + PReLU + 2x2 pool (`nn_conv_pool2`, 3 -> 10 channels) on a level-0 band of a 1080p
     frame (1153x66 input, in cache) and on the whole level (1153x649, mostly not), with its
     largest difference from the direct convolution (`nn_conv2d_direct`) pooled window by window;
   - conv3 + PReLU + the fused 1x1 head (`nn_wino4x4_nhwc_head`, 16 -> 32 -> 6) on a 574x30 map
     with all 16 input channels and with 1: the difference is what the Winograd products cost,
     the rest is the transforms, the activation and the head.

     clang -O3 -ISources/CKernels/include tools/bench_pnet_kernels.c Sources/CKernels/kernels.c \
       Sources/CKernels/winograd.c Sources/CKernels/classifier_kernels.c -o /tmp/bench_pnet -lm -lpthread
     /tmp/bench_pnet

   Add -DNO_WIDE to time the AVX2 register blocking on an AVX-512 machine. */
#include "ckernels.h"
#include "bench_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void conv1_pool(int h, int w) {
    const int cin = 3, cout = 10, oh = h - 2, ow = w - 2, ph = (oh + 1) / 2, pw = (ow + 1) / 2;
    float *in = randoms((long)cin * h * w + NN_INPUT_SLACK, -1, 1), *wt = randoms(cout * cin * 9, -0.5f, 0.5f);
    float *bias = randoms(cout, -0.5f, 0.5f), *slopes = randoms(cout, -0.6f, 0.6f);
    float *tmp = malloc(sizeof(float) * (2L * cout * ow + NN_INPUT_SLACK)), *out = malloc(sizeof(float) * cout * ph * pw);
    float *full = malloc(sizeof(float) * (long)cout * oh * ow);
    if (!in || !wt || !bias || !slopes || !tmp || !out || !full) { fprintf(stderr, "out of memory\n"); exit(1); }
    nn_conv2d_direct(in, cin, h, w, wt, bias, cout, 3, 3, NN_ACT_PRELU, slopes, cout, full);
    nn_conv_pool2(in, cin, h, h, w, wt, bias, cout, NN_ACT_PRELU, slopes, cout, ph, pw, tmp, out);
    double worst = 0;
    for (int c = 0; c < cout; c++)
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                float m = -INFINITY;
                for (int yy = 2 * y; yy < 2 * y + 2 && yy < oh; yy++)
                    for (int xx = 2 * x; xx < 2 * x + 2 && xx < ow; xx++) m = fmaxf(m, full[((long)c * oh + yy) * ow + xx]);
                worst = fmax(worst, fabs(m - out[((long)c * ph + y) * pw + x]));
            }
    double best = 1e9;
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        for (int i = 0; i < 20; i++) nn_conv_pool2(in, cin, h, h, w, wt, bias, cout, NN_ACT_PRELU, slopes, cout, ph, pw, tmp, out);
        best = fmin(best, (now() - t0) / 20);
    }
    printf("conv1 + pool %dx%d: %.1f us (%.1f GMAC/s direct-equivalent), largest difference from direct %.2g\n", w, h,
           best * 1e6, (double)oh * ow * cin * 9 * cout / best * 1e-9, worst);
    free(in); free(wt); free(bias); free(slopes); free(tmp); free(out); free(full);
}

static void conv3_head(int h, int w, int cred) {
    const int cin = 16, cs = 16, coutp = 32, oh = h - 2, ow = w - 2;
    const long tiles = (long)((oh + 3) / 4) * ((ow + 3) / 4);
    float *in = randoms((long)h * w * cs + NN_INPUT_SLACK, 0, 1), *wt = randoms(coutp * cin * 9, -0.5f, 0.5f);
    float *u = malloc(sizeof(float) * nn_wino4x4_nhwc_packed_size(cin, coutp));
    float *bias = randoms(coutp, -0.5f, 0.5f), *slopes = randoms(coutp, 0, 0.5f);
    float *hw = randoms(6 * coutp, -0.1f, 0.1f), *hb = randoms(6, -0.1f, 0.1f), *out = malloc(sizeof(float) * 6L * oh * ow);
    if (!in || !wt || !u || !bias || !slopes || !hw || !hb || !out) { fprintf(stderr, "out of memory\n"); exit(1); }
    nn_wino4x4_pack_nhwc(wt, cin, coutp, coutp, u);
    double best = 1e9;
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        for (int i = 0; i < 20; i++)
            nn_wino4x4_nhwc_head(in, h, w, cs, cin, cred, u, bias, slopes, coutp, NN_ACT_PRELU, hw, hb, out, 0, tiles);
        best = fmin(best, (now() - t0) / 20);
    }
    printf("conv3 + head %dx%d, %2d input channels: %.1f us\n", w, h, cred, best * 1e6);
    free(in); free(wt); free(u); free(bias); free(slopes); free(hw); free(hb); free(out);
}

int main(void) {
#ifdef NO_WIDE
    nn_set_wide_registers(0);
#endif
    printf("register blocking: %s\n", nn_wide_registers() ? "AVX-512" : "AVX2");
    conv1_pool(66, 1153);
    conv1_pool(649, 1153);
    conv3_head(30, 574, 16);
    conv3_head(30, 574, 1);
    return 0;
}
