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

/* K x K max pooling, stride s, of whole channels-last maps: each output row from its K input
   rows (the last ones clamped to the map, as nhwc_pool_row_K clamps columns). */
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
            nhwc_pool_row_##K(rows, w, cs, s, ow, out + (b * oh + oy) * (long)ow * cs);         \
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

/* ---- P-Net's first block by Winograd F(2x2, 3x3): each pooled cell is one 2x2 output tile ----
   A 2x2/2 pooling window is exactly an F(2x2, 3x3) tile, so each lane of a vector computes one
   pooled cell from its 4x4 input patch: 16 products per input and output channel instead of the
   direct kernel's 36, and the tile's four outputs are pooled in the lane they were made in (no
   shuffles on the way out; the cells come out contiguous, as the planar output wants). Bias and
   the activation follow the maximum, which they commute with when the activation never decreases
   (ReLU, PReLU with slopes >= 0: fl(x + b) and fl(s * x) are monotonic in x), so they run once
   per cell instead of four times. Transforms (Lavin & Gray 2016): V = B^T d B with
   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], U = G g G^T with G = [1 0 0; .5 .5 .5;
   .5 -.5 .5; 0 0 1], Y = A^T (U . V) A with A^T = [1 1 1 0; 0 1 -1 -1]. */
#define WINO_CP_MAX_CIN 4
#define WINO_CP_MAX_COUT 16

/* Lane-wise max and min as compare and select, which compile to one vmaxps / vminps; the
   __builtin_elementwise_ forms also order NaNs (two more instructions each), and the maps here
   hold no NaNs. */
typedef int v16i __attribute__((vector_size(64), aligned(4)));
static inline __attribute__((always_inline)) v16 vmax16(v16 a, v16 b) { v16i m = a > b; return (v16)(((v16i)a & m) | ((v16i)b & ~m)); }
static inline __attribute__((always_inline)) v16 vmin16(v16 a, v16 b) { v16i m = a < b; return (v16)(((v16i)a & m) | ((v16i)b & ~m)); }

/* Lanes 0..15 of x[k], x[k + 2], ... x[k + 30] from the 32 floats a, b: the even (k = 0) or odd
   (k = 1) columns, one per tile. */
