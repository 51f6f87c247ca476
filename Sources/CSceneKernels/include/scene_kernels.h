#ifndef ENCODA_SCENE_KERNELS_H
#define ENCODA_SCENE_KERNELS_H
/* Pixel loops of the scene pass and the picture path, in C: they run on every frame, and Swift debug builds would
   make them the bottleneck. No libav here: the callers lend plane pointers and strides. */
#include <stdint.h>
#include <stddef.h>

/* Mean absolute difference between two 8-bit planes of the same geometry. */
double encoda_plane_mad(const uint8_t *a, int a_stride, const uint8_t *b, int b_stride,
    int width, int height);

/* Block-mean downscale of an 8-bit plane (w x h) to dw x dh, block edges at floor(i * w / dw). Columns of each
   band of rows are summed first (a straight, vectorisable loop over memory in order), then folded into blocks.
   `colsum` is caller scratch of w entries. Used by the scene pass on the decoder's own luma plane, so the only
   per-frame work besides decoding is one read of the luma plane. */
void encoda_luma_downscale(const uint8_t *src, int stride, int w, int h,
    uint8_t *dst, int dw, int dh, uint32_t *colsum);

/* The non-black area of an 8-bit luma plane, for crop detection. A row (column) is picture when more than
   1/32 of its samples exceed `level`; rows are scanned inward from each edge, so the cost is small for frames
   with picture near the edges. Writes x, y, w, h into out[0..3]; returns 0 when no row is picture. */
int encoda_picture_bounds(const uint8_t *p, int stride, int width, int height, int level, int *out);

/* Turns one plane of w x h samples (`bytes` = 1 or 2 per sample) clockwise by `degrees` (90, 180, 270) into dst,
   which is h x w for a quarter turn, w x h for a half turn: the sample mapping of ffmpeg's transpose=clock,
   transpose=cclock and hflip+vflip. */
void encoda_rotate_plane(const uint8_t *src, int src_stride, int w, int h, int bytes,
    uint8_t *dst, int dst_stride, int degrees);

#endif
