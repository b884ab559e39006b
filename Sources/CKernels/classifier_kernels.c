#include "ckernels.h"
#include "nhwc_microkernel.h"
/* The vector helpers below are static and always inlined within this file, so the argument-passing
   ABI that -Wpsabi warns about for the baseline (non-AVX-512) clones never applies. */
#pragma clang diagnostic ignored "-Wpsabi"
#include <string.h>

/* ---- Channels-last convolution for the emotion classifier (whole network kept NHWC) ----
   Like nn_conv_nhwc (output channels in the vector lanes, P pixels x CV vectors of 16 channels
   of accumulators in registers), with two things the classifier's VGG chain needs:
   - the output goes into the interior of a zero-bordered buffer (the next convolution's padding
     lives in the layout, so no padded copy is made per layer);
   - optionally a 2x2 stride-2 max pooling is applied to the activated output before it is
     stored (the full-resolution map, the largest of the net, is never written out).
   The microkernel and the pixel walk are shared with nn_conv_nhwc (nhwc_microkernel.h). */

typedef float clsacc __attribute__((vector_size(64)));

#define CLS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

/* Unaligned 16-float load (a macro: a function returning a 64-byte vector changes the ABI in the
   baseline clone and draws -Wpsabi). */
#define CLS_LOAD(v, p) memcpy(&(v), (p), sizeof(clsacc))

NHWC_MK(3, 8)
NHWC_MK(2, 12)
NHWC_MK(1, 24)
NHWC_MK(1, 6)
NHWC_MK(1, 4)

/* One channel group of CV vectors over output positions [p0, p1): P conv pixels per block, or
   P / 4 pooled positions (each the 2x2 window of conv pixels) when pooling. */
#define CLS_GROUP(CV, P)                                                                        \
static inline __attribute__((always_inline)) void cls_group_##CV##_##P(                        \
    const float *in, long inImg, int w, int cs, const int *koff, int nk, int cin,              \
    const float *wpack, int coutp, int co0, const float *bias, int act, const float *slopes,    \
    float *out, long outImg, int outW, int outPad, int pool, int rows, int cols,                \
    long p0, long p1) {                                                                         \
    float res[P * 16 * CV] __attribute__((aligned(64)));                                        \
    long offs[P], dst[P];                                                                       \
    const int per = pool ? P / 4 : P; /* output positions per block */                          \
    nhwc_pos q;                                                                                  \
    nhwc_seek(&q, p0, rows, cols);                                                               \
    for (long pos = p0; pos < p1; pos += per) {                                                 \
        int n = p1 - pos < per ? (int)(p1 - pos) : per;                                         \
        for (int i = 0; i < per; i++) {                                                         \
            /* Past the range's end the last position repeats (computed, not stored). */        \
            dst[i] = q.img * outImg + ((long)(q.y + outPad) * outW + q.x + outPad) * coutp + co0; \
            if (pool) {                                                                         \
                long o = q.img * inImg + ((long)(2 * q.y) * w + 2 * q.x) * cs;                  \
                offs[4 * i] = o;                                                                \
                offs[4 * i + 1] = o + cs;                                                       \
                offs[4 * i + 2] = o + (long)w * cs;                                             \
                offs[4 * i + 3] = o + (long)w * cs + cs;                                        \
            } else {                                                                            \
                offs[i] = q.img * inImg + ((long)q.y * w + q.x) * cs;                           \
            }                                                                                   \
            if (i + 1 < n) nhwc_next(&q, rows, cols);                                            \
        }                                                                                       \
        if (n == per) nhwc_next(&q, rows, cols);                                                 \
        nhwc_mk_##CV##_##P(in, offs, koff, nk, cin, wpack, coutp, co0, bias, act, slopes, res);  \
        if (pool) {                                                                             \
            for (int i = 0; i < n; i++) {                                                       \
                for (int v = 0; v < CV; v++) {                                                  \
                    const float *r = res + (4 * i * CV + v) * 16;                               \
                    clsacc m, t;                                                                \
                    CLS_LOAD(m, r);                                                             \
                    CLS_LOAD(t, r + 16 * CV); m = __builtin_elementwise_max(m, t);              \
                    CLS_LOAD(t, r + 32 * CV); m = __builtin_elementwise_max(m, t);              \
                    CLS_LOAD(t, r + 48 * CV); m = __builtin_elementwise_max(m, t);              \
                    memcpy(out + dst[i] + 16 * v, &m, sizeof m);                                \
                }                                                                               \
            }                                                                                   \
        } else {                                                                                \
            for (int i = 0; i < n; i++) memcpy(out + dst[i], res + i * 16 * CV, 64 * CV);      \
        }                                                                                       \
    }                                                                                           \
}
CLS_GROUP(3, 8)
CLS_GROUP(2, 12)
CLS_GROUP(1, 24)
CLS_GROUP(1, 6)
CLS_GROUP(1, 4)