static inline __attribute__((always_inline)) v16 cols_even(v16 a, v16 b) {
    return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
static inline __attribute__((always_inline)) v16 cols_odd(v16 a, v16 b) {
    return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/* The 16 transformed inputs V[a][b] of 16 tiles (cells px0..px0+15) of one channel, from its four
   input rows starting at column 2 * px0 (34 readable floats each). */
static inline __attribute__((always_inline)) void wino_cp_input(const float *const rows[4], v16 v[16]) {
    v16 x[4][4];
    for (int r = 0; r < 4; r++) {
        const float *p = rows[r];
        v16 a = load16(p), b = load16(p + 16), a2 = load16(p + 2), b2 = load16(p + 18);
        v16 d0 = cols_even(a, b), d1 = cols_odd(a, b), d2 = cols_even(a2, b2), d3 = cols_odd(a2, b2);
        x[r][0] = d0 - d2; x[r][1] = d1 + d2; x[r][2] = d2 - d1; x[r][3] = d1 - d3;
    }
    for (int b = 0; b < 4; b++) {
        v[0 * 4 + b] = x[0][b] - x[2][b];
        v[1 * 4 + b] = x[1][b] + x[2][b];
        v[2 * 4 + b] = x[2][b] - x[1][b];
        v[3 * 4 + b] = x[1][b] - x[3][b];
    }
}

/* Output channels co0..co0+G-1 of 16 cells: the products summed over input channels, the inverse
   transform row by row of the tile (its four outputs accumulate as the rows arrive, so only 4 * G
   vectors stay live), then pooling, bias and activation. lastRowSingle: the tile's second output
   row lies below the map (ceil mode), so the pool sees the first row only; colLimit: lanes at or
   past it have no second output column. */
#define WINO_CP_GROUP(G)                                                                        \
static inline __attribute__((always_inline)) void wino_cp_group_##G(                            \
    const v16 *v, int cin, const float *u, int co0, const float *bias, int act,                  \
    const float *slopes, int nslopes, int lastRowSingle, int colLimit, float *const outRows[], int n) { \
    v16 y[G][4];                                                                                \
    for (int j = 0; j < G; j++) for (int k = 0; k < 4; k++) y[j][k] = (v16){0};                \
    for (int a = 0; a < 4; a++) {                                                               \
        v16 t[G][2];                                                                            \
        for (int j = 0; j < G; j++) {                                                           \
            v16 m[4];                                                                           \
            const float *uj = u + (long)(co0 + j) * cin * 16 + a * 4;                           \
            for (int b = 0; b < 4; b++) m[b] = v[a * 4 + b] * uj[b];                            \
            for (int c = 1; c < cin; c++)                                                       \
                for (int b = 0; b < 4; b++) m[b] += v[c * 16 + a * 4 + b] * uj[c * 16 + b];      \
            t[j][0] = m[0] + m[1] + m[2];                                                       \
            t[j][1] = m[1] - m[2] - m[3];                                                       \
        }                                                                                       \
        for (int j = 0; j < G; j++)                                                             \
            for (int q = 0; q < 2; q++) {                                                       \
                if (a == 0) y[j][q] += t[j][q];                                                 \
                else if (a == 1) { y[j][q] += t[j][q]; y[j][2 + q] += t[j][q]; }                \
                else if (a == 2) { y[j][q] += t[j][q]; y[j][2 + q] -= t[j][q]; }                \
                else y[j][2 + q] -= t[j][q];                                                    \
            }                                                                                   \
    }                                                                                           \
    for (int j = 0; j < G; j++) {                                                               \
        v16 r0 = y[j][0], r1 = y[j][1], s0 = y[j][2], s1 = y[j][3];                             \
        if (lastRowSingle) { s0 = r0; s1 = r1; }                                                \
        if (colLimit < 16) {                                                                    \
            float f0[16], f1[16], g0[16], g1[16];                                               \
            memcpy(f0, &r0, 64); memcpy(f1, &r1, 64); memcpy(g0, &s0, 64); memcpy(g1, &s1, 64); \
            for (int l = colLimit; l < 16; l++) { f1[l] = f0[l]; g1[l] = g0[l]; }                \
            memcpy(&r1, f1, 64); memcpy(&s1, g1, 64);                                           \
        }                                                                                       \
        const float s = act == NN_ACT_PRELU ? slopes[nslopes == 1 ? 0 : co0 + j] : 0.0f, bj = bias[co0 + j]; \
        v16 cell;                                                                               \
        if (s >= 0) {                                                                           \
            v16 mx = vmax16(vmax16(r0, r1), vmax16(s0, s1)); \
            cell = activate(mx + bj, act, s);                                                   \
        } else {                                                                                \
            /* A negative slope: PReLU(z) = max(z, s z), so the window's maximum is               \
               max(max z, s min z) (fl(s z) falls as z grows), the same floats as activating     \
               each output and pooling. */                                                       \
            v16 mn = vmin16(vmin16(r0, r1), vmin16(s0, s1)); \
            v16 mx = vmax16(vmax16(r0, r1), vmax16(s0, s1)); \
            cell = vmax16(mx + bj, (mn + bj) * s);                           \
        }                                                                                       \
        store_n(outRows[co0 + j], cell, n);                                                     \
    }                                                                                           \
}
WINO_CP_GROUP(2)
WINO_CP_GROUP(1)

/* Whether the Winograd path applies: its channel limits. */
static int wino_cp_applies(int cin, int cout) {
    return cin >= 1 && cin <= WINO_CP_MAX_CIN && cout >= 1 && cout <= WINO_CP_MAX_COUT;
}

static inline __attribute__((always_inline)) void wino_cp(const float *in, int cin, int h, int planeRows, int w, const float *weight, const float *bias,
                    int cout, int act, const float *slopes, int nslopes, int ph, int pw, float *out, int wide) {
    const int oh = h - 2, ow = w - 2;
    float u[WINO_CP_MAX_COUT * WINO_CP_MAX_CIN * 16];
    for (int co = 0; co < cout; co++)
        for (int c = 0; c < cin; c++) {
            const float *g = weight + ((long)co * cin + c) * 9;
            float gt[4][3]; /* G g */
            for (int j = 0; j < 3; j++) {
                gt[0][j] = g[j];
                gt[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                gt[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                gt[3][j] = g[6 + j];
            }
            float *uo = u + ((long)co * cin + c) * 16;
            for (int a = 0; a < 4; a++) {
                uo[a * 4 + 0] = gt[a][0];
                uo[a * 4 + 1] = 0.5f * (gt[a][0] + gt[a][1] + gt[a][2]);
                uo[a * 4 + 2] = 0.5f * (gt[a][0] - gt[a][1] + gt[a][2]);
                uo[a * 4 + 3] = gt[a][2];
            }
        }
    const long plane = (long)planeRows * w;
    float pad[WINO_CP_MAX_CIN][4][48];
    for (int py = 0; py < ph; py++) {
        const int single = 2 * py + 1 >= oh;
        int ys[4];
        for (int r = 0; r < 4; r++) ys[r] = 2 * py + r < h ? 2 * py + r : h - 1;
        for (int px0 = 0; px0 < pw; px0 += 16) {
            const int n = pw - px0 < 16 ? pw - px0 : 16;
            /* Cells whose second column lies past the map: lanes from colLimit on. */
            int colLimit = 16;
            if (2 * (px0 + n - 1) + 1 >= ow) colLimit = n - 1;
            v16 v[WINO_CP_MAX_CIN * 16];
            const int direct = 2 * px0 + 34 <= w;
            /* The next pooled row's two new input rows, ahead of use: on a pyramid level that is
               not in cache the twelve row streams otherwise wait on memory. */
            if (2 * py + 5 < h)
                for (int c = 0; c < cin; c++)
                    for (int r = 4; r < 6; r++) {
                        const char *next = (const char *)(in + c * plane + (long)(2 * py + r) * w + 2 * px0);
                        __builtin_prefetch(next); __builtin_prefetch(next + 64); __builtin_prefetch(next + 128);
                    }
            for (int c = 0; c < cin; c++) {
                const float *rows[4];
                for (int r = 0; r < 4; r++) {
                    const float *src = in + c * plane + (long)ys[r] * w + 2 * px0;
                    if (direct) { rows[r] = src; continue; }
                    int avail = w - 2 * px0;
                    memset(pad[c][r], 0, sizeof pad[c][r]);
                    memcpy(pad[c][r], src, (size_t)avail * sizeof(float));
                    rows[r] = pad[c][r];
                }
                wino_cp_input(rows, v + c * 16);
            }
            float *outRows[WINO_CP_MAX_COUT];
            for (int co = 0; co < cout; co++) outRows[co] = out + ((long)co * ph + py) * pw + px0;
            /* Two output channels at a time with AVX-512 (8 output vectors, 8 products, 12 inputs
               of a tile row live: 28 of 32 registers), one with AVX2's 16. G = 3 or 4 measured
               the same; P-Net's three input channels as a constant let the channel loop unroll. */
            int co = 0;
            if (wide && cin == 3) for (; co + 2 <= cout; co += 2) wino_cp_group_2(v, 3, u, co, bias, act, slopes, nslopes, single, colLimit, outRows, n);
            if (wide) for (; co + 2 <= cout; co += 2) wino_cp_group_2(v, cin, u, co, bias, act, slopes, nslopes, single, colLimit, outRows, n);
            for (; co < cout; co++) wino_cp_group_1(v, cin, u, co, bias, act, slopes, nslopes, single, colLimit, outRows, n);
        }
    }
}

/* ---- P-Net's first block fused: 3x3 conv + bias + PReLU, then 2x2/2 max pooling (ceil mode) ----
   Within the Winograd path's channel limits (P-Net's 3 -> 10) it runs wino_cp above; past them,
   two direct convolution rows at a time go into a small buffer that stays in L1 and are pooled
   at once. Either way the full-resolution activation (the largest of the net) is never written. */
CLONES
void nn_conv_pool2(const float *in, int cin, int h, int planeRows, int w, const float *weight, const float *bias, int cout,
                   int act, const float *slopes, int nslopes, int ph, int pw, float *tmp, float *out) {
    const int oh = h - 2, ow = w - 2;
    if (oh <= 0 || ow <= 0) return;
    const int wide = nn_wide_registers();
    if (wino_cp_applies(cin, cout)) {
        wino_cp(in, cin, h, planeRows, w, weight, bias, cout, act, slopes, nslopes, ph, pw, out, wide);
        return;
    }
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

