#ifndef ENCODA_SOURCE_METADATA_H
#define ENCODA_SOURCE_METADATA_H
/* What a source carries beside its pixels: display matrix, HDR10 static metadata, timecode (see
   Sources/EncodaModel/SourceMetadata.swift), and the plane rotation used where OUTPUT's container cannot carry
   a rotation. */
#include <stdint.h>
#include <stddef.h>
#include <libavutil/display.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/timecode.h>
#include <libavutil/frame.h>

/* Turns one plane of w x h samples (`bytes` = 1 or 2 per sample) clockwise by `degrees` (90, 180, 270) into dst,
   which is h x w for a quarter turn, w x h for a half turn: the sample mapping of ffmpeg's transpose=clock,
   transpose=cclock and hflip+vflip. A plain loop in C for the same reason as encoda_plane_mad. */
static inline void encoda_rotate_plane(const uint8_t *src, int src_stride, int w, int h, int bytes,
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

/* The 64-bit MPEG GOP timecode of AV_FRAME_DATA_GOP_TIMECODE as "HH:MM:SS:FF" into buf (AV_TIMECODE_STR_SIZE). */
static inline void encoda_gop_timecode_string(char *buf, const uint8_t *side_data) {
    int64_t tc;
    const uint8_t *p = side_data;
    uint8_t *q = (uint8_t *)&tc;
    for (size_t i = 0; i < sizeof(tc); i++) q[i] = p[i];
    av_timecode_make_mpeg_tc_string(buf, (uint32_t)tc);
}
#endif
