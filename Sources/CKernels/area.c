/* Area resampling of RGB24 pixels, exactly as torch.nn.functional.interpolate(mode="area")
   (adaptive average pooling): output cell i of n, from an input of m, averages input indices
   [floor(i * m / n), ceil((i + 1) * m / n)). Window sums are exact integers; torch then divides
   twice, sum / kh / kw, each rounded to float, and MTCNN normalizes, (v - 127.5) / 128.

   Both entry points build, for each output row, one row of running sums d over the window's
   rows (d[3x + c]: channel c summed over columns [0, x)), so a window's sum is two loads,
   d[3 xb + c] - d[3 xa + c]:
   - the pyramid sweeps the frame top to bottom once, keeping T, the running sums of all rows
     above, and a copy of T where each output row's window starts; the window's d is T minus
     that copy. No summed-area table of the whole frame is stored: the table cost a 25 MB
     write and its rows were read back from memory once per output row of every level, where
     these rows stay in the core's cache (1080p, all 12 levels: 19 -> 10 ms per frame with two
     cores busy, measured with the table beside it);
   - a crop (R-Net, O-Net) sums its window's rows of bytes into one row, then runs along it. */
#include "ckernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

static inline int win_lo(long i, long n, long m) { return (int)(i * m / n); }
static inline int win_hi(long i, long n, long m) { return (int)(((i + 1) * m + n - 1) / n); }

/* Column windows of an outW-wide resampling of w pixels, as offsets 3 * x into a d row, the
   reciprocals of their widths, and their widths less one (a table's index, when small). */
static void area_columns(int w, int outW, int *cols, double *rkw, uint8_t *kwi) {
    for (int j = 0; j < outW; j++) {
        int xa = win_lo(j, outW, w), xb = win_hi(j, outW, w);
        cols[2 * j] = 3 * xa;
        cols[2 * j + 1] = 3 * xb;
        rkw[j] = 1.0 / (double)(xb - xa);
        kwi[j] = (uint8_t)(xb - xa - 1 < 255 ? xb - xa - 1 : 255);
    }
}

/* Small windows, kh x kw up to TABLE_K x TABLE_K pixels (the pyramid's four finest levels at
   the default scale factor, crops of boxes up to about 6 times the net's input), hold at most
   255 * kh * kw + 1 distinct sums: each one's normalized value is computed once (area_value,
   the same arithmetic as area_store) and looked up, one load where area_store spends about
   eight instructions per value. 450 KB in all, each level touching the few tables of its
   window sizes. */
#define TABLE_K 6
static float *area_tables[TABLE_K][TABLE_K];
static pthread_once_t area_tables_once = PTHREAD_ONCE_INIT;

static inline float area_value(uint32_t sum, double rkh, double rkw) {
    float q = (float)((double)(float)sum * rkh);
    return ((float)((double)q * rkw) - 127.5f) * 0.0078125f;
}

static void area_tables_build(void) {
    long total = 0;
    for (int kh = 1; kh <= TABLE_K; kh++)
        for (int kw = 1; kw <= TABLE_K; kw++) total += 255L * kh * kw + 1;
    float *block = malloc(sizeof(float) * total);
    if (!block) return; /* the tables stay NULL: area_emit computes every value */
    for (int kh = 1; kh <= TABLE_K; kh++)
        for (int kw = 1; kw <= TABLE_K; kw++) {
            const long n = 255L * kh * kw + 1;
            for (long v = 0; v < n; v++) block[v] = area_value((uint32_t)v, 1.0 / kh, 1.0 / kw);
            area_tables[kh - 1][kw - 1] = block;
            block += n;
        }
}

/* The table of kh x kw windows, NULL when there is none. */
static inline const float *area_table(int kh, int kw) {
    if (kh > TABLE_K || kw > TABLE_K) return NULL;
    pthread_once(&area_tables_once, area_tables_build);
    return area_tables[kh - 1][kw - 1];
}

/* Whether every column window of a row is at most TABLE_K wide (then so are all of them). */
static inline int area_columns_tabled(const int *cols, int outW) {
    for (int j = 0; j < outW; j++)
        if (cols[2 * j + 1] - cols[2 * j] > 3 * TABLE_K) return 0;
    return 1;
}

/* sums / kh / kw and the normalization of one output row's window sums (sums[c * outW + j]),
   vectorized, written planar (dst + c * plane) or, with interleaved, as dst[3 j + c]. Each
   division is a product with the reciprocal in double, rounded to float, which gives torch's
   float: the sum (an integer below 2^24) and the first quotient (a float) have at most 24
   significant bits, so their exact quotient by an integer k is never a float rounding midpoint
   and lies at least 2^-24 / k (relative) from every midpoint, far more than the double product's
   error (2^-52); tested bit for bit against float division. vdivps was most of this step. */
