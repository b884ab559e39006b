/* ---- Winograd F(2x2, 3x3) for planar 3x3 valid stride-1 convolutions (P-Net's conv2 / conv3) ----
   A 2x2 output tile costs 16 multiply-adds per (input, output) channel pair instead of 36; the
   transforms are additions only and are shared across all output (input) channels.

   Tiles along x sit in the vector lanes: a group is 16 or 32 tiles (32 or 64 output columns) of
   one tile row (2 output rows). Per group: input transform of every input channel into V (L1),
   then per block of 8 output channels 16 independent small products M[xi] = U[xi] V[xi]
   (weights broadcast, 8 channels x 2 tile vectors of accumulators, the same register shape as
   the direct kernel), then the output transform, activation and stores. The last group of a
   row and the last tile row of an odd height are moved back to end at the map's edge (some
   outputs computed twice, to the same values); only maps narrower than a group or one row high
   are staged into a zero-padded copy. So the kernel reads no slack after its input and writes
   nothing outside its output. */
#include "ckernels.h"
#include "nhwc_microkernel.h"
/* The vector helpers below are static and always inlined within this file, so the argument-passing
   ABI that -Wpsabi warns about for the baseline (non-AVX-512) clones never applies. */
#pragma clang diagnostic ignored "-Wpsabi"
#include <string.h>

typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef float vacc __attribute__((vector_size(64)));

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

/* Tiles per group at most (two vectors), and the staged row width: a group reads columns
   [x0, x0 + 2 * tiles + 2) and its loads overshoot to x0 + 2 * tiles + 2 at most. */
#define WT 32
#define STAGE_W 80
/* Output channels per register block; the packed weights are padded to a multiple of it. */
#define KB 8

