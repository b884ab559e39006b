#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>
/* Small dense kernels for the NeuralNet runtime, plain C compiled -O3 with per-CPU clones
   (AVX-512, AVX2+FMA, baseline) chosen at load time. No allocation, no threads: callers own both. */

/* Readable floats every input buffer of nn_conv2d_direct must have after its last element:
   the kernel loads whole 16-lane vectors and discards the lanes past a row's end. */
#define NN_INPUT_SLACK 16

enum { NN_ACT_NONE = 0, NN_ACT_RELU = 1, NN_ACT_PRELU = 2 };

/* Register blocking of the channels-last and Winograd microkernels. They hold 16-lane vectors;
   with AVX-512 (32 registers of 16 floats) a block keeps 24 of them as accumulators, while with
   AVX2 (16 registers of 8 floats, two per vector) that block spills to the stack on every step,
   so AVX2 machines get blocks of 6 vectors (12 registers). Both orders of work are the same per
   output value, so the results are bit for bit the same. nn_wide_registers() is 1 when the CPU
   has AVX-512F, 0 otherwise, unless nn_set_wide_registers(0 or 1) chose one (tests run both;
   -1 returns to the CPU's choice). */
int nn_wide_registers(void);
void nn_set_wide_registers(int wide);

/* Valid (unpadded) stride-1 convolution of one image.
   in [cin][h][w] (+ NN_INPUT_SLACK floats), weight [cout][cin][kh][kw], bias [cout],
   out [cout][h-kh+1][w-kw+1]. act: NN_ACT_*; slopes has cout entries (or 1 when nslopes == 1). */
void nn_conv2d_direct(const float *in, int cin, int h, int w,
                      const float *weight, const float *bias, int cout, int kh, int kw,
                      int act, const float *slopes, int nslopes, float *out);

/* Max pooling without padding over `planes` planes [h][w] to [oh][ow]; window k, stride s,
   windows clipped at the border (ceil mode when oh/ow were rounded up). */
void nn_maxpool(const float *in, int planes, int h, int w, int k, int s, int oh, int ow, float *out);

/* Channels-last valid stride-1 convolution over a batch of n images [h][w][cs] (channels
   0..cin-1 used), output channels vectorized. wpack is [kh][kw][cin][coutp] (coutp a multiple
   of 16, zero columns past the real output channels), bias and slopes [coutp]. Writes output
   pixels [p0, p1) of the flattened n x (h-kh+1) x (w-kw+1) map into out [pixel][coutp]. A dense
   layer is the 1x1 case with h = w = 1. kh * kw <= 64. */
void nn_conv_nhwc(const float *in, int h, int w, int cs, int cin,
                  const float *wpack, const float *bias, const float *slopes, int coutp,
                  int kh, int kw, int act, float *out, long p0, long p1);

/* Channels-last max pooling of n images [h][w][cs] to [oh][ow][cs], windows clipped. */
void nn_maxpool_nhwc(const float *in, int n, int h, int w, int cs, int k, int s, int oh, int ow, float *out);

/* 3x3 valid convolution (as nn_conv2d_direct) followed by 2x2 stride-2 max pooling with windows
   clipped at the border, without storing the convolution: h rows of in [cin][planeRows][w]
   (planeRows >= h; + NN_INPUT_SLACK floats past the last plane), out [cout][ph][pw], tmp
   2 * cout * (w - 2) + NN_INPUT_SLACK floats of scratch. With 1-4 input and 1-16 output channels
   each pooling window is one Winograd F(2x2, 3x3) tile: the results match the direct
   convolution to float rounding, not bit for bit. */
void nn_conv_pool2(const float *in, int cin, int h, int planeRows, int w, const float *weight, const float *bias, int cout,
                   int act, const float *slopes, int nslopes, int ph, int pw, float *tmp, float *out);

/* 3x3 valid stride-1 convolution by Winograd F(2x2, 3x3), same contract as nn_conv2d_direct
   for kh = kw = 3 but needing no slack after the input: in [cin][h][w], out [cout][h-2][w-2].
   u holds nn_wino3x3_packed_size floats filled once by nn_wino3x3_pack from weight
   [cout][cin][3][3]; scratch holds nn_wino3x3_scratch_size(cin) floats (one per thread).
   Results match the direct kernel to float rounding, not bit for bit. */
long nn_wino3x3_packed_size(int cin, int cout);
long nn_wino3x3_scratch_size(int cin);
void nn_wino3x3_pack(const float *weight, int cin, int cout, float *u);
void nn_wino3x3(const float *in, int cin, int h, int w, const float *u, const float *bias, int cout,
                int act, const float *slopes, int nslopes, float *scratch, float *out);
/* nn_wino3x3 followed by a 1x1 convolution of its activations to 6 outputs (weights hw [6][cout],
   bias hb [6], no activation; P-Net's two heads), fused: the 3x3 layer's map is never written,
   out is [6][h - 2][w - 2]. cout at most 64. */
