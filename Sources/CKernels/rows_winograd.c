/* ---- 3x3 convolutions of RGB crops by Winograd along the rows (R-Net's and O-Net's conv1) ----
   With 3 input channels the 2-D Winograd transforms cost more than they save (a per-tile F(2x2)
   kernel measured 0.72x the direct one), but the 1-D algorithm along x alone is cheap: for each
   kernel row r, an output row is the 1-D correlation of input row oy + r with the kernel's row r,
   and F(4, 3) computes 4 outputs of that from 6 transformed inputs with 6 products instead of 12.
   Per 4 outputs and 16 output channels that is 6 x 9 multiply-adds plus a 12-operation output
   transform, against 4 x 27 for the direct kernel.

   Per output row: the transformed input rows D (6 values per tile, channel and input row,
   computed once per row and kept in a ring of the 3 rows an output row reads), then per vector
   of 16 output channels and block of T tiles, 6 x T accumulators over the 9 (kernel row, channel)
   steps, each step loading the 6 transformed weight vectors of its (r, c) and broadcasting
   D values from memory; then the output transform, bias, activation and stores. A row whose
   width is 2 more than a multiple of 4 (R-Net's 22, O-Net's 46) ends with one F(2, 3) tile.

   nn_rowwino_pool_nhwc also pools 3x3 / 2 as it goes: each pooled row is taken from the 3
   convolution rows just made (kept in a second ring), so the convolution's map is never stored.

   Points 0, +-1, +-2 (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015):
   the transformed weights (divided by 4, 6, 12, 24) are not exact in float, so results match
   the direct kernel to float rounding (about 1e-6 relative), not bit for bit. */
#include "ckernels.h"
#include "nhwc_microkernel.h"
#pragma clang diagnostic ignored "-Wpsabi" /* static, always-inlined vector helpers only */
#include <string.h>

typedef float vacc __attribute__((vector_size(64)));

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define CIN 3
/* Transformed weights per (kernel row, channel): 6 of F(4, 3), then 4 of F(2, 3). */
#define UK 10

static inline __attribute__((always_inline)) vacc ldv(const float *p) { vacc v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void stv(float *p, vacc v) { memcpy(p, &v, sizeof v); }

static inline __attribute__((always_inline)) vacc activate(vacc y, int act, vacc slope) {
    const vacc z = {0};
    if (act == NN_ACT_PRELU || act == NN_ACT_RELU) y = __builtin_elementwise_max(y, z) + __builtin_elementwise_min(y, z) * slope;
    return y;
}

long nn_rowwino_nhwc_packed_size(int coutp) { return (long)UK * 3 * CIN * coutp; }

/* u[(k * 3 + r) * CIN + c][coutp], k < 6: G g of F(4, 3) for weight row g = w[o][c][r][0..2];
   then the same at offset 18 * CIN * coutp for F(2, 3)'s 4. Computed in double, rounded once. */
void nn_rowwino_pack_nhwc(const float *weight, int cout, int coutp, float *u) {
    memset(u, 0, sizeof(float) * nn_rowwino_nhwc_packed_size(coutp));
    float *u2 = u + 18L * CIN * coutp;
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < CIN; c++)
            for (int r = 0; r < 3; r++) {
                const float *g = weight + ((o * CIN + c) * 3 + r) * 3;
                const double g0 = g[0], g1 = g[1], g2 = g[2];
                const double f4[6] = {g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6,
                                      g0 / 24 + g1 / 12 + g2 / 6, g0 / 24 - g1 / 12 + g2 / 6, g2};
                const double f2[4] = {g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2};
                for (int k = 0; k < 6; k++) u[((k * 3 + r) * CIN + c) * (long)coutp + o] = (float)f4[k];
                for (int k = 0; k < 4; k++) u2[((k * 3 + r) * CIN + c) * (long)coutp + o] = (float)f2[k];
            }
}

