#include "ckernels.h"
#include "nhwc_microkernel.h"
/* The vector helpers below are static and always inlined within this file, so the argument-passing
   ABI that -Wpsabi warns about for the baseline (non-AVX-512) clones never applies. */
#pragma clang diagnostic ignored "-Wpsabi"
#include <string.h>
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

void nn_configure_allocator(void) {
#if defined(__linux__) && defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

typedef float v16 __attribute__((vector_size(64), aligned(4)));

/* -1: not decided yet (the CPU decides on first use); a relaxed atomic, since every thread reads it. */
static int wide_registers = -1;

int nn_wide_registers(void) {
    int w = __atomic_load_n(&wide_registers, __ATOMIC_RELAXED);
    if (w < 0) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        w = __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
        w = 0; /* 128-bit vector units: the small blocks */
#endif
        __atomic_store_n(&wide_registers, w, __ATOMIC_RELAXED);
    }
    return w;
}

void nn_set_wide_registers(int wide) { __atomic_store_n(&wide_registers, wide < 0 ? -1 : (wide ? 1 : 0), __ATOMIC_RELAXED); }

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

static inline __attribute__((always_inline)) v16 load16(const float *p) { v16 v; memcpy(&v, p, sizeof v); return v; }

static inline v16 activate(v16 v, int act, float slope) {
    v16 z = {0};
    if (act == NN_ACT_RELU) return __builtin_elementwise_max(v, z);
    /* max(v, 0) + slope * min(v, 0): v where v >= 0, slope * v below. */
    if (act == NN_ACT_PRELU) return __builtin_elementwise_max(v, z) + __builtin_elementwise_min(v, z) * slope;
    return v;
}

static inline void store_n(float *dst, v16 v, int n) {
    if (n >= 16) { memcpy(dst, &v, sizeof v); return; }
    float tmp[16];
    memcpy(tmp, &v, sizeof v);
    for (int i = 0; i < n; i++) dst[i] = tmp[i];
}

/* One output row of COB channels starting at co0: vectors of 16 output pixels, accumulators in
   registers, each input vector reused for COB channels. */