/* All channel groups of the output over positions [p0, p1). */
static inline __attribute__((always_inline)) void cls_conv_groups(
    const float *in, long inImg, int w, int cs, const int *koff, int nk, int cin, const float *wpack, int coutp,
    const float *bias, int act, const float *slopes, float *out, long outImg, int outW, int outPad, int pool,
    int rows, int cols, long p0, long p1) {
    int left = coutp / 16, co = 0;
    if (!nn_wide_registers()) {
        /* AVX2 (nn_wide_registers): one vector of channels, 6 pixels (12 of the 16 registers), or
           4 when pooling, whose blocks are whole 2x2 windows. */
        for (; co < coutp; co += 16) {
            if (pool)
                cls_group_1_4(in, inImg, w, cs, koff, nk, cin, wpack, coutp, co, bias, act, slopes, out, outImg, outW,
                              outPad, pool, rows, cols, p0, p1);
            else
                cls_group_1_6(in, inImg, w, cs, koff, nk, cin, wpack, coutp, co, bias, act, slopes, out, outImg, outW,
                              outPad, pool, rows, cols, p0, p1);
        }
        return;
    }
    /* Groups of three vectors (24 accumulators), the rest as pairs and one single. */
    while (left >= 3 && left != 4) {
        cls_group_3_8(in, inImg, w, cs, koff, nk, cin, wpack, coutp, co, bias, act, slopes, out, outImg, outW, outPad,
                      pool, rows, cols, p0, p1);
        co += 48; left -= 3;
    }
    while (left >= 2) {
        cls_group_2_12(in, inImg, w, cs, koff, nk, cin, wpack, coutp, co, bias, act, slopes, out, outImg, outW, outPad,
                       pool, rows, cols, p0, p1);
        co += 32; left -= 2;
    }
    if (left == 1)
        cls_group_1_24(in, inImg, w, cs, koff, nk, cin, wpack, coutp, co, bias, act, slopes, out, outImg, outW, outPad,
                       pool, rows, cols, p0, p1);
}

CLS_CLONES
void fercls_conv_nhwc(const float *in, long inImg, int h, int w, int cs, int cin,
                      const float *wpack, const float *bias, const float *slopes, int coutp,
                      int kh, int kw, int act, float *out, long outImg, int outW, int outPad,
                      int pool, long p0, long p1) {
    const int oh = h - kh + 1, ow = w - kw + 1;
    if (oh <= 0 || ow <= 0 || p1 <= p0 || kh * kw > 64 || coutp % 16 != 0) return;
    const int rows = pool ? oh / 2 : oh, cols = pool ? ow / 2 : ow;
    if (rows <= 0 || cols <= 0) return;
    int koff[64];
    const int nk = kh * kw;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) koff[ky * kw + kx] = (ky * w + kx) * cs;
    cls_conv_groups(in, inImg, w, cs, koff, nk, cin, wpack, coutp, bias, act, slopes, out, outImg, outW, outPad, pool,
                    rows, cols, p0, p1);
}