/* One input row (cs floats per pixel) into D: per F(4, 3) tile 6 x CIN values B^T d, then the
   F(2, 3) tile's 4 x CIN when `tail`. */
static inline __attribute__((always_inline)) void transform_row(const float *row, int cs, int tiles, int tail, float *d) {
    for (int t = 0; t < tiles; t++, d += 6 * CIN) {
        const float *p = row + 4L * t * cs;
        for (int c = 0; c < CIN; c++) {
            const float d0 = p[c], d1 = p[cs + c], d2 = p[2 * cs + c], d3 = p[3 * cs + c], d4 = p[4 * cs + c], d5 = p[5 * cs + c];
            d[c] = 4 * d0 - 5 * d2 + d4;
            d[CIN + c] = d3 + d4 - 4 * (d1 + d2);
            d[2 * CIN + c] = 4 * (d1 - d2) - d3 + d4;
            d[3 * CIN + c] = d4 - d2 - 2 * (d1 - d3);
            d[4 * CIN + c] = d4 - d2 + 2 * (d1 - d3);
            d[5 * CIN + c] = 4 * d1 - 5 * d3 + d5;
        }
    }
    if (tail) {
        const float *p = row + 4L * tiles * cs;
        for (int c = 0; c < CIN; c++) {
            const float d0 = p[c], d1 = p[cs + c], d2 = p[2 * cs + c], d3 = p[3 * cs + c];
            d[c] = d0 - d2; d[CIN + c] = d1 + d2; d[2 * CIN + c] = d2 - d1; d[3 * CIN + c] = d1 - d3;
        }
    }
}

/* T F(4, 3) tiles of one output row for output channels co..co+15: rows[r] is the transformed
   input row oy + r at the block's first tile. */
#define ROWWINO_TILES(T)                                                                           \
static inline __attribute__((always_inline)) void tiles_##T(const float *const rows[3], const float *u, int coutp, \
    int co, vacc bias, int act, vacc slope, float *out) {                                          \
    vacc a[T][6];                                                                                  \
    const vacc z = {0};                                                                            \
    for (int t = 0; t < T; t++)                                                                    \
        for (int k = 0; k < 6; k++) a[t][k] = z;                                                   \
    for (int r = 0; r < 3; r++)                                                                    \
        for (int c = 0; c < CIN; c++) {                                                            \
            vacc wv[6];                                                                            \
            for (int k = 0; k < 6; k++) wv[k] = ldv(u + ((k * 3 + r) * CIN + c) * (long)coutp + co); \
            for (int t = 0; t < T; t++)                                                            \
                for (int k = 0; k < 6; k++) a[t][k] += wv[k] * rows[r][(t * 6 + k) * CIN + c];    \
        }                                                                                          \
    for (int t = 0; t < T; t++) {                                                                  \
        const vacc s12 = a[t][1] + a[t][2], d12 = a[t][1] - a[t][2];                               \
        const vacc s34 = a[t][3] + a[t][4], d34 = a[t][3] - a[t][4];                               \
        float *o = out + 4L * t * coutp + co;                                                      \
        stv(o, activate(a[t][0] + s12 + s34 + bias, act, slope));                                  \
        stv(o + coutp, activate(d12 + 2 * d34 + bias, act, slope));                                \
        stv(o + 2L * coutp, activate(s12 + 4 * s34 + bias, act, slope));                           \
        stv(o + 3L * coutp, activate(d12 + 8 * d34 + a[t][5] + bias, act, slope));                 \
    }                                                                                              \
}
ROWWINO_TILES(1)
ROWWINO_TILES(2)
ROWWINO_TILES(3)
ROWWINO_TILES(4)

/* The F(2, 3) tile ending a row: 2 outputs. */
static inline __attribute__((always_inline)) void tail_tile(const float *const rows[3], const float *u2, int coutp, int co,
                                                            vacc bias, int act, vacc slope, float *out) {
    vacc a[4] = {{0}, {0}, {0}, {0}};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < CIN; c++)
            for (int k = 0; k < 4; k++) a[k] += ldv(u2 + ((k * 3 + r) * CIN + c) * (long)coutp + co) * rows[r][k * CIN + c];
    stv(out + co, activate(a[0] + a[1] + a[2] + bias, act, slope));
    stv(out + coutp + co, activate(a[1] - a[2] - a[3] + bias, act, slope));
}