static inline __attribute__((always_inline)) vacc ld(const float *p) { v16 v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void st(float *p, vacc v) { memcpy(p, &v, sizeof v); }

long nn_wino3x3_packed_size(int cin, int cout) { return (long)(cout + KB - 1) / KB * KB * cin * 16; }

/* Activations of one group kept for a fused head: [cout][row 0-1][even/odd column][WT/16 vectors]. */
#define HEAD_COUT_MAX 64

long nn_wino3x3_scratch_size(int cin) {
    return 16L * cin * WT + 16L * KB * WT + (long)cin * 4 * STAGE_W + (long)HEAD_COUT_MAX * 4 * WT;
}

/* G g G^T with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1] for one 3x3 kernel, in double so the only
   rounding is the final one. */
static void kernel_tf(const float *g, float r[16]) {
    double t[4][3];
    for (int k = 0; k < 3; k++) {
        double a = g[k], b = g[3 + k], d = g[6 + k];
        t[0][k] = a; t[1][k] = 0.5 * (a + b + d); t[2][k] = 0.5 * (a - b + d); t[3][k] = d;
    }
    for (int i = 0; i < 4; i++) {
        r[i * 4 + 0] = (float)t[i][0];
        r[i * 4 + 1] = (float)(0.5 * (t[i][0] + t[i][1] + t[i][2]));
        r[i * 4 + 2] = (float)(0.5 * (t[i][0] - t[i][1] + t[i][2]));
        r[i * 4 + 3] = (float)t[i][2];
    }
}

void nn_wino3x3_pack(const float *weight, int cin, int cout, float *u) {
    memset(u, 0, sizeof(float) * nn_wino3x3_packed_size(cin, cout));
    for (int co = 0; co < cout; co++)
        for (int c = 0; c < cin; c++) {
            float r[16];
            kernel_tf(weight + ((long)co * cin + c) * 9, r);
            for (int xi = 0; xi < 16; xi++) u[(((long)(co / KB) * 16 + xi) * cin + c) * KB + co % KB] = r[xi];
        }
}

/* B^T d B for NV vectors of 16 tiles of one input channel; rows r of the 4-row window start at
   src + r * rs. Even and odd columns are split with two-source permutes, so each lane holds one
   tile's four columns. */
static inline __attribute__((always_inline)) void input_tf(const float *src, long rs, int nv, float *v, long xstride) {
    for (int q = 0; q < nv; q++) {
        vacc t[4][4];
        for (int r = 0; r < 4; r++) {
            const float *p = src + r * rs + 32 * q;
            vacc a = ld(p), b = ld(p + 16), a2 = ld(p + 2), b2 = ld(p + 18);
            vacc c0 = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            vacc c1 = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            vacc c2 = __builtin_shufflevector(a2, b2, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            vacc c3 = __builtin_shufflevector(a2, b2, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            t[r][0] = c0 - c2; t[r][1] = c1 + c2; t[r][2] = c2 - c1; t[r][3] = c1 - c3;
        }
        for (int j = 0; j < 4; j++) {
            st(v + (0 * 4 + j) * xstride + 16 * q, t[0][j] - t[2][j]);
            st(v + (1 * 4 + j) * xstride + 16 * q, t[1][j] + t[2][j]);
            st(v + (2 * 4 + j) * xstride + 16 * q, t[2][j] - t[1][j]);
            st(v + (3 * 4 + j) * xstride + 16 * q, t[1][j] - t[3][j]);
        }
    }
}

/* M[xi][j] = sum_c U[xi][c][j] V[xi][c] for the KB channels of one block, NV tile vectors.
   A^T M A adds M[1][1] to all four outputs of a tile, so starting that sum at the bias adds it. */
static inline __attribute__((always_inline)) void products(const float *ub, const float *v, int cin, int nv,
                                                         const float *bias, int co0, int cout, float *m) {
    float b0[KB];
    for (int j = 0; j < KB; j++) b0[j] = co0 + j < cout ? bias[co0 + j] : 0.0f;
    for (int xi = 0; xi < 16; xi++) {
        const float *uw = ub + (long)xi * cin * KB, *vx = v + (long)xi * cin * WT;
        float *mx = m + xi * KB * WT;
        if (nv == 2) {
            vacc a0[KB], a1[KB];
            for (int j = 0; j < KB; j++) { a0[j] = (vacc){0} + (xi == 5 ? b0[j] : 0.0f); a1[j] = a0[j]; }
            for (int c = 0; c < cin; c++) {
                vacc x0 = ld(vx + c * WT), x1 = ld(vx + c * WT + 16);
                for (int j = 0; j < KB; j++) { float w = uw[c * KB + j]; a0[j] += x0 * w; a1[j] += x1 * w; }
            }
            for (int j = 0; j < KB; j++) { st(mx + j * WT, a0[j]); st(mx + j * WT + 16, a1[j]); }
        } else {
            vacc a0[KB];
            for (int j = 0; j < KB; j++) a0[j] = (vacc){0} + (xi == 5 ? b0[j] : 0.0f);
            for (int c = 0; c < cin; c++) {
                vacc x0 = ld(vx + c * WT);
                for (int j = 0; j < KB; j++) a0[j] += x0 * uw[c * KB + j];
            }
            for (int j = 0; j < KB; j++) st(mx + j * WT, a0[j]);
        }
    }
}

static inline __attribute__((always_inline)) vacc act_v(vacc v, int act, float slope) {
    vacc z = {0};
    if (act == NN_ACT_RELU) return __builtin_elementwise_max(v, z);
    /* A compare into a mask and a masked multiply, one operation fewer than max + min * slope. */
    if (act == NN_ACT_PRELU) {
        typedef int vi __attribute__((vector_size(64)));
        vi neg = v < z, a = (vi)v, b = (vi)(v * slope);
        return (vacc)((b & neg) | (a & ~neg));
    }
    return v;
}

/* Even and odd output columns back into pixel order: 32 contiguous outputs, n of them kept. */
static inline __attribute__((always_inline)) void store_pair(float *dst, vacc e, vacc o, int n) {
    vacc lo = __builtin_shufflevector(e, o, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    vacc hi = __builtin_shufflevector(e, o, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    if (n >= 32) { st(dst, lo); st(dst + 16, hi); return; }
    float tmp[32];
    st(tmp, lo); st(tmp + 16, hi);
    for (int i = 0; i < n; i++) dst[i] = tmp[i];
}

/* A^T M A and the activation for one vector of 16 tiles of output channel j of a block: y[0], y[1]
   row 0's even and odd columns, y[2], y[3] row 1's. */
static inline __attribute__((always_inline)) void tile_outputs(const float *m, int j, int q, int act, float s, vacc y[4]) {
    const float *mq = m + j * WT + 16 * q;
    vacc q0[4], q1[4];
    for (int c = 0; c < 4; c++) {
        vacc m0 = ld(mq + (0 * 4 + c) * KB * WT), m1 = ld(mq + (1 * 4 + c) * KB * WT);
        vacc m2 = ld(mq + (2 * 4 + c) * KB * WT), m3 = ld(mq + (3 * 4 + c) * KB * WT);
        q0[c] = m0 + m1 + m2; q1[c] = m1 - m2 - m3;
    }
    y[0] = act_v(q0[0] + q0[1] + q0[2], act, s);
    y[1] = act_v(q0[1] - q0[2] - q0[3], act, s);
    y[2] = act_v(q1[0] + q1[1] + q1[2], act, s);
    y[3] = act_v(q1[1] - q1[2] - q1[3], act, s);
}

/* tile_outputs stored for the channels of one block: rows oy (and oy + 1 when two) from column
   x0, ncols of them. */
static inline __attribute__((always_inline)) void output_tf(const float *m, int nv, int co0, int cout, int act, const float *slopes, int nslopes, float *out, int oh,
                                                          int ow, int oy, int rows, int x0, int ncols) {
    for (int j = 0; j < KB && co0 + j < cout; j++) {
        const int co = co0 + j;
        const float s = act == NN_ACT_PRELU ? slopes[nslopes == 1 ? 0 : co] : 0.0f;
        float *o0 = out + ((long)co * oh + oy) * ow + x0;
        for (int q = 0; q < nv; q++) {
            int n = ncols - 32 * q;
            if (n <= 0) break;
            vacc y[4];
            tile_outputs(m, j, q, act, s, y);
            store_pair(o0 + 32 * q, y[0], y[1], n);
            if (rows == 2) store_pair(o0 + ow + 32 * q, y[2], y[3], n);
        }
    }
}

/* As output_tf, but the activations stay in the group's buffer y, columns still split into even
   and odd (the head's input; the pixel order is restored only for the head's few channels). */
static inline __attribute__((always_inline)) void output_tf_keep(const float *m, int nv, int co0, int cout, int act,
                                                               const float *slopes, int nslopes, float *y) {
    for (int j = 0; j < KB && co0 + j < cout; j++) {
        const int co = co0 + j;
        const float s = act == NN_ACT_PRELU ? slopes[nslopes == 1 ? 0 : co] : 0.0f;
        for (int q = 0; q < nv; q++) {
            vacc t[4];
            tile_outputs(m, j, q, act, s, t);
            float *yc = y + (long)co * 4 * WT + 16 * q;
            for (int k = 0; k < 4; k++) st(yc + k * WT, t[k]);
        }
    }
}

/* The fused 1x1 head (P-Net's conv4_1 + conv4_2: HEAD_OUT outputs, no activation) over the
   group's activations: both column parities of a row at once, 2 x HEAD_OUT accumulators. */
#define HEAD_OUT 6
static inline __attribute__((always_inline)) void head_tf(const float *y, int cout, int nv, const float *hw,
                                                        const float *hb, float *out, int oh, int ow, int oy,
                                                        int rows, int x0, int ncols) {
    for (int q = 0; q < nv; q++) {
        const int n = ncols - 32 * q;
        if (n <= 0) break;
        for (int r = 0; r < rows; r++) {
            vacc e[HEAD_OUT], o[HEAD_OUT];
            for (int j = 0; j < HEAD_OUT; j++) { e[j] = (vacc){0} + hb[j]; o[j] = e[j]; }
            const float *yr = y + (2 * r) * WT + 16 * q;
            for (int c = 0; c < cout; c++) {
                vacc ye = ld(yr + (long)c * 4 * WT), yo = ld(yr + (long)c * 4 * WT + WT);
                for (int j = 0; j < HEAD_OUT; j++) { float wv = hw[j * cout + c]; e[j] += ye * wv; o[j] += yo * wv; }
            }
            for (int j = 0; j < HEAD_OUT; j++) store_pair(out + ((long)j * oh + oy + r) * ow + x0 + 32 * q, e[j], o[j], n);
        }
    }
}

CLONES
void nn_wino3x3_head(const float *in, int cin, int h, int w, const float *u, const float *bias, int cout,
                     int act, const float *slopes, int nslopes, const float *hw, const float *hb,
                     float *scratch, float *out) {
    const int oh = h - 2, ow = w - 2;
    if (oh <= 0 || ow <= 0) return;
    float *v = scratch, *m = v + 16L * cin * WT, *stage = m + 16L * KB * WT, *y = stage + (long)cin * 4 * STAGE_W;
    const int blocks = (cout + KB - 1) / KB;
    if (hw && cout > HEAD_COUT_MAX) return;
    for (int ty = 0; ty < oh; ty += 2) {
        /* An odd last row is done by moving its tile row up one: the row above is computed
           twice, to the same values, and all loads stay inside the map. */
        const int oy = ty + 1 < oh || oh < 2 ? ty : oh - 2, rows = oy + 1 < oh ? 2 : 1;
        for (int gx = 0; gx < ow; ) {
            /* Likewise the last group of a row ends at the map's right edge and overlaps the
               previous one, unless the whole row is narrower than a group. */
            const int left = ow - gx, nv = left > 32 ? 2 : 1, span = 32 * nv;
            const int x0 = ow >= span && left < span ? ow - span : gx, ncols = ow - x0 < span ? ow - x0 : span;
            if (rows == 2 && ncols == span) {
                for (int c = 0; c < cin; c++)
                    input_tf(in + ((long)c * h + oy) * w + x0, w, nv, v + c * WT, (long)cin * WT);
            } else {
                /* Maps smaller than one group: the inputs that exist, zeros for the rest (the
                   missing row and columns only feed outputs that are not stored). */
                const int have = 2 + ncols, inRows = rows + 2;
                memset(stage, 0, sizeof(float) * cin * 4 * STAGE_W);
                for (int c = 0; c < cin; c++)
                    for (int r = 0; r < inRows; r++)
                        memcpy(stage + (c * 4 + r) * STAGE_W, in + ((long)c * h + oy + r) * w + x0, sizeof(float) * have);
                for (int c = 0; c < cin; c++)
                    input_tf(stage + c * 4 * STAGE_W, STAGE_W, nv, v + c * WT, (long)cin * WT);
            }
            for (int kb = 0; kb < blocks; kb++) {
                products(u + (long)kb * 16 * cin * KB, v, cin, nv, bias, kb * KB, cout, m);
                if (hw) output_tf_keep(m, nv, kb * KB, cout, act, slopes, nslopes, y);
                else output_tf(m, nv, kb * KB, cout, act, slopes, nslopes, out, oh, ow, oy, rows, x0, ncols);
            }
            if (hw) head_tf(y, cout, nv, hw, hb, out, oh, ow, oy, rows, x0, ncols);
            gx = x0 + ncols;
        }
    }
}

void nn_wino3x3(const float *in, int cin, int h, int w, const float *u, const float *bias, int cout,
                int act, const float *slopes, int nslopes, float *scratch, float *out) {
    nn_wino3x3_head(in, cin, h, w, u, bias, cout, act, slopes, nslopes, NULL, NULL, scratch, out);
}

/* ---- The same transform for channels-last maps (O-Net's crops) ----
   Channels are already in the vector lanes, so both transforms are plain vector additions over
   a tile's 16 pixels. Tiles of all images are numbered in one sequence and taken CT at a time:
   transform into V [16][CT][cin], then per xi a small product V[xi] U[xi] with CT tiles x 64
   output channels in registers (the nn_conv_nhwc register shape), then the output transform. */
#define CT 12
#define NHWC_MAXC 64

long nn_wino3x3_nhwc_packed_size(int cin, int coutp) { return 16L * cin * coutp; }

void nn_wino3x3_pack_nhwc(const float *weight, int cin, int cout, int coutp, float *u) {
    memset(u, 0, sizeof(float) * nn_wino3x3_nhwc_packed_size(cin, coutp));
    for (int co = 0; co < cout; co++)
        for (int c = 0; c < cin; c++) {
            float r[16];
            kernel_tf(weight + ((long)co * cin + c) * 9, r);
            for (int xi = 0; xi < 16; xi++) u[((long)xi * cin + c) * coutp + co] = r[xi];
        }
}

/* The positions of tiles c0 .. c0 + nt - 1 of m x m outputs over maps of oh x ow outputs: image,
   nominal origin (ny, nx) and window origin (oy, ox), the nominal one moved back to end at the
   map's edge when the output size is not a multiple of m. One division for the group, then steps
   along the tile rows (a division per tile cost a tenth of R-Net's conv2). */
static inline void group_tiles(long c0, int nt, int m, int oh, int ow, long *timg, int *tny, int *tnx, int *toy, int *tox) {
    const int th = (oh + m - 1) / m, tw = (ow + m - 1) / m;
    nhwc_pos q;
    nhwc_seek(&q, c0, th, tw);
    for (int p = 0; p < nt; p++) {
        timg[p] = q.img; tny[p] = m * q.y; tnx[p] = m * q.x;
        toy[p] = tny[p] < oh - m ? tny[p] : oh - m; tox[p] = tnx[p] < ow - m ? tnx[p] : ow - m;
        nhwc_next(&q, th, tw);
    }
}

/* M[xi] = V[xi] U[xi] + (bias at xi == BXI, the element A^T M A adds to every output) for the NXI
   Winograd elements of a group of NCT tiles: register blocks of PB tiles x NQ vectors of output
   channels, the nn_conv_nhwc register shape (NAME_NQ: one function per vector count). */
#define WINO_PRODUCTS(NAME, NXI, NCT, BXI, NQ, PB)                                              \
static inline __attribute__((always_inline)) void NAME##_##NQ(const float *u, const float *v, float *m, \
                                                              int cin, int cred, const float *bias) { \
    for (int xi = 0; xi < NXI; xi++) {                                                          \
        const float *ux = u + (long)xi * cin * 16 * NQ;                                         \
        for (int p0 = 0; p0 < NCT; p0 += PB) {                                                  \
            vacc acc[PB][NQ];                                                                   \
            for (int q = 0; q < NQ; q++) {                                                      \
                vacc b0 = xi == BXI ? ld(bias + 16 * q) : (vacc){0};                           \
                for (int p = 0; p < PB; p++) acc[p][q] = b0;                                    \
            }                                                                                   \
            const float *vx = v + ((long)xi * NCT + p0) * cin;                                  \
            for (int c = 0; c < cred; c++) {                                                    \
                vacc wv[NQ];                                                                    \
                for (int q = 0; q < NQ; q++) wv[q] = ld(ux + c * 16 * NQ + 16 * q);             \
                for (int p = 0; p < PB; p++) {                                                  \
                    float x = vx[p * cin + c];                                                  \
                    for (int q = 0; q < NQ; q++) acc[p][q] += wv[q] * x;                        \
                }                                                                               \
            }                                                                                   \
            for (int p = 0; p < PB; p++)                                                        \
                for (int q = 0; q < NQ; q++) st(m + ((xi * NCT + p0 + p) * 64) + 16 * q, acc[p][q]); \
        }                                                                                       \
    }                                                                                           \
}
/* The same products for AVX2 (nn_wide_registers() == 0): one vector of output channels at a
   time over blocks of PB tiles, PB accumulators (2 * PB registers of 8 floats), for any number
   nq of output vectors; each M value sums the same terms in the same order as above. */
#define WINO_PRODUCTS_NARROW(NAME, NXI, NCT, BXI, PB)                                          \
static inline __attribute__((always_inline)) void NAME##_narrow(const float *u, const float *v, float *m, \
                                                                int cin, int cred, const float *bias, int nq) { \
    for (int xi = 0; xi < NXI; xi++) {                                                          \
        const float *ux = u + (long)xi * cin * 16 * nq;                                         \
        for (int q = 0; q < nq; q++)                                                            \
            for (int p0 = 0; p0 < NCT; p0 += PB) {                                              \
                vacc acc[PB];                                                                   \
                vacc b0 = xi == BXI ? ld(bias + 16 * q) : (vacc){0};                           \
                for (int p = 0; p < PB; p++) acc[p] = b0;                                       \
                const float *vx = v + ((long)xi * NCT + p0) * cin;                              \
                const float *uq = ux + 16 * q;                                                  \
                for (int c = 0; c < cred; c++) {                                                \
                    vacc wv = ld(uq + (long)c * 16 * nq);                                       \
                    for (int p = 0; p < PB; p++) acc[p] += wv * vx[p * cin + c];                \
                }                                                                               \
                for (int p = 0; p < PB; p++) st(m + ((xi * NCT + p0 + p) * 64) + 16 * q, acc[p]); \
            }                                                                                   \
    }                                                                                           \
}

/* F(2x2): 16 elements, M[1][1] (xi 5) carries the bias; blocks of 6 tiles. */
WINO_PRODUCTS(nhwc_products, 16, CT, 5, 4, 6)
WINO_PRODUCTS(nhwc_products, 16, CT, 5, 3, 6)
WINO_PRODUCTS(nhwc_products, 16, CT, 5, 2, 6)
WINO_PRODUCTS(nhwc_products, 16, CT, 5, 1, 6)
WINO_PRODUCTS_NARROW(nhwc_products, 16, CT, 5, 6)

/* One group of up to CT tiles starting at tile c0 (a separate inlined function: vector values
   passed directly inside a multi-versioned function's body are refused for the AVX2 clone). */
static inline __attribute__((always_inline)) void nhwc_group(const float *in, int h, int w, int cs, int cin, int cred,
                                                           const float *u, const float *bias, const float *slopes,
                                                           int coutp, int act, float *out, long c0, long t1,
                                                           float *v, float *m, int wide) {
    const int oh = h - 2, ow = w - 2;
    {
        const int nt = t1 - c0 < CT ? (int)(t1 - c0) : CT;
        long timg[CT]; int tny[CT], tnx[CT], toy[CT], tox[CT];
        group_tiles(c0, nt, 2, oh, ow, timg, tny, tnx, toy, tox);
        /* Input transform; slots past the last tile repeat it, so the products need no edge case. */
        for (int p = 0; p < CT; p++) {
            const int q = p < nt ? p : nt - 1;
            const float *base = in + (((long)timg[q] * h + toy[q]) * w + tox[q]) * cs;
            for (int cv = 0; cv < cin; cv += 16) {
                vacc t[4][4];
                for (int r = 0; r < 4; r++) {
                    const float *row = base + (long)r * w * cs + cv;
                    vacc d0 = ld(row), d1 = ld(row + cs), d2 = ld(row + 2 * cs), d3 = ld(row + 3 * cs);
                    t[r][0] = d0 - d2; t[r][1] = d1 + d2; t[r][2] = d2 - d1; t[r][3] = d1 - d3;
                }
                for (int j = 0; j < 4; j++) {
                    st(v + ((0 * 4 + j) * CT + p) * cin + cv, t[0][j] - t[2][j]);
                    st(v + ((1 * 4 + j) * CT + p) * cin + cv, t[1][j] + t[2][j]);
                    st(v + ((2 * 4 + j) * CT + p) * cin + cv, t[2][j] - t[1][j]);
                    st(v + ((3 * 4 + j) * CT + p) * cin + cv, t[1][j] - t[3][j]);
                }
            }
        }
        /* Products: 6 tiles x up to 4 vectors of output channels per register block; M[1][1]
           starts at the bias (A^T M A adds it to all four outputs). */
        if (!wide) nhwc_products_narrow(u, v, m, cin, cred, bias, coutp / 16);
        else switch (coutp) {
        case 64: nhwc_products_4(u, v, m, cin, cred, bias); break;
        case 48: nhwc_products_3(u, v, m, cin, cred, bias); break;
        case 32: nhwc_products_2(u, v, m, cin, cred, bias); break;
        default: nhwc_products_1(u, v, m, cin, cred, bias); break;
        }
        /* Output transform; a moved-back tile stores only the outputs past its nominal origin, so
           every output is written once (tiles of one map may be split between threads). */
        for (int p = 0; p < nt; p++) {
            const long img = timg[p];
            const int ny = tny[p], nx = tnx[p], oy = toy[p], ox = tox[p];
            for (int q = 0; q < coutp / 16; q++) {
                vacc q0[4], q1[4];
                for (int c = 0; c < 4; c++) {
                    const float *mp = m + ((long)p * 64) + 16 * q;
                    vacc m0 = ld(mp + (0 * 4 + c) * CT * 64), m1 = ld(mp + (1 * 4 + c) * CT * 64);
                    vacc m2 = ld(mp + (2 * 4 + c) * CT * 64), m3 = ld(mp + (3 * 4 + c) * CT * 64);
                    q0[c] = m0 + m1 + m2; q1[c] = m1 - m2 - m3;
                }
                vacc y[2][2] = {{q0[0] + q0[1] + q0[2], q0[1] - q0[2] - q0[3]},
                                {q1[0] + q1[1] + q1[2], q1[1] - q1[2] - q1[3]}};
                vacc sl = act == NN_ACT_PRELU ? ld(slopes + 16 * q) : (vacc){0}, z = {0};
                for (int r = 0; r < 2; r++)
                    for (int s2 = 0; s2 < 2; s2++) {
                        if (oy + r < ny || ox + s2 < nx) continue;
                        vacc val = y[r][s2];
                        if (act == NN_ACT_PRELU || act == NN_ACT_RELU)
                            val = __builtin_elementwise_max(val, z) + __builtin_elementwise_min(val, z) * sl;
                        st(out + (((long)img * oh + oy + r) * ow + ox + s2) * coutp + 16 * q, val);
                    }
            }
        }
    }
}

CLONES
void nn_wino3x3_nhwc(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                     const float *slopes, int coutp, int act, float *out, long t0, long t1) {
    if (h < 4 || w < 4 || cin % 16 || cin > NHWC_MAXC || cred > cin || cred < 1 || coutp % 16 || coutp > 64 || coutp <= 0 || t1 <= t0) return;
    float v[16 * CT * NHWC_MAXC] __attribute__((aligned(64)));
    float m[16 * CT * 64] __attribute__((aligned(64)));
    const int wide = nn_wide_registers();
    for (long c0 = t0; c0 < t1; c0 += CT) nhwc_group(in, h, w, cs, cin, cred, u, bias, slopes, coutp, act, out, c0, t1, v, m, wide);
}

/* ---- Winograd F(4x4, 3x3), channels-last ----
   As nn_wino3x3_nhwc with 4x4 output tiles from 6x6 input windows (Lavin & Gray's points 0, +-1,
   +-2): 36 products per tile and channel pair for 16 outputs, 2.25 per output instead of 4. The
   transforms have larger coefficients (up to 8), so results carry a little more float rounding;
   still far inside the 1e-4 the parity tests allow. V and M take 110 KB each for 12 tiles of 64
   channels: per xi the products touch 3 KB of each plus 16 KB of weights, which stays in L1. */
#define CT4 12

long nn_wino4x4_nhwc_packed_size(int cin, int coutp) { return 36L * cin * coutp; }

/* G g G^T for one 3x3 kernel and an n x 3 matrix G (n = 5 or 6), in double so the only rounding
   is the final one; r is n x n. */
static void kernel_tf_n(const double (*G)[3], int n, const float *g, float *r) {
    double t[6][3];
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) t[i][k] = G[i][0] * g[k] + G[i][1] * g[3 + k] + G[i][2] * g[6 + k];
    for (int i = 0; i < n; i++)
        for (int l = 0; l < n; l++) r[i * n + l] = (float)(t[i][0] * G[l][0] + t[i][1] * G[l][1] + t[i][2] * G[l][2]);
}

/* Channels-last Winograd weights [n * n][cin][coutp] (padding channels zero) of a [cout][cin][3][3]
   weight, transformed by G (n x 3). */
static void pack_nhwc_n(const double (*G)[3], int n, const float *weight, int cin, int cout, int coutp, float *u) {
    memset(u, 0, sizeof(float) * (size_t)n * n * cin * coutp);
    for (int co = 0; co < cout; co++)
        for (int c = 0; c < cin; c++) {
            float r[36];
            kernel_tf_n(G, n, weight + ((long)co * cin + c) * 9, r);
            for (int xi = 0; xi < n * n; xi++) u[((long)xi * cin + c) * coutp + co] = r[xi];
        }
}

/* G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
static const double G6[6][3] = {{0.25, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

void nn_wino4x4_pack_nhwc(const float *weight, int cin, int cout, int coutp, float *u) {
    pack_nhwc_n(G6, 6, weight, cin, cout, coutp, u);
}

/* B^T x for one 6-vector: rows 4 0 -5 0 1 0 / 0 -4 -4 1 1 0 / 0 4 -4 -1 1 0 / 0 -2 -1 2 1 0 /
   0 2 -1 -2 1 0 / 0 4 0 -5 0 1. */
#define BT6(x, t)                                                                                 \
    do {                                                                                          \
        vacc s12 = x[1] + x[2], d12 = x[1] - x[2], d31 = x[3] - x[1], d42 = x[4] - x[2];         \
        t[0] = 4.0f * x[0] - 5.0f * x[2] + x[4];                                                  \
        t[1] = (x[3] + x[4]) - 4.0f * s12;                                                        \
        t[2] = (x[4] - x[3]) + 4.0f * d12;                                                        \
        t[3] = d42 + 2.0f * d31;                                                                  \
        t[4] = d42 - 2.0f * d31;                                                                  \
        t[5] = 4.0f * x[1] - 5.0f * x[3] + x[5];                                                  \
    } while (0)

/* A^T m for one 6-vector: rows 1 1 1 1 1 0 / 0 1 -1 2 -2 0 / 0 1 1 4 4 0 / 0 1 -1 8 -8 1. */
#define AT6(m, y)                                                                                 \
    do {                                                                                          \
        vacc s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];         \
        y[0] = m[0] + s12 + s34;                                                                  \
        y[1] = d12 + 2.0f * d34;                                                                  \
        y[2] = s12 + 4.0f * s34;                                                                  \
        y[3] = d12 + 8.0f * d34 + m[5];                                                           \
    } while (0)

/* F(4x4): 36 elements, M[1][1] (xi 7) carries the bias; blocks of 12 tiles for 1 and 2 output
   vectors (12 and 24 accumulators, enough to cover the FMA latency), 6 for 3 and 4. */
WINO_PRODUCTS(nhwc4_products, 36, CT4, 7, 4, 6)
WINO_PRODUCTS(nhwc4_products, 36, CT4, 7, 3, 6)
WINO_PRODUCTS(nhwc4_products, 36, CT4, 7, 2, 12)
WINO_PRODUCTS(nhwc4_products, 36, CT4, 7, 1, 12)
WINO_PRODUCTS_NARROW(nhwc4_products, 36, CT4, 7, 6)

/* 16x16 transpose of 16 vectors (rows) in place: 32-bit and 64-bit interleaves within 128-bit
   lanes, then the 128-bit lanes gathered, all with constant shuffles. */
#define LANES4(a, b, k) __builtin_shufflevector(a, b, 4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3, 16 + 4 * k, 17 + 4 * k, 18 + 4 * k, 19 + 4 * k, \
                                                 0, 0, 0, 0, 0, 0, 0, 0)