/* ---- Winograd F(2x2, 3x3) ----
   A 2x2 output tile from a 4x4 input tile with 16 multiplies per (input, output) channel pair
   instead of 36: V = B^T d B per input channel, M_xi = V_xi U_xi (16 independent [tiles x cs] by
   [cs x coutp] products, run by the microkernel above as 1x1 convolutions), Y = A^T M A. A 2x2
   output tile is exactly one window of a 2x2 / 2 max pooling, so pooling stays fused. Tiles are
   done `chunk` at a time so V and M stay in cache. */
CLS_CLONES
void fercls_winograd3x3(const float *in, long inImg, int h, int w, int cs,
                        const float *u, const float *bias, const float *slopes, int coutp, int act,
                        float *out, long outImg, int outW, int outPad, int pool, long n,
                        float *vbuf, float *mbuf, int chunk, const float *zeros, long tbegin, long tend) {
    const int oh = h - 2, ow = w - 2;
    if (oh <= 0 || ow <= 0 || (oh & 1) || (ow & 1) || cs % 16 != 0 || coutp % 16 != 0 || chunk <= 0) return;
    const int ty = oh / 2, tx = ow / 2;
    const long total = (tend < n * ty * tx ? tend : n * ty * tx) - tbegin;
    if (total <= 0 || tbegin < 0) return;
    const int koff0[1] = {0};
    /* Equal chunks (rounded up to whole 8-tile blocks, so never above a multiple-of-8 `chunk`):
       a short last chunk would stream all of U for a few tiles. */
    const long nchunks = (total + chunk - 1) / chunk;
    const long even = (total + nchunks - 1) / nchunks;
    chunk = (int)((even + 7) / 8 * 8) < chunk ? (int)((even + 7) / 8 * 8) : chunk;
    for (long t0 = 0; t0 < total; t0 += chunk) {
        const int cnt = total - t0 < chunk ? (int)(total - t0) : chunk;
        const long vplane = (long)cnt * cs, mplane = (long)cnt * coutp;
        /* Input transform. */
        nhwc_pos q;
        nhwc_seek(&q, tbegin + t0, ty, tx);
        for (int t = 0; t < cnt; t++, nhwc_next(&q, ty, tx)) {
            const float *base = in + q.img * inImg + ((long)(2 * q.y) * w + 2 * q.x) * cs;
            for (int c = 0; c < cs; c += 16) {
                clsacc d[4][4], r[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) CLS_LOAD(d[i][j], base + ((long)i * w + j) * cs + c);
                /* B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3. */
                for (int j = 0; j < 4; j++) {
                    clsacc a0 = d[0][j], a1 = d[1][j], a2 = d[2][j], a3 = d[3][j];
                    r[0][j] = a0 - a2; r[1][j] = a1 + a2; r[2][j] = a2 - a1; r[3][j] = a1 - a3;
                }
                /* (B^T d) B: the same on columns. */
                for (int i = 0; i < 4; i++) {
                    clsacc a0 = r[i][0], a1 = r[i][1], a2 = r[i][2], a3 = r[i][3];
                    clsacc v0 = a0 - a2, v1 = a1 + a2, v2 = a2 - a1, v3 = a1 - a3;
                    float *dst = vbuf + (long)(4 * i) * vplane + (long)t * cs + c;
                    memcpy(dst, &v0, sizeof v0);
                    memcpy(dst + vplane, &v1, sizeof v1);
                    memcpy(dst + 2 * vplane, &v2, sizeof v2);
                    memcpy(dst + 3 * vplane, &v3, sizeof v3);
                }
            }
        }
        /* 16 products. */
        for (int xi = 0; xi < 16; xi++)
            cls_conv_groups(vbuf + xi * vplane, 0, cnt, cs, koff0, 1, cs, u + (long)xi * cs * coutp, coutp, zeros,
                            NN_ACT_NONE, zeros, mbuf + xi * mplane, 0, cnt, 0, 0, 1, cnt, 0, cnt);
        /* Output transform, bias, activation, pooling. */
        nhwc_seek(&q, tbegin + t0, ty, tx);
        for (int t = 0; t < cnt; t++, nhwc_next(&q, ty, tx)) {
            for (int c = 0; c < coutp; c += 16) {
                clsacc m[4][4], tr[2][4], b, sl, z = {0};
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) CLS_LOAD(m[i][j], mbuf + (long)(4 * i + j) * mplane + (long)t * coutp + c);
                /* A^T M: rows m0 + m1 + m2, m1 - m2 - m3; then the same on columns. */
                for (int j = 0; j < 4; j++) {
                    tr[0][j] = m[0][j] + m[1][j] + m[2][j];
                    tr[1][j] = m[1][j] - m[2][j] - m[3][j];
                }
                CLS_LOAD(b, bias + c);
                sl = z;
                if (act == NN_ACT_PRELU) CLS_LOAD(sl, slopes + c);
                clsacc y[2][2];
                for (int i = 0; i < 2; i++) {
                    y[i][0] = tr[i][0] + tr[i][1] + tr[i][2] + b;
                    y[i][1] = tr[i][1] - tr[i][2] - tr[i][3] + b;
                    for (int j = 0; j < 2; j++)
                        if (act == NN_ACT_PRELU || act == NN_ACT_RELU)
                            y[i][j] = __builtin_elementwise_max(y[i][j], z) + __builtin_elementwise_min(y[i][j], z) * sl;
                }
                float *o = out + q.img * outImg + c;
                if (pool) {
                    clsacc mx = __builtin_elementwise_max(__builtin_elementwise_max(y[0][0], y[0][1]),
                                                          __builtin_elementwise_max(y[1][0], y[1][1]));
                    memcpy(o + ((long)(q.y + outPad) * outW + q.x + outPad) * coutp, &mx, sizeof mx);
                } else {
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 2; j++)
                            memcpy(o + ((long)(2 * q.y + i + outPad) * outW + 2 * q.x + j + outPad) * coutp, &y[i][j], sizeof(clsacc));
                }
            }
        }
    }
}