void nn_wino3x3_head(const float *in, int cin, int h, int w, const float *u, const float *bias, int cout,
                     int act, const float *slopes, int nslopes, const float *hw, const float *hb,
                     float *scratch, float *out);

/* The same for channels-last maps, as nn_conv_nhwc: n images [h][w][cs] (channels 0..cin-1 read,
   cin a multiple of 16 and <= 64), output [pixel][coutp], coutp 16, 32, 48 or 64 (zero padding channels),
   h, w >= 4. Tiles (2x2 outputs) of all images numbered in one sequence, ((h-1)/2) * ((w-1)/2)
   per image; writes the outputs of tiles [t0, t1), each output once. u from nn_wino3x3_pack_nhwc:
   [16][cin][coutp]. bias and slopes [coutp]. Only input channels 0..cred-1 carry weights (the
   rest of the cin, rounded up to whole vectors, are transformed but skipped in the products).
   Uses about 100 KB of stack. */
long nn_wino3x3_nhwc_packed_size(int cin, int coutp);
void nn_wino3x3_pack_nhwc(const float *weight, int cin, int cout, int coutp, float *u);
void nn_wino3x3_nhwc(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                     const float *slopes, int coutp, int act, float *out, long t0, long t1);

/* Winograd F(4x4, 3x3) for the same channels-last maps and arguments: 4x4 output tiles (h, w at
   least 6), tiles numbered per image in rows of ceil((w - 2) / 4). u from nn_wino4x4_pack_nhwc:
   [36][cin][coutp]. Uses about 220 KB of stack. */
long nn_wino4x4_nhwc_packed_size(int cin, int coutp);
void nn_wino4x4_pack_nhwc(const float *weight, int cin, int cout, int coutp, float *u);
void nn_wino4x4_nhwc(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                     const float *slopes, int coutp, int act, float *out, long t0, long t1);
/* Winograd F(3x3, 3x3) for the same maps and arguments: 3x3 output tiles (h, w at least 5),
   tiles numbered per image in rows of ceil((w - 2) / 3). u from nn_winof3_pack_nhwc:
   [25][cin][coutp]. Uses about 220 KB of stack (the F(4x4) buffers). */
long nn_winof3_nhwc_packed_size(int cin, int coutp);
void nn_winof3_pack_nhwc(const float *weight, int cin, int cout, int coutp, float *u);
void nn_winof3_nhwc(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                    const float *slopes, int coutp, int act, float *out, long t0, long t1);
/* nn_wino4x4_nhwc followed by a 1x1 convolution of its activations to 6 outputs (weights hw
   [6][coutp], padding columns zero; bias hb [6]; no activation), fused per tile: the 3x3 layer's
   map is never written, out is planar [n][6][h - 2][w - 2]. (P-Net's conv3 and heads.) */
void nn_wino4x4_nhwc_head(const float *in, int h, int w, int cs, int cin, int cred, const float *u, const float *bias,
                          const float *slopes, int coutp, int act, const float *hw, const float *hb, float *out, long t0, long t1);

/* 3x3 valid stride-1 convolution of 3-channel channels-last maps (RGB crops: R-Net's and O-Net's
   conv1) by Winograd F(4, 3) along the rows only (rows_winograd.c): n images [h][w][cs] (channels
   0..2 read), output [n][h - 2][w - 2][coutp] as nn_conv_nhwc; writes output rows [r0, r1) of the
   flattened n x (h - 2) rows. Needs w - 2 even, w <= NN_ROWWINO_MAXW, h >= 3; does nothing
   otherwise. u from nn_rowwino_pack_nhwc (weight [cout][3][3][3]); bias, slopes [coutp]. Results
   match the direct kernel to float rounding, not bit for bit. Uses about 30 KB of stack. */
#define NN_ROWWINO_MAXW 512
long nn_rowwino_nhwc_packed_size(int coutp);
void nn_rowwino_pack_nhwc(const float *weight, int cout, int coutp, float *u);
void nn_rowwino_nhwc(const float *in, int h, int w, int cs, const float *u, const float *bias, const float *slopes,
                     int coutp, int act, float *out, long r0, long r1);
/* nn_rowwino_nhwc followed by 3x3 stride-2 max pooling in ceil mode (windows clipped at the
   map's edge; R-Net's and O-Net's first pool), without storing the convolution: output
   [n][ph][pw][coutp], window py covering convolution rows 2 py .. 2 py + 2 (the same for
   columns; each window must start inside the map); writes pooled rows [p0, p1) of the
   flattened n x ph rows. Also needs (w - 2) * coutp <= NN_ROWWINO_POOL_ROW; does nothing
   otherwise. Uses about 80 KB of stack. */