/* One output row from the transformed input rows oy..oy+2 (rows[]), all channels, into o. */
static inline __attribute__((always_inline)) void conv_row(const float *const rows[3], int tiles, int tail, const float *u,
                                                           const float *bias, const float *slopes, int coutp, int act, int wide,
                                                           float *o) {
    const float *u2 = u + 18L * CIN * coutp;
    for (int co = 0; co < coutp; co += 16) {
        const vacc b = ldv(bias + co), sl = act == NN_ACT_PRELU ? ldv(slopes + co) : (vacc){0};
        int t = 0;
        if (wide) {
            for (; t + 4 <= tiles; t += 4) {
                const float *at[3] = {rows[0] + t * 6 * CIN, rows[1] + t * 6 * CIN, rows[2] + t * 6 * CIN};
                tiles_4(at, u, coutp, co, b, act, sl, o + 4L * t * coutp);
            }
            const float *at[3] = {rows[0] + t * 6 * CIN, rows[1] + t * 6 * CIN, rows[2] + t * 6 * CIN};
            switch (tiles - t) {
            case 3: tiles_3(at, u, coutp, co, b, act, sl, o + 4L * t * coutp); break;
            case 2: tiles_2(at, u, coutp, co, b, act, sl, o + 4L * t * coutp); break;
            case 1: tiles_1(at, u, coutp, co, b, act, sl, o + 4L * t * coutp); break;
            default: break;
            }
        } else {
            for (; t < tiles; t++) {
                const float *at[3] = {rows[0] + t * 6 * CIN, rows[1] + t * 6 * CIN, rows[2] + t * 6 * CIN};
                tiles_1(at, u, coutp, co, b, act, sl, o + 4L * t * coutp);
            }
        }
        if (tail) {
            const float *at[3] = {rows[0] + tiles * 6 * CIN, rows[1] + tiles * 6 * CIN, rows[2] + tiles * 6 * CIN};
            tail_tile(at, u2, coutp, co, b, act, sl, o + 4L * tiles * coutp);
        }
    }
}

/* Where a ring of the last 3 rows made (rows below `next` of image `img`) stands: makes it
   ready to go on from row `first` of image i, starting over when the image changes or the ring
   holds none of the rows wanted (rows are asked for in order, so this is rare). */
static inline __attribute__((always_inline)) void ring_seek(long *img, int *next, long i, int first) {
    if (i != *img || first > *next || first < *next - 3) { *img = i; *next = first; }
}

/* The transformed input rows of one image, 3 at a time in a ring: `prepare` makes rows y..y+2
   present, transforming only those not already there (output rows run in order). */
typedef struct {
    float d[3][(NN_ROWWINO_MAXW / 4 + 1) * 6 * CIN];
    long img;
    int next; /* the next input row of image img to transform */
} input_ring;

static inline __attribute__((always_inline)) void prepare(input_ring *r, const float *in, long i, int y, int h, int w, int cs,
                                                          int tiles, int tail, const float *rows[3]) {
    ring_seek(&r->img, &r->next, i, y);
    const float *src = in + i * h * w * cs;
    for (; r->next <= y + 2; r->next++) transform_row(src + (long)r->next * w * cs, cs, tiles, tail, r->d[r->next % 3]);
    for (int k = 0; k < 3; k++) rows[k] = r->d[(y + k) % 3];
}

/* The body of nn_rowwino_nhwc, inlined into each clone (a 16-float vector may cross a call only
   inside an AVX-512 function). */