static inline __attribute__((always_inline)) void transpose16(vacc r[16]) {
    vacc t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
        t[2 * i + 1] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
    }
    for (int g = 0; g < 4; g++) {
        vacc a = t[4 * g], b = t[4 * g + 1], c = t[4 * g + 2], d = t[4 * g + 3];
        u[4 * g + 0] = __builtin_shufflevector(a, c, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        u[4 * g + 1] = __builtin_shufflevector(a, c, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        u[4 * g + 2] = __builtin_shufflevector(b, d, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        u[4 * g + 3] = __builtin_shufflevector(b, d, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    }
    /* u[4g + i], 128-bit lane k: rows 4g..4g+3 of column 4k + i. */
#define COL(k, i) do {                                                                              \
        vacc lo = LANES4(u[i], u[4 + i], k), hi = LANES4(u[8 + i], u[12 + i], k);                  \
        r[4 * k + i] = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23); \
    } while (0)
    COL(0, 0); COL(0, 1); COL(0, 2); COL(0, 3); COL(1, 0); COL(1, 1); COL(1, 2); COL(1, 3);
    COL(2, 0); COL(2, 1); COL(2, 2); COL(2, 3); COL(3, 0); COL(3, 1); COL(3, 2); COL(3, 3);
#undef COL
}

/* Planar [c][hw] (c <= 16) to channels-last [hw][16], channels past c zero: 16 pixels at a time
   through transpose16. */
static inline __attribute__((always_inline)) void planar_block16(const float *in, int c, long hw, long p, float *out) {
    vacc r[16];
    for (int ch = 0; ch < 16; ch++) r[ch] = ch < c ? ld(in + ch * hw + p) : (vacc){0};
    transpose16(r);
    for (int i = 0; i < 16; i++) st(out + (p + i) * 16, r[i]);
}

CLONES
void nn_planar_to_nhwc16(const float *in, int c, long hw, float *out) {
    long p = 0;
    for (; p + 16 <= hw; p += 16) planar_block16(in, c, hw, p, out);
    for (; p < hw; p++)
        for (int ch = 0; ch < 16; ch++) out[p * 16 + ch] = ch < c ? in[ch * hw + p] : 0.0f;
}

/* ---- Winograd F(3x3, 3x3), channels-last ----
   3x3 output tiles from 5x5 windows (points 0, +-1, 2): 25 products per tile and channel pair
   for 9 outputs, 2.78 per output. Worth it where a map's side is a multiple of 3 and not of 4:
   R-Net's conv2 (9x9 outputs) takes 9 tiles either way, and F(4x4)'s 6x6 windows compute 144
   outputs for 81 (4.0 products per kept output, against 2.78 here). Shares the group code and
   the tile numbering of F(4x4) (nhwcm_group with M = 3). */
long nn_winof3_nhwc_packed_size(int cin, int coutp) { return 25L * cin * coutp; }

/* G = [1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1]. */
static const double G5[5][3] = {{0.5, 0, 0}, {-0.5, -0.5, -0.5}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 6, 1.0 / 3, 2.0 / 3}, {0, 0, 1}};