#define NN_ROWWINO_POOL_ROW 4096
void nn_rowwino_pool_nhwc(const float *in, int h, int w, int cs, const float *u, const float *bias, const float *slopes,
                          int coutp, int act, int ph, int pw, float *out, long p0, long p1);

/* Planar [c][hw] maps (c <= 16) to channels-last [hw][16], channels c..15 zero. */
void nn_planar_to_nhwc16(const float *in, int c, long hw, float *out);

/* ---- Area resampling of RGB24 pixels (area.c): torch interpolate(mode="area"), then
   (v - 127.5) / 128, bit for bit ---- */

/* One level of a pyramid pass: output rows [row0, row1) of the frame resampled to outH x outW,
   written planar at dst: row i of channel c at dst + (c * planeRows + i - row0) * outW. */
typedef struct {
    int outH, outW, row0, row1;
    long planeRows;
    float *dst;
} nn_area_level;

/* Bytes of scratch nn_area_pyramid needs for these levels of a frame w pixels wide. */
long nn_area_pyramid_scratch_size(int w, int nlevels, const nn_area_level *levels);
/* Every level's rows from the w x h frame px (RGB24, rows stride bytes apart), in one pass
   from the first row a window starts at to the last one ends at. */
void nn_area_pyramid(const uint8_t *px, long stride, int w, int h, int nlevels, const nn_area_level *levels, void *scratch);

/* Bytes of scratch nn_area_crop needs for a region w pixels wide resampled to outW columns. */
long nn_area_crop_scratch_size(int w, int outW);
/* The region (x0, y0, w, h) of the frame px resampled to outH x outW, channels-last:
   dst [outH][outW][3]. */
void nn_area_crop(const uint8_t *px, long stride, int x0, int y0, int w, int h, int outH, int outW, void *scratch, float *dst);

/* Keeps glibc from returning large freed buffers to the kernel (mmap threshold 256 MiB, trim
   threshold 512 MiB) so per-layer activation buffers are reused instead of faulted in again. */
void nn_configure_allocator(void);

/* ---- Emotion classifier, whole network channels-last (classifier_kernels.c) ----
   Maps are [image][rows][cols][channel stride]; consecutive images inImg / outImg floats apart. */

/* Valid stride-1 convolution of images [h][w][cs] (channels 0..cin-1 read; h, w include any
   zero border the layout carries), weights packed as for nn_conv_nhwc (wpack [kh][kw][cin][coutp],
   bias and slopes [coutp], coutp a multiple of 16). Output pixel (img, y, x) is written with
   channel stride coutp at out + img * outImg + ((y + outPad) * outW + x + outPad) * coutp, so
   it lands inside a buffer whose border of outPad pixels (the next layer's zero padding) is left
   alone. With pool = 1 the activated output is max-pooled 2x2 / stride 2 (floor) first and
   (y, x) index the pooled map. Writes output positions [p0, p1) of the flattened
   n x rows x cols output (rows, cols: the conv's, or the pooled map's). kh * kw <= 64. */
void fercls_conv_nhwc(const float *in, long inImg, int h, int w, int cs, int cin,
                      const float *wpack, const float *bias, const float *slopes, int coutp,
                      int kh, int kw, int act, float *out, long outImg, int outW, int outPad,
                      int pool, long p0, long p1);

/* The same convolution for a 3x3 kernel with the input carrying its 1-pixel zero border (h, w
   padded; h - 2 and w - 2 even), by Winograd F(2x2, 3x3): u is [16][cs][coutp] (G g G^T per
   channel pair, component-major; rows past the real input channels zero), cs and coutp multiples of 16.
   n images; scratch vbuf 16 * chunk * cs and mbuf 16 * chunk * coutp floats; zeros coutp zeros.
   pool as above (the 2x2 output tile is the pooling window). Computes tiles [tbegin, tend) of the
   n x (h - 2) / 2 x (w - 2) / 2 tiles (pooled positions when pooling). */
void fercls_winograd3x3(const float *in, long inImg, int h, int w, int cs,
                        const float *u, const float *bias, const float *slopes, int coutp, int act,
                        float *out, long outImg, int outW, int outPad, int pool, long n,
                        float *vbuf, float *mbuf, int chunk, const float *zeros, long tbegin, long tend);

/* Max pooling (window k, stride s, windows clipped at the border) of n images [h][w][cs] into
   the interior of zero-bordered [..][outW][cs] maps (as fercls_conv_nhwc writes). */
void fercls_maxpool_nhwc(const float *in, long inImg, int h, int w, int cs, int k, int s, int oh, int ow,
                         float *out, long outImg, int outW, int outPad, long n);

/* Mean over the hw pixels of each of n images [hw][cs] into out [n][cs]. */
void fercls_global_avg_nhwc(const float *in, long inImg, int hw, int cs, float *out, long n);

#endif