CLS_CLONES
void fercls_maxpool_nhwc(const float *in, long inImg, int h, int w, int cs, int k, int s, int oh, int ow,
                         float *out, long outImg, int outW, int outPad, long n) {
    for (long b = 0; b < n; b++) {
        const float *src = in + b * inImg;
        for (int oy = 0; oy < oh; oy++) {
            int y0 = oy * s, y1 = y0 + k < h ? y0 + k : h;
            for (int ox = 0; ox < ow; ox++) {
                int x0 = ox * s, x1 = x0 + k < w ? x0 + k : w;
                float *o = out + b * outImg + ((long)(oy + outPad) * outW + ox + outPad) * cs;
                const float *first = src + ((long)y0 * w + x0) * cs;
                int c = 0;
                for (; c + 16 <= cs; c += 16) {
                    clsacc m, q;
                    memcpy(&m, first + c, sizeof m);
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++) {
                            memcpy(&q, src + ((long)y * w + x) * cs + c, sizeof q);
                            m = __builtin_elementwise_max(m, q);
                        }
                    memcpy(o + c, &m, sizeof m);
                }
                for (; c < cs; c++) {
                    float m = first[c];
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++) {
                            float v = src[((long)y * w + x) * cs + c];
                            m = v > m ? v : m;
                        }
                    o[c] = m;
                }
            }
        }
    }
}

CLS_CLONES
void fercls_global_avg_nhwc(const float *in, long inImg, int hw, int cs, float *out, long n) {
    for (long b = 0; b < n; b++) {
        const float *src = in + b * inImg;
        float *o = out + b * cs;
        for (int c = 0; c < cs; c++) o[c] = 0;
        for (int p = 0; p < hw; p++)
            for (int c = 0; c < cs; c++) o[c] += src[(long)p * cs + c];
        for (int c = 0; c < cs; c++) o[c] /= (float)hw;
    }
}