void nn_winof3_pack_nhwc(const float *weight, int cin, int cout, int coutp, float *u) {
    pack_nhwc_n(G5, 5, weight, cin, cout, coutp, u);
}

/* B^T x for one 5-vector: rows 2 -1 -2 1 0 / 0 -2 -1 1 0 / 0 2 -3 1 0 / 0 -1 0 1 0 / 0 2 -1 -2 1. */
#define BT5(x, t)                                                                                 \
    do {                                                                                          \
        vacc d31 = x[3] - x[1];                                                                   \
        t[0] = 2.0f * (x[0] - x[2]) + d31;                                                        \
        t[1] = d31 - (x[1] + x[2]);                                                               \
        t[2] = (x[3] + 2.0f * x[1]) - 3.0f * x[2];                                                \
        t[3] = d31;                                                                               \
        t[4] = (x[4] - x[2]) - 2.0f * d31;                                                        \
    } while (0)

/* A^T m for one 5-vector: rows 1 1 1 1 0 / 0 1 -1 2 0 / 0 1 1 4 1. */
#define AT5(m, y)                                                                                 \
    do {                                                                                          \
        vacc s12 = m[1] + m[2];                                                                   \
        y[0] = m[0] + s12 + m[3];                                                                 \
        y[1] = (m[1] - m[2]) + 2.0f * m[3];                                                       \
        y[2] = s12 + 4.0f * m[3] + m[4];                                                          \
    } while (0)

