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
/* AVERROR_DECODER_NOT_FOUND, same reason. */
static inline int encoda_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
/* AV_NOPTS_VALUE is a cast expression macro Swift does not import. */
static inline int64_t encoda_nopts(void) { return AV_NOPTS_VALUE; }

#endif