static inline __attribute__((always_inline)) void rowwino(const float *in, int h, int w, int cs, const float *u, const float *bias,
                                                          const float *slopes, int coutp, int act, float *out, long r0, long r1) {
    const int oh = h - 2, ow = w - 2, tiles = ow / 4, tail = ow % 4 == 2;
    if (h < 3 || ow < 2 || ow % 2 || w > NN_ROWWINO_MAXW || cs < CIN || coutp <= 0 || coutp % 16 || r1 <= r0) return;
    input_ring ring = {.img = -1, .next = 0};
    /* Blocks of 4 tiles (24 accumulators) with AVX-512's 32 registers; with AVX2's 16 (two per
       vector) one tile's 6 accumulators already take 12. */
    const int wide = nn_wide_registers();
    for (long row = r0; row < r1; row++) {
        const float *rows[3];
        prepare(&ring, in, row / oh, (int)(row % oh), h, w, cs, tiles, tail, rows);
        conv_row(rows, tiles, tail, u, bias, slopes, coutp, act, wide, out + row * ow * coutp);
    }
}

/* The body of nn_rowwino_pool_nhwc: each pooled row's 3 convolution rows are made into a ring
   (the last one kept for the next pooled row, whose window starts there) and pooled at once,
   while they are in L1; the convolution's map is never stored. */
static inline __attribute__((always_inline)) void rowwino_pool(const float *in, int h, int w, int cs, const float *u,
                                                               const float *bias, const float *slopes, int coutp, int act,
                                                               int ph, int pw, float *out, long p0, long p1) {
    const int oh = h - 2, ow = w - 2, tiles = ow / 4, tail = ow % 4 == 2;
    if (h < 3 || ow < 2 || ow % 2 || w > NN_ROWWINO_MAXW || cs < CIN || coutp <= 0 || coutp % 16 || (long)ow * coutp > NN_ROWWINO_POOL_ROW ||
        ph < 1 || pw < 1 || 2 * (ph - 1) > oh - 1 || 2 * (pw - 1) > ow - 1 || p1 <= p0)
        return;
    input_ring ring = {.img = -1, .next = 0};
    float conv[3][NN_ROWWINO_POOL_ROW];
    long convImg = -1;
    int convNext = 0; /* the next convolution row of image convImg to make */
    const int wide = nn_wide_registers();
    for (long prow = p0; prow < p1; prow++) {
        const long i = prow / ph;
        const int py = (int)(prow % ph), y0 = 2 * py, y1 = y0 + 2 < oh ? y0 + 2 : oh - 1;
        ring_seek(&convImg, &convNext, i, y0);
        for (; convNext <= y1; convNext++) {
            const float *rows[3];
            prepare(&ring, in, i, convNext, h, w, cs, tiles, tail, rows);
            conv_row(rows, tiles, tail, u, bias, slopes, coutp, act, wide, conv[convNext % 3]);
        }
        /* 3x3 windows, stride 2, as nn_maxpool_nhwc takes them: the last row clamped to the map
           here, the last column in nhwc_pool_row_3 (a repeated element leaves the maximum
           unchanged), as MaxPool2D's ceil mode clips them. */
        const float *rows[3] = {conv[y0 % 3], conv[(y0 + 1 <= y1 ? y0 + 1 : y1) % 3], conv[y1 % 3]};
        nhwc_pool_row_3(rows, ow, coutp, 2, pw, out + prow * pw * coutp);
    }
}

CLONES
void nn_rowwino_nhwc(const float *in, int h, int w, int cs, const float *u, const float *bias, const float *slopes,
                     int coutp, int act, float *out, long r0, long r1) {
    rowwino(in, h, w, cs, u, bias, slopes, coutp, act, out, r0, r1);
}

CLONES
void nn_rowwino_pool_nhwc(const float *in, int h, int w, int cs, const float *u, const float *bias, const float *slopes,
                          int coutp, int act, int ph, int pw, float *out, long p0, long p1) {
    rowwino_pool(in, h, w, cs, u, bias, slopes, coutp, act, ph, pw, out, p0, p1);
}