/* F(3x3): 25 elements, M[1][1] (xi 6) carries the bias; register blocks as F(4x4). */
WINO_PRODUCTS(nhwcf3_products, 25, CT4, 6, 4, 6)
WINO_PRODUCTS(nhwcf3_products, 25, CT4, 6, 3, 6)
WINO_PRODUCTS(nhwcf3_products, 25, CT4, 6, 2, 12)
WINO_PRODUCTS(nhwcf3_products, 25, CT4, 6, 1, 12)
WINO_PRODUCTS_NARROW(nhwcf3_products, 25, CT4, 6, 6)

/* The products of NAME (WINO_PRODUCTS / WINO_PRODUCTS_NARROW above) for this CPU's register
   blocking and the group's output channel count. */
#define DISPATCH_PRODUCTS(NAME)                                                                   \
    do {                                                                                          \
        if (!wide) NAME##_narrow(u, v, m, cin, cred, bias, coutp / 16);                          \
        else switch (coutp) {                                                                     \
        case 64: NAME##_4(u, v, m, cin, cred, bias); break;                                       \
        case 48: NAME##_3(u, v, m, cin, cred, bias); break;                                       \
        case 32: NAME##_2(u, v, m, cin, cred, bias); break;                                       \
        default: NAME##_1(u, v, m, cin, cred, bias); break;                                       \
        }                                                                                         \
    } while (0)

