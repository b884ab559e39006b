/* The channels-last convolution microkernel shared by the detector's nn_conv_nhwc (kernels.c) and
   the classifier's fercls_conv_nhwc (classifier_kernels.c): output channels in the vector lanes,
   P pixels x CV vectors of 16 channels of accumulators in registers; per step of the reduction it
   loads CV weight vectors and broadcasts one input value per pixel. Also the channels-last
   pooling of one output row. Private to CKernels. */
#ifndef NHWC_MICROKERNEL_H
#define NHWC_MICROKERNEL_H
#include "ckernels.h"
#include <string.h>

/* Accumulator type with natural alignment, so the compiler keeps accumulators in registers (with
   a 4-byte-aligned vector type it wrote every accumulator back to the stack each step). */
typedef float nhwc_acc __attribute__((vector_size(64)));

/* Unaligned 16-float load (a macro: a function returning a 64-byte vector changes the ABI in the
   baseline clone). */
#define NHWC_LOAD(v, p) memcpy(&(v), (p), sizeof(nhwc_acc))

/* nhwc_mk_CV_P: accumulates P pixels (input offsets offs[], kernel taps koff[]) x CV vectors from
   output channel co0, activates, and leaves the result in res[p][16 * CV]. The result goes through
   res with constant indices only: a variable index into acc made the compiler keep the array on
   the stack and write every accumulator back at every step. */
#define NHWC_MK(CV, P)                                                                          \
static inline __attribute__((always_inline)) void nhwc_mk_##CV##_##P(                          \
    const float *in, const long *offs, const int *koff, int nk, int cin, const float *wpack,   \
    int coutp, int co0, const float *bias, int act, const float *slopes, float *res) {         \
    nhwc_acc acc[P][CV];                                                                        \
    for (int v = 0; v < CV; v++) {                                                              \
        nhwc_acc b;                                                                             \
        NHWC_LOAD(b, bias + co0 + 16 * v);                                                      \
        for (int p = 0; p < P; p++) acc[p][v] = b;                                              \
    }                                                                                           \
    const float *wk = wpack + co0;                                                              \
    for (int k = 0; k < nk; k++) {                                                              \
        const float *src = in + koff[k];                                                        \
        for (int ci = 0; ci < cin; ci++, wk += coutp) {                                         \
            nhwc_acc wv[CV];                                                                    \
            for (int v = 0; v < CV; v++) NHWC_LOAD(wv[v], wk + 16 * v);                         \
            for (int p = 0; p < P; p++) {                                                       \
                float x = src[offs[p] + ci];                                                    \
                for (int v = 0; v < CV; v++) acc[p][v] += wv[v] * x;                            \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    nhwc_acc z = {0};                                                                           \
    for (int v = 0; v < CV; v++) {                                                              \
        nhwc_acc sl = z;                                                                        \
        if (act == NN_ACT_PRELU) NHWC_LOAD(sl, slopes + co0 + 16 * v);                          \
        for (int p = 0; p < P; p++) {                                                           \
            nhwc_acc r = acc[p][v];                                                             \
            if (act == NN_ACT_PRELU || act == NN_ACT_RELU)                                      \
                r = __builtin_elementwise_max(r, z) + __builtin_elementwise_min(r, z) * sl;     \
            memcpy(res + (p * CV + v) * 16, &r, sizeof r);                                      \
        }                                                                                       \
    }                                                                                           \
}

/* One output row of K x K max pooling, stride s, over channels-last rows[0..K-1] (each w pixels
   of cs floats, cs a whole number of vectors) into ow pixels at out. Ceil mode lets the last
   window hang over the edge; its columns (and the caller's rows) are clamped to the last one
   instead, which repeats an element already in the window and so leaves the maximum unchanged,
   and keeps the window a compile-time K x K (fully unrolled, no branches). Shared by
   nn_maxpool_nhwc and the pool fused after the row Winograd convolution (rows_winograd.c), so
   both take each maximum in the same order. */
#define NHWC_POOL_ROW(K)                                                                        \
static inline __attribute__((always_inline)) void nhwc_pool_row_##K(                          \
    const float *const rows[K], int w, int cs, int s, int ow, float *out) {                     \
    for (int ox = 0; ox < ow; ox++) {                                                           \
        long cols[K];                                                                           \
        for (int i = 0; i < K; i++) cols[i] = (long)(ox * s + i < w ? ox * s + i : w - 1) * cs; \
        float *o = out + (long)ox * cs;                                                         \
        for (int c = 0; c < cs; c += 16) {                                                      \
            nhwc_acc m, q;                                                                      \
            NHWC_LOAD(m, rows[0] + cols[0] + c);                                                \
            for (int j = 0; j < K; j++)                                                         \
                for (int i = 0; i < K; i++) {                                                   \
                    NHWC_LOAD(q, rows[j] + cols[i] + c);                                        \
                    m = __builtin_elementwise_max(m, q);                                        \
                }                                                                               \
            memcpy(o + c, &m, sizeof m);                                                        \
        }                                                                                       \
    }                                                                                           \
}
NHWC_POOL_ROW(2)
NHWC_POOL_ROW(3)

/* Position (image, row, column) of a pixel in a map, advanced one pixel at a time: with 1 to 3
   input channels (first layers) a division per pixel cost as much as its multiply-adds. */
typedef struct { long img; int y, x; } nhwc_pos;

static inline void nhwc_seek(nhwc_pos *q, long index, int rows, int cols) {
    long per = (long)rows * cols, r = index % per;
    q->img = index / per;
    q->y = (int)(r / cols);
    q->x = (int)(r % cols);
}

static inline void nhwc_next(nhwc_pos *q, int rows, int cols) {
    if (++q->x == cols) {
        q->x = 0;
        if (++q->y == rows) { q->y = 0; q->img++; }
    }
}

#endif