static inline __attribute__((always_inline)) void area_store(float *sums, const double *rkw, int outW, double rkh,
                                                             float *dst, long plane, int interleaved) {
    for (int c = 0; c < 3; c++) {
        float *s = sums + c * outW, *o = interleaved ? s : dst + c * plane;
        for (int j = 0; j < outW; j++) {
            float q = (float)((double)s[j] * rkh);
            o[j] = ((float)((double)q * rkw[j]) - 127.5f) * 0.0078125f;
        }
    }
    if (interleaved)
        for (int j = 0; j < outW; j++)
            for (int c = 0; c < 3; c++) dst[3 * j + c] = sums[c * outW + j];
}

/* One output row (windows kh rows tall) from its d row: integer window sums, two scalar loads
   each (the compiler's gathers were slower), then the table lookup when `tabled` (every column
   window at most TABLE_K wide) and kh allows, else area_store. */
static inline __attribute__((always_inline)) void area_emit(const uint32_t *d, const int *cols, const uint8_t *kwi,
                                                            const double *rkw, int outW, int kh, int tabled, float *sums,
                                                            float *dst, long plane, int interleaved) {
    if (tabled && area_table(kh, 1)) {
        const float *const *tabs = (const float *const *)area_tables[kh - 1];
        for (int j = 0; j < outW; j++) {
            const int xa = cols[2 * j], xb = cols[2 * j + 1];
            const float *t = tabs[kwi[j]];
            const float r = t[d[xb] - d[xa]], g = t[d[xb + 1] - d[xa + 1]], b = t[d[xb + 2] - d[xa + 2]];
            if (interleaved) {
                dst[3 * j] = r; dst[3 * j + 1] = g; dst[3 * j + 2] = b;
            } else {
                dst[j] = r; dst[plane + j] = g; dst[2 * plane + j] = b;
            }
        }
        return;
    }
#pragma clang loop vectorize(disable)
    for (int j = 0; j < outW; j++) {
        int xa = cols[2 * j], xb = cols[2 * j + 1];
        sums[j] = (float)(uint32_t)(d[xb] - d[xa]);
        sums[outW + j] = (float)(uint32_t)(d[xb + 1] - d[xa + 1]);
        sums[2 * outW + j] = (float)(uint32_t)(d[xb + 2] - d[xa + 2]);
    }
    area_store(sums, rkw, outW, 1.0 / (double)kh, dst, plane, interleaved);
}

/* ---- Pyramid ---- */

static long align64(long n) { return (n + 63) / 64 * 64; }

long nn_area_pyramid_scratch_size(int w, int nlevels, const nn_area_level *levels) {
    long cols = 0, maxW = 1;
    for (int l = 0; l < nlevels; l++) {
        cols += levels[l].outW;
        if (levels[l].outW > maxW) maxW = levels[l].outW;
    }
    const long row = align64(4L * 3 * (w + 1));
    return (2 + 2L * nlevels) * row + 2 * align64(8 * cols) + align64(cols) + align64(4 * 3 * maxW) + align64(20L * nlevels);
}

