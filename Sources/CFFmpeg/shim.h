#ifndef ENCODA_CFFMPEG_SHIM_H
#define ENCODA_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include "source_metadata.h"

/* AVERROR is a function-like macro: Swift cannot import it. */
static inline int encoda_averror(int e) { return AVERROR(e); }
/* AVERROR_EOF is built with FFERRTAG, a macro Swift cannot evaluate. */
static inline int encoda_averror_eof(void) { return AVERROR_EOF; }
/* AVERROR_INVALIDDATA, same reason. */
static inline int encoda_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/* AV_NOPTS_VALUE is a cast expression macro Swift does not import. */
static inline int64_t encoda_nopts(void) { return AV_NOPTS_VALUE; }

/* Mean absolute difference between two 8-bit planes of the same geometry. A tight C loop:
   this runs for every frame of the scene pass, and Swift debug builds would make it the bottleneck. */
static inline double encoda_plane_mad(const uint8_t *a, int a_stride, const uint8_t *b, int b_stride,
                                      int width, int height) {
    uint64_t sum = 0;
    for (int y = 0; y < height; y++) {
        const uint8_t *pa = a + (size_t)y * a_stride, *pb = b + (size_t)y * b_stride;
        for (int x = 0; x < width; x++) { int d = (int)pa[x] - (int)pb[x]; sum += (uint64_t)(d < 0 ? -d : d); }
    }
    return (double)sum / ((double)width * (double)height);
}

/* Block-mean downscale of an 8-bit plane (w x h) to dw x dh, block edges at floor(i * w / dw). Columns of each
   band of rows are summed first (a straight, vectorisable loop over memory in order), then folded into blocks.
   `colsum` is caller scratch of w entries. Used by the scene pass on the decoder's own luma plane, so the only
   per-frame work besides decoding is one read of the luma plane. Same reason for C as encoda_plane_mad. */
static inline void encoda_luma_downscale(const uint8_t *src, int stride, int w, int h,
                                         uint8_t *dst, int dw, int dh, uint32_t *colsum) {
    for (int oy = 0; oy < dh; oy++) {
        int y0 = (int)((int64_t)oy * h / dh), y1 = (int)((int64_t)(oy + 1) * h / dh);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < w; x++) colsum[x] = 0;
        for (int y = y0; y < y1; y++) {
            const uint8_t *r = src + (size_t)y * stride;
            for (int x = 0; x < w; x++) colsum[x] += r[x];
        }
        for (int ox = 0; ox < dw; ox++) {
            int x0 = (int)((int64_t)ox * w / dw), x1 = (int)((int64_t)(ox + 1) * w / dw);
            if (x1 <= x0) x1 = x0 + 1;
            uint64_t sum = 0;
            for (int x = x0; x < x1; x++) sum += colsum[x];
            uint64_t n = (uint64_t)(x1 - x0) * (uint64_t)(y1 - y0);
            dst[(size_t)oy * dw + ox] = (uint8_t)((sum + n / 2) / n);
        }
    }
}

/* The non-black area of an 8-bit luma plane, for crop detection. A row (column) is picture when more than
   1/32 of its samples exceed `level`; rows are scanned inward from each edge, so the cost is small for frames
   with picture near the edges. Writes x, y, w, h into out[0..3]; returns 0 when no row is picture.
   A C loop for the same reason as encoda_plane_mad. */
static inline int encoda_picture_bounds(const uint8_t *p, int stride, int width, int height, int level, int *out) {
    int top = -1, bottom = -1, left = -1, right = -1;
    int row_min = width / 32 + 1;
    for (int y = 0; y < height && top < 0; y++) {
        const uint8_t *r = p + (size_t)y * stride; int n = 0;
        for (int x = 0; x < width; x++) n += r[x] > level;
        if (n >= row_min) top = y;
    }
    if (top < 0) return 0;
    for (int y = height - 1; y >= top && bottom < 0; y--) {
        const uint8_t *r = p + (size_t)y * stride; int n = 0;
        for (int x = 0; x < width; x++) n += r[x] > level;
        if (n >= row_min) bottom = y;
    }
    int col_min = (bottom - top + 1) / 32 + 1;
    for (int x = 0; x < width && left < 0; x++) {
        int n = 0;
        for (int y = top; y <= bottom; y++) n += p[(size_t)y * stride + x] > level;
        if (n >= col_min) left = x;
    }
    if (left < 0) return 0;
    for (int x = width - 1; x >= left && right < 0; x--) {
        int n = 0;
        for (int y = top; y <= bottom; y++) n += p[(size_t)y * stride + x] > level;
        if (n >= col_min) right = x;
    }
    out[0] = left; out[1] = top; out[2] = right - left + 1; out[3] = bottom - top + 1;
    return 1;
}

#endif