/* One group of up to CT4 tiles of F(M x M, 3x3), M = 4 or 3 (a constant once inlined): N x N
   input windows, N * N elements. The head (hw, P-Net's) needs M = 4: 16 pixels per tile. */
static inline __attribute__((always_inline)) void nhwcm_group(const int M, const float *in, int h, int w, int cs, int cin, int cred,
                                                            const float *u, const float *bias, const float *slopes,
                                                            int coutp, int act, float *out, long c0, long t1,
                                                            float *v, float *m, const float *hw, const float *hb, int wide) {
    const int N = M + 2;
    const int oh = h - 2, ow = w - 2;
    const int nt = t1 - c0 < CT4 ? (int)(t1 - c0) : CT4;
    long timg[CT4]; int tny[CT4], tnx[CT4], toy[CT4], tox[CT4];
    group_tiles(c0, nt, M, oh, ow, timg, tny, tnx, toy, tox);
    /* Input transform B^T d B per tile and 16-channel vector; slots past the last tile repeat it. */
    for (int p = 0; p < CT4; p++) {
        const int q = p < nt ? p : nt - 1;
        const float *base = in + (((long)timg[q] * h + toy[q]) * w + tox[q]) * cs;
        for (int cv = 0; cv < cin; cv += 16) {
            vacc s[6][6];
            for (int k = 0; k < N; k++) {
                vacc x[6], t[6];
                for (int r = 0; r < N; r++) x[r] = ld(base + ((long)r * w + k) * cs + cv);
                if (M == 4) BT6(x, t); else BT5(x, t);
                for (int i = 0; i < N; i++) s[i][k] = t[i];
            }
            for (int i = 0; i < N; i++) {
                vacc t[6];
                if (M == 4) BT6(s[i], t); else BT5(s[i], t);
                for (int l = 0; l < N; l++) st(v + ((long)(i * N + l) * CT4 + p) * cin + cv, t[l]);
            }
        }
    }
    if (M == 4) DISPATCH_PRODUCTS(nhwc4_products);
    else DISPATCH_PRODUCTS(nhwcf3_products);
    /* Output transform A^T M A, activation; a moved-back tile stores only the outputs past its
       nominal origin, so every output is written once. With a head, the tile's activations
       (16 pixels x coutp) stay in tb and the head's HEAD_OUT planar maps are written instead. */
    float tb[16 * 64] __attribute__((aligned(64)));
    for (int p = 0; p < nt; p++) {
        const long img = timg[p];
        const int ny = tny[p], nx = tnx[p], oy = toy[p], ox = tox[p];
        for (int q = 0; q < coutp / 16; q++) {
            const float *mp = m + (long)p * 64 + 16 * q;
            vacc a[6][4];
            for (int i = 0; i < N; i++) {
                vacc mm[6], y[4];
                for (int l = 0; l < N; l++) mm[l] = ld(mp + (long)(i * N + l) * CT4 * 64);
                if (M == 4) AT6(mm, y); else AT5(mm, y);
                for (int c = 0; c < M; c++) a[i][c] = y[c];
            }
            vacc sl = act == NN_ACT_PRELU ? ld(slopes + 16 * q) : (vacc){0}, z = {0};
            for (int c = 0; c < M; c++) {
                vacc col[6], y[4];
                for (int i = 0; i < N; i++) col[i] = a[i][c];
                if (M == 4) AT6(col, y); else AT5(col, y);
                for (int r = 0; r < M; r++) {
                    if (!hw && (oy + r < ny || ox + c < nx)) continue;
                    vacc val = y[r];
                    if (act == NN_ACT_PRELU || act == NN_ACT_RELU)
                        val = __builtin_elementwise_max(val, z) + __builtin_elementwise_min(val, z) * sl;
                    if (hw) st(tb + (r * 4 + c) * 64 + 16 * q, val);
                    else st(out + (((long)img * oh + oy + r) * ow + ox + c) * coutp + 16 * q, val);
                }
            }
        }
        if (M != 4 || !hw) continue;
        /* The head with the tile's 16 pixels in the lanes: each 16-channel block transposed. */
        vacc acc[HEAD_OUT];
        for (int j = 0; j < HEAD_OUT; j++) acc[j] = (vacc){0} + hb[j];
        for (int q = 0; q < coutp / 16; q++) {
            vacc col[16];
            for (int i = 0; i < 16; i++) col[i] = ld(tb + i * 64 + 16 * q);
            transpose16(col);
            for (int ch = 0; ch < 16; ch++)
                for (int j = 0; j < HEAD_OUT; j++) acc[j] += col[ch] * hw[j * coutp + 16 * q + ch];
        }
        float res[HEAD_OUT][16] __attribute__((aligned(64)));
        for (int j = 0; j < HEAD_OUT; j++) st(res[j], acc[j]);
        /* A tile in place stores its rows of 4 whole; a moved-back one only the outputs past
           its nominal origin. */
        const int c0 = nx - ox;
        for (int j = 0; j < HEAD_OUT; j++)
            for (int r = ny - oy; r < 4; r++) {
                float *o = out + (((long)img * HEAD_OUT + j) * oh + oy + r) * ow + ox;
                if (c0 == 0) memcpy(o, &res[j][r * 4], 4 * sizeof(float));
                else for (int c = c0; c < 4; c++) o[c] = res[j][r * 4 + c];
            }
    }
}

