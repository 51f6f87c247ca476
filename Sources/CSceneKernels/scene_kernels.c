/* The kernels declared (and described) in include/scene_kernels.h. */
#include "scene_kernels.h"

double encoda_plane_mad(const uint8_t *a, int a_stride, const uint8_t *b, int b_stride,
    int width, int height) {
    uint64_t sum = 0;
    for (int y = 0; y < height; y++) {
        const uint8_t *pa = a + (size_t)y * a_stride, *pb = b + (size_t)y * b_stride;
        for (int x = 0; x < width; x++) { int d = (int)pa[x] - (int)pb[x]; sum += (uint64_t)(d < 0 ? -d : d); }
    }
    return (double)sum / ((double)width * (double)height);
}

void encoda_luma_downscale(const uint8_t *src, int stride, int w, int h,
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

int encoda_picture_bounds(const uint8_t *p, int stride, int width, int height, int level, int *out) {
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

void encoda_rotate_plane(const uint8_t *src, int src_stride, int w, int h, int bytes,
    uint8_t *dst, int dst_stride, int degrees) {
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * src_stride;
        for (int x = 0; x < w; x++) {
            int dx, dy;
            if (degrees == 90) { dx = h - 1 - y; dy = x; }
            else if (degrees == 270) { dx = y; dy = w - 1 - x; }
            else { dx = w - 1 - x; dy = h - 1 - y; }
            uint8_t *d = dst + (size_t)dy * dst_stride + (size_t)dx * bytes;
            if (bytes == 1) d[0] = row[x];
            else { d[0] = row[2 * x]; d[1] = row[2 * x + 1]; }
        }
    }
}