CLONES
void nn_area_pyramid(const uint8_t *px, long stride, int w, int h, int nlevels, const nn_area_level *levels, void *scratch) {
    const long span = 3L * (w + 1), row = align64(4 * span) / 4;
    long cols = 0, maxW = 1;
    for (int l = 0; l < nlevels; l++) {
        cols += levels[l].outW;
        if (levels[l].outW > maxW) maxW = levels[l].outW;
    }
    uint32_t *T = scratch, *d = T + row, *slots = d + row;
    double *rkw = (double *)(slots + 2L * nlevels * row);
    int *colsAll = (int *)((char *)rkw + align64(8 * cols));
    uint8_t *kwiAll = (uint8_t *)colsAll + align64(8 * cols);
    float *sums = (float *)(kwiAll + align64(cols));
    /* Per level: the next row to save / emit and the ordinal of the last distinct window start
       saved / emitted (rows sharing a start, when enlarging, share its copy). At most two starts
       are pending at once: windows overlap by at most one row when shrinking, and when
       enlarging a window spans at most two rows. So two copies per level alternate. */
    int *nextSave = (int *)((char *)sums + align64(4 * 3 * maxW)), *nextEmit = nextSave + nlevels;
    int *saveOrd = nextEmit + nlevels, *emitOrd = saveOrd + nlevels, *tabled = emitOrd + nlevels;
    int k0 = h, k1 = 0;
    long off = 0;
    for (int l = 0; l < nlevels; l++) {
        const nn_area_level *L = &levels[l];
        area_columns(w, L->outW, colsAll + 2 * off, rkw + off, kwiAll + off);
        tabled[l] = area_columns_tabled(colsAll + 2 * off, L->outW);
        off += L->outW;
        nextSave[l] = nextEmit[l] = L->row0;
        saveOrd[l] = emitOrd[l] = -1;
        if (L->row0 >= L->row1) continue;
        int a = win_lo(L->row0, L->outH, h), b = win_hi(L->row1 - 1, L->outH, h);
        if (a < k0) k0 = a;
        if (b > k1) k1 = b;
    }
    memset(T, 0, sizeof(uint32_t) * span);
    for (int k = k0; k <= k1; k++) {
        if (k > k0) {
            /* T += the running sums of input row k - 1: a serial chain per channel. */
            const uint8_t *src = px + (long)(k - 1) * stride;
            uint32_t r = 0, g = 0, b = 0;
            for (int x = 0; x < w; x++) {
                r += src[3 * x]; g += src[3 * x + 1]; b += src[3 * x + 2];
                T[3 * x + 3] += r; T[3 * x + 4] += g; T[3 * x + 5] += b;
            }
        }
        off = 0;
        for (int l = 0; l < nlevels; l++) {
            const nn_area_level *L = &levels[l];
            const long n = L->outH;
            uint32_t *copies = slots + 2L * l * row;
            /* Rows whose window ends at k first: a row starting at k uses the other copy. */
            while (nextEmit[l] < L->row1 && win_hi(nextEmit[l], n, h) == k) {
                const int i = nextEmit[l], ya = win_lo(i, n, h);
                if (i == L->row0 || win_lo(i - 1, n, h) != ya) emitOrd[l]++;
                const uint32_t *top = copies + (emitOrd[l] & 1) * row;
                for (long x = 0; x < span; x++) d[x] = T[x] - top[x];
                area_emit(d, colsAll + 2 * off, kwiAll + off, rkw + off, L->outW, k - ya, tabled[l], sums,
                          L->dst + (long)(i - L->row0) * L->outW, L->planeRows * L->outW, 0);
                nextEmit[l]++;
            }
            while (nextSave[l] < L->row1 && win_lo(nextSave[l], n, h) == k) {
                const int i = nextSave[l];
                if (i == L->row0 || win_lo(i - 1, n, h) != k) {
                    saveOrd[l]++;
                    memcpy(copies + (saveOrd[l] & 1) * row, T, sizeof(uint32_t) * span);
                }
                nextSave[l]++;
            }
            off += L->outW;
        }
    }
}

/* ---- Crops ---- */

long nn_area_crop_scratch_size(int w, int outW) {
    return align64(8L * outW) + align64(8L * outW) + align64(outW) + align64(4L * 3 * outW) + align64(4L * 3 * w) + align64(4L * 3 * (w + 1));
}

CLONES
void nn_area_crop(const uint8_t *px, long stride, int x0, int y0, int w, int h, int outH, int outW, void *scratch, float *dst) {
    double *rkw = scratch;
    int *cols = (int *)((char *)rkw + align64(8L * outW));
    uint8_t *kwi = (uint8_t *)cols + align64(8L * outW);
    float *sums = (float *)(kwi + align64(outW));
    void *acc = (char *)sums + align64(4L * 3 * outW);
    uint32_t *d = (uint32_t *)((char *)acc + align64(4L * 3 * w));
    const long n = 3L * w;
    area_columns(w, outW, cols, rkw, kwi);
    const int tabled = area_columns_tabled(cols, outW);
    const uint8_t *base = px + (long)y0 * stride + 3L * x0;
    for (int i = 0; i < outH; i++) {
        const int ya = win_lo(i, outH, h), yb = win_hi(i, outH, h);
        /* The window's rows summed per column (contiguous, vectorizes): in 16 bits while a
           column's sum fits (windows of up to 257 rows, every crop in practice), twice the
           lanes of 32; then run along the row into d. */
        const uint8_t *src = base + (long)ya * stride;
        d[0] = d[1] = d[2] = 0;
        if (yb - ya <= 257) {
            uint16_t *a = acc;
            for (long x = 0; x < n; x++) a[x] = src[x];
            for (int y = ya + 1; y < yb; y++) {
                src = base + (long)y * stride;
                for (long x = 0; x < n; x++) a[x] += src[x];
            }
            for (long x = 0; x < n; x++) d[x + 3] = d[x] + a[x];
        } else {
            uint32_t *a = acc;
            for (long x = 0; x < n; x++) a[x] = src[x];
            for (int y = ya + 1; y < yb; y++) {
                src = base + (long)y * stride;
                for (long x = 0; x < n; x++) a[x] += src[x];
            }
            for (long x = 0; x < n; x++) d[x + 3] = d[x] + a[x];
        }
        area_emit(d, cols, kwi, rkw, outW, yb - ya, tabled, sums, dst + 3L * i * outW, 0, 1);
    }
}