/* The tiles [t0, t1) of F(M x M, 3x3) in groups of CT4, with V and M on the stack (sized for
   M = 4, the larger); the argument checks of both public entries. */
static inline __attribute__((always_inline)) void nhwcm_tiles(const int M, const float *in, int h, int w, int cs, int cin, int cred,
                                                            const float *u, const float *bias, const float *slopes, int coutp,
                                                            int act, const float *hw, const float *hb, float *out, long t0, long t1) {
    if (h < M + 2 || w < M + 2 || cin % 16 || cin > NHWC_MAXC || cred > cin || cred < 1 || coutp % 16 || coutp > 64 || coutp <= 0 || t1 <= t0) return;
    float v[36 * CT4 * NHWC_MAXC] __attribute__((aligned(64)));
    float m[36 * CT4 * 64] __attribute__((aligned(64)));
    const int wide = nn_wide_registers();
    for (long c0 = t0; c0 < t1; c0 += CT4) nhwcm_group(M, in, h, w, cs, cin, cred, u, bias, slopes, coutp, act, out, c0, t1, v, m, hw, hb, wide);
}

CLONES
void nn_wino4x4_nhwc_head(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                          const float *slopes, int coutp, int act, const float *hw, const float *hb, float *out, long t0, long t1) {
    nhwcm_tiles(4, in, h, w, cs, cin, cred, u, bias, slopes, coutp, act, hw, hb, out, t0, t1);
}

void nn_wino4x4_nhwc(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                     const float *slopes, int coutp, int act, float *out, long t0, long t1) {
    nn_wino4x4_nhwc_head(in, h, w, cs, cin, cred, u, bias, slopes, coutp, act, NULL, NULL, out, t0, t1);
}

CLONES
void nn_winof3_nhwc(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                    const float *slopes, int coutp, int act, float *out, long t0, long t1) {
    nhwcm_tiles(3, in, h, w, cs, cin, cred, u, bias, slopes, coutp, act, NULL, NULL, out, t0, t1);
}