#define ROW_KERNEL(COB)                                                                         \
static inline __attribute__((always_inline)) void row_##COB(                                  \
    const float *in, int cin, int h, int w, const float *weight, const float *bias, int co0,  \
    int kh, int kw, int act, const float *slopes, int nslopes, float *out, int oy, int oh,    \
    int ow, int wide) {                                                                         \
    const int wstride = cin * kh * kw;                                                          \
    int ox = 0;                                                                                 \
    /* Two vectors (32 pixels) at a time: 8 weight broadcasts feed 16 FMAs. With AVX2's 16       \
       registers 2 * COB accumulators spill, so there the loop below does it one vector at a time. */ \
    for (; wide && ox + 32 <= ow; ox += 32) {                                                   \
        v16 acc0[COB], acc1[COB];                                                               \
        for (int j = 0; j < COB; j++) { v16 b = {0}; acc0[j] = b + bias[co0 + j]; acc1[j] = acc0[j]; } \
        for (int ci = 0; ci < cin; ci++) {                                                      \
            for (int ky = 0; ky < kh; ky++) {                                                   \
                const float *row = in + ((long)ci * h + oy + ky) * w + ox;                     \
                const float *wr = weight + (long)co0 * wstride + (ci * kh + ky) * kw;           \
                for (int kx = 0; kx < kw; kx++) {                                               \
                    v16 x0 = load16(row + kx), x1 = load16(row + kx + 16);                      \
                    for (int j = 0; j < COB; j++) {                                             \
                        float wv = wr[j * wstride + kx];                                        \
                        acc0[j] += x0 * wv; acc1[j] += x1 * wv;                                 \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        for (int j = 0; j < COB; j++) {                                                         \
            float s = act == NN_ACT_PRELU ? slopes[nslopes == 1 ? 0 : co0 + j] : 0.0f;          \
            float *o = out + ((long)(co0 + j) * oh + oy) * ow + ox;                             \
            store_n(o, activate(acc0[j], act, s), 16);                                          \
            store_n(o + 16, activate(acc1[j], act, s), 16);                                     \
        }                                                                                       \
    }                                                                                           \
    for (; ox < ow; ox += 16) {                                                                 \
        v16 acc[COB];                                                                           \
        for (int j = 0; j < COB; j++) { v16 b = {0}; acc[j] = b + bias[co0 + j]; }              \
        for (int ci = 0; ci < cin; ci++) {                                                      \
            for (int ky = 0; ky < kh; ky++) {                                                   \
                const float *row = in + ((long)ci * h + oy + ky) * w + ox;                     \
                const float *wr = weight + (long)co0 * wstride + (ci * kh + ky) * kw;           \
                for (int kx = 0; kx < kw; kx++) {                                               \
                    v16 x = load16(row + kx);                                                   \
                    for (int j = 0; j < COB; j++) acc[j] += x * wr[j * wstride + kx];           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        for (int j = 0; j < COB; j++) {                                                         \
            float s = act == NN_ACT_PRELU ? slopes[nslopes == 1 ? 0 : co0 + j] : 0.0f;          \
            store_n(out + ((long)(co0 + j) * oh + oy) * ow + ox, activate(acc[j], act, s), ow - ox); \
        }                                                                                       \
    }                                                                                           \
}
ROW_KERNEL(8)
ROW_KERNEL(5)
ROW_KERNEL(4)
ROW_KERNEL(2)
ROW_KERNEL(1)

CLONES
void nn_conv2d_direct(const float *in, int cin, int h, int w,
                      const float *weight, const float *bias, int cout, int kh, int kw,
                      int act, const float *slopes, int nslopes, float *out) {
    const int oh = h - kh + 1, ow = w - kw + 1;
    if (oh <= 0 || ow <= 0) return;
    const int wide = nn_wide_registers();
    for (int oy = 0; oy < oh; oy++) {
        int co = 0;
        for (; co + 8 <= cout; co += 8) row_8(in, cin, h, w, weight, bias, co, kh, kw, act, slopes, nslopes, out, oy, oh, ow, wide);
        for (; co + 4 <= cout; co += 4) row_4(in, cin, h, w, weight, bias, co, kh, kw, act, slopes, nslopes, out, oy, oh, ow, wide);
        for (; co + 2 <= cout; co += 2) row_2(in, cin, h, w, weight, bias, co, kh, kw, act, slopes, nslopes, out, oy, oh, ow, wide);
        for (; co < cout; co++) row_1(in, cin, h, w, weight, bias, co, kh, kw, act, slopes, nslopes, out, oy, oh, ow, wide);
    }
}

CLONES
void nn_maxpool(const float *in, int planes, int h, int w, int k, int s, int oh, int ow, float *out) {
    float rowmax[4096];
    for (int p = 0; p < planes; p++) {
        const float *src = in + (long)p * h * w;
        float *dst = out + (long)p * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            int y0 = oy * s, y1 = y0 + k < h ? y0 + k : h;
            float *o = dst + (long)oy * ow;
            if (w <= 4096) {
                /* Max over the window's rows first (contiguous, vectorizes), then along x. */
                const float *r = src + (long)y0 * w;
                for (int x = 0; x < w; x++) rowmax[x] = r[x];
                for (int y = y0 + 1; y < y1; y++) {
                    r = src + (long)y * w;
                    for (int x = 0; x < w; x++) rowmax[x] = r[x] > rowmax[x] ? r[x] : rowmax[x];
                }
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = ox * s, x1 = x0 + k < w ? x0 + k : w;
                    float m = rowmax[x0];
                    for (int x = x0 + 1; x < x1; x++) m = rowmax[x] > m ? rowmax[x] : m;
                    o[ox] = m;
                }
            } else {
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = ox * s, x1 = x0 + k < w ? x0 + k : w;
                    float m = src[(long)y0 * w + x0];
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++) {
                            float v = src[(long)y * w + x];
                            m = v > m ? v : m;
                        }
                    o[ox] = m;
                }
            }
        }
    }
}

/* ---- Channels-last (NHWC) convolution: output channels in the vector lanes ----
   The microkernel (nhwc_microkernel.h, shared with the classifier) keeps P output pixels x CV
   vectors of 16 output channels in registers. Lanes stay full whatever the map width, which is
   what small crops (R-Net, O-Net) need. */

/* The shared microkernel (nhwc_microkernel.h) into a small buffer, then the valid pixels out. */
#define MK(CV, P)                                                                               \
NHWC_MK(CV, P)                                                                                  \
static inline __attribute__((always_inline)) void mk_##CV##_##P(                               \
    const float *in, const long *offs, int npix, const int *koff, int nk, int cin,             \
    const float *wpack, int coutp, int co0, const float *bias, int act, const float *slopes,    \
    float *out, long pix0) {                                                                    \
    float res[P][16 * CV] __attribute__((aligned(64)));                                         \
    nhwc_mk_##CV##_##P(in, offs, koff, nk, cin, wpack, coutp, co0, bias, act, slopes, &res[0][0]); \
    for (int p = 0; p < npix; p++) memcpy(out + (pix0 + p) * coutp + co0, res[p], sizeof res[p]); \
}
MK(1, 24)
MK(1, 6)
MK(2, 12)
MK(3, 8)
MK(4, 6)

/* Pixel offsets walked with nhwc_next rather than divided out per pixel. */
#define NHWC_BLOCKS(CV, P)                                                                      \
    {                                                                                           \
        nhwc_pos q;                                                                             \
        nhwc_seek(&q, p0, oh, ow);                                                              \
        for (long pix = p0; pix < p1; pix += P) {                                               \
            int npix = p1 - pix < P ? (int)(p1 - pix) : P;                                      \
            long offs[P];                                                                       \
            for (int p = 0; p < npix; p++) {                                                    \
                offs[p] = q.img * inPer + ((long)q.y * w + q.x) * cs;                           \
                nhwc_next(&q, oh, ow);                                                          \
            }                                                                                   \
            for (int p = npix; p < P; p++) offs[p] = offs[npix - 1];                            \
            mk_##CV##_##P(in, offs, npix, koff, nk, cin, wpack, coutp, co, bias, act, slopes, out, pix); \
        }                                                                                       \
    }

CLONES
void nn_conv_nhwc(const float *in, int h, int w, int cs, int cin,
                  const float *wpack, const float *bias, const float *slopes, int coutp,
                  int kh, int kw, int act, float *out, long p0, long p1) {
    const int oh = h - kh + 1, ow = w - kw + 1;
    if (oh <= 0 || ow <= 0 || p1 <= p0 || kh * kw > 64) return;
    const long inPer = (long)h * w * cs;
    int koff[64];
    const int nk = kh * kw;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) koff[ky * kw + kx] = (ky * w + kx) * cs;
    const int vecs = coutp / 16;
    int co = 0;
    if (!nn_wide_registers()) {
        /* AVX2: one vector of channels x 6 pixels at a time (12 of the 16 registers). */
        for (; co < 16 * vecs; co += 16) { NHWC_BLOCKS(1, 6) }
        return;
    }
    /* Channel groups of 4, 3, 2, 1 vectors, each over all pixels of the range. */
    for (; co + 64 <= 16 * vecs; co += 64) { NHWC_BLOCKS(4, 6) }
    if (16 * vecs - co == 48) { NHWC_BLOCKS(3, 8) co += 48; }
    if (16 * vecs - co == 32) { NHWC_BLOCKS(2, 12) co += 32; }
    if (16 * vecs - co == 16) { NHWC_BLOCKS(1, 24) co += 16; }
}

/* K x K max pooling, stride s, of channels-last maps whose channel stride is a whole number of
   vectors. Ceil mode lets the last window hang over the edge; its rows and columns are clamped
   to the last one instead, which repeats an element already in the window and so leaves the
   maximum unchanged, and keeps the window a compile-time K x K (fully unrolled, no branches). */
#define POOL_NHWC(K)                                                                            \
static inline __attribute__((always_inline)) void pool_nhwc_##K(                              \
    const float *in, int n, int h, int w, int cs, int s, int oh, int ow, float *out) {          \
    for (long b = 0; b < n; b++) {                                                              \
        const float *img = in + b * h * w * cs;                                                 \
        for (int oy = 0; oy < oh; oy++) {                                                       \
            const float *rows[K];                                                               \
            for (int j = 0; j < K; j++) {                                                       \
                int y = oy * s + j < h ? oy * s + j : h - 1;                                    \
                rows[j] = img + (long)y * w * cs;                                               \
            }                                                                                   \
            for (int ox = 0; ox < ow; ox++) {                                                   \
                long cols[K];                                                                   \
                for (int i = 0; i < K; i++) cols[i] = (long)(ox * s + i < w ? ox * s + i : w - 1) * cs; \
                float *o = out + ((b * oh + oy) * (long)ow + ox) * cs;                          \
                for (int c = 0; c < cs; c += 16) {                                              \
                    v16 m = load16(rows[0] + cols[0] + c);                                      \
                    for (int j = 0; j < K; j++)                                                 \
                        for (int i = 0; i < K; i++)                                             \
                            m = __builtin_elementwise_max(m, load16(rows[j] + cols[i] + c));    \
                    memcpy(o + c, &m, sizeof m);                                                \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}
POOL_NHWC(2)
POOL_NHWC(3)

CLONES
void nn_maxpool_nhwc(const float *in, int n, int h, int w, int cs, int k, int s, int oh, int ow, float *out) {
    if (cs % 16 == 0 && k == 3) { pool_nhwc_3(in, n, h, w, cs, s, oh, ow, out); return; }
    if (cs % 16 == 0 && k == 2) { pool_nhwc_2(in, n, h, w, cs, s, oh, ow, out); return; }
    /* Other shapes: the classifier's padded-layout pooling with no padding and dense images. */
    fercls_maxpool_nhwc(in, (long)h * w * cs, h, w, cs, k, s, oh, ow, out, (long)oh * ow * cs, ow, 0, n);
}

/* ---- P-Net's first block fused: 3x3 conv + bias + PReLU, then 2x2/2 max pooling (ceil mode) ----
   Two convolution rows at a time go into a small buffer that stays in L1 and are pooled at
   once, so the full-resolution activation (the largest of the net) is never written out. */
CLONES
void nn_conv_pool2(const float *in, int cin, int h, int planeRows, int w, const float *weight, const float *bias, int cout,
                   int act, const float *slopes, int nslopes, int ph, int pw, float *tmp, float *out) {
    const int oh = h - 2, ow = w - 2;
    if (oh <= 0 || ow <= 0) return;
    const int wide = nn_wide_registers();
    for (int py = 0; py < ph; py++) {
        int r0 = 2 * py, rows = r0 + 1 < oh ? 2 : 1;
        for (int r = 0; r < rows; r++) {
            /* Row r0 + r of the convolution into tmp[r][co][ow]: shift the input by whole rows
               (plane stride stays planeRows * w) and write it as a one-row map. */
            const float *src = in + (long)(r0 + r) * w;
            float *dst = tmp + (long)r * cout * ow;
            int co = 0;
            /* 10 channels as two blocks of 5 (10 accumulators each) rather than 8 + 2, whose
               second pass had 4 accumulators, too few to cover the FMA latency: 3-6% faster. */
            if (cout == 10) {
                row_5(src, cin, planeRows, w, weight, bias, 0, 3, 3, act, slopes, nslopes, dst, 0, 1, ow, wide);
                row_5(src, cin, planeRows, w, weight, bias, 5, 3, 3, act, slopes, nslopes, dst, 0, 1, ow, wide);
                co = 10;
            }
            for (; co + 8 <= cout; co += 8) row_8(src, cin, planeRows, w, weight, bias, co, 3, 3, act, slopes, nslopes, dst, 0, 1, ow, wide);
            for (; co + 4 <= cout; co += 4) row_4(src, cin, planeRows, w, weight, bias, co, 3, 3, act, slopes, nslopes, dst, 0, 1, ow, wide);
            for (; co + 2 <= cout; co += 2) row_2(src, cin, planeRows, w, weight, bias, co, 3, 3, act, slopes, nslopes, dst, 0, 1, ow, wide);
            for (; co < cout; co++) row_1(src, cin, planeRows, w, weight, bias, co, 3, 3, act, slopes, nslopes, dst, 0, 1, ow, wide);
        }
        for (int c = 0; c < cout; c++) {
            const float *a = tmp + (long)c * ow, *b = rows == 2 ? tmp + (long)(cout + c) * ow : a;
            float *o = out + ((long)c * ph + py) * pw;
            int px = 0;
            for (; 2 * px + 1 < ow && px < pw; px++) {
                float m0 = a[2 * px] > b[2 * px] ? a[2 * px] : b[2 * px];
                float m1 = a[2 * px + 1] > b[2 * px + 1] ? a[2 * px + 1] : b[2 * px + 1];
                o[px] = m0 > m1 ? m0 : m1;
            }
            for (; px < pw; px++) o[px] = a[2 * px] > b[2 * px] ? a[2 * px] : b[2 * px];
        }
    }
}

