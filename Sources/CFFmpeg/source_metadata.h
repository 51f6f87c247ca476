#ifndef ENCODA_SOURCE_METADATA_H
#define ENCODA_SOURCE_METADATA_H
/* What a source carries beside its pixels: display matrix, HDR10 static metadata, timecode (see
   Sources/EncodaModel/SourceMetadata.swift). */
#include <stdint.h>
#include <stddef.h>
#include <libavutil/display.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/timecode.h>
#include <libavutil/frame.h>

/* The 64-bit MPEG GOP timecode of AV_FRAME_DATA_GOP_TIMECODE as "HH:MM:SS:FF" into buf (AV_TIMECODE_STR_SIZE). */
static inline void encoda_gop_timecode_string(char *buf, const uint8_t *side_data) {
    int64_t tc;
    const uint8_t *p = side_data;
    uint8_t *q = (uint8_t *)&tc;
    for (size_t i = 0; i < sizeof(tc); i++) q[i] = p[i];
    av_timecode_make_mpeg_tc_string(buf, (uint32_t)tc);
}
#endif
