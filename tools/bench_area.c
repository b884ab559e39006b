/* The area-resampling kernels alone (Sources/CKernels/area.c), one thread, best of many runs:
   P-Net's whole pyramid of a 1920x1080 frame at the default scales (twelve levels in one sweep),
   and crops of square boxes of 20-320 px to R-Net's 24x24 and O-Net's 48x48. With a raw RGB24
   1920x1080 frame as argument it resamples that; otherwise a generated pattern. Prints a hash of
   the output, so a change that should keep the values bit for bit can be checked too.

     ffmpeg -v error -i out/bench/moving-crowd.mp4 -frames:v 1 -f rawvideo -pix_fmt rgb24 /tmp/frame.rgb
     clang -O2 -march=x86-64-v3 -ISources/CKernels/include tools/bench_area.c Sources/CKernels/area.c -o /tmp/bench_area -lpthread
     /tmp/bench_area /tmp/frame.rgb

   clang, as SwiftPM builds CKernels: GCC 12 at -O2 leaves the crops' column sums scalar (3-6x
   slower crops). */
#include "ckernels.h"
#include "bench_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { W = 1920, H = 1080, LEVELS = 12 };

static unsigned long long hash(const float *v, long n, unsigned long long h) {
    for (long i = 0; i < n; i++) {
        unsigned int u;
        memcpy(&u, v + i, sizeof u);
        h = (h ^ u) * 0x100000001b3ULL;
    }
    return h;
}

int main(int argc, char **argv) {
    unsigned char *px = malloc(3L * W * H);
    if (!px) return 1;
    if (argc > 1) {
        FILE *f = fopen(argv[1], "rb");
        if (!f || fread(px, 1, 3L * W * H, f) != 3L * W * H) {
            fprintf(stderr, "bench_area: %s: not a raw RGB24 1920x1080 frame\n", argv[1]);
            return 1;
        }
        fclose(f);
    } else {
        for (long i = 0; i < 3L * W * H; i++) px[i] = (unsigned char)((i * 7) ^ (i >> 11));
    }
    /* The detector's levels: scale 12 / 20, then * 0.709, sizes int(h * s + 1). */
    nn_area_level lv[LEVELS];
    double s = 0.6;
    long total = 0;
    for (int l = 0; l < LEVELS; l++, s *= 0.709) {
        lv[l].outH = (int)(H * s + 1);
        lv[l].outW = (int)(W * s + 1);
        lv[l].row0 = 0;
        lv[l].row1 = lv[l].outH;
        lv[l].planeRows = lv[l].outH;
        total += 3L * lv[l].outH * lv[l].outW;
    }
    float *levels = malloc(sizeof(float) * total);
    void *scratch = malloc(nn_area_pyramid_scratch_size(W, LEVELS, lv));
    if (!levels || !scratch) return 1;
    long off = 0;
    for (int l = 0; l < LEVELS; l++) {
        lv[l].dst = levels + off;
        off += 3L * lv[l].outH * lv[l].outW;
    }
    double best = 1e9;
    for (int r = 0; r < 30; r++) {
        double t0 = now();
        nn_area_pyramid(px, 3L * W, W, H, LEVELS, lv, scratch);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("pyramid 1920x1080, %d levels (%.1f M values): %.2f ms (hash %016llx)\n", LEVELS, total / 1e6, best * 1e3,
           hash(levels, total, 0xcbf29ce484222325ULL));

    static unsigned char cropScratch[1 << 20];
    static float out[48 * 48 * 3];
    const int sizes[] = {20, 40, 80, 160, 320};
    for (int k = 0; k < 5; k++) {
        for (int o = 24; o <= 48; o += 24) {
            if (nn_area_crop_scratch_size(sizes[k], o) > (long)sizeof cropScratch) return 1;
            double b = 1e9;
            unsigned long long h = 0xcbf29ce484222325ULL;
            for (int r = 0; r < 50; r++) {
                double t0 = now();
                for (int c = 0; c < 100; c++) {
                    int x = (c * 97) % (W - sizes[k]), y = (c * 61) % (H - sizes[k]);
                    nn_area_crop(px, 3L * W, x, y, sizes[k], sizes[k], o, o, cropScratch, out);
                    if (r == 0) h = hash(out, 3L * o * o, h);
                }
                double t = (now() - t0) / 100;
                if (t < b) b = t;
            }
            printf("crop %3d px -> %dx%d: %.2f us (hash %016llx)\n", sizes[k], o, o, b * 1e6, h);
        }
    }
    return 0;
}
