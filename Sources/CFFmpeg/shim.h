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

/* mallopt(M_MMAP_THRESHOLD, bytes) on glibc (a no-op elsewhere): <malloc.h> is not part of Swift's Glibc module.
   Returns 1 when the setting was applied. */
#if defined(__GLIBC__)
#include <malloc.h>
static inline int encoda_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
/* mallopt(M_TRIM_THRESHOLD, bytes): how much free memory at the top of the heap is kept instead of returned. */
static inline int encoda_set_trim_threshold(int bytes) { return mallopt(M_TRIM_THRESHOLD, bytes); }
/* mallopt(M_ARENA_MAX, n): at most n malloc arenas, so threads share the main heap instead of each getting one. */
static inline int encoda_set_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }
/* malloc_trim(0): gives the free memory of the heap back to the system. */
static inline int encoda_release_free_memory(void) { return malloc_trim(0); }
#else
static inline int encoda_set_mmap_threshold(int bytes) { (void)bytes; return 0; }
static inline int encoda_set_trim_threshold(int bytes) { (void)bytes; return 0; }
static inline int encoda_set_arena_max(int n) { (void)n; return 0; }
static inline int encoda_release_free_memory(void) { return 0; }
#endif

/* Starts writeback of every dirty page of an open file without waiting for it:
   sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE). Swift's Glibc module does not declare it (it needs
   _GNU_SOURCE), so the system call is made directly. A no-op returning 0 where it does not exist. */
#include <sys/syscall.h>
#include <unistd.h>
static inline int encoda_start_writeback(int fd) {
#if defined(__linux__) && defined(SYS_sync_file_range)
    return (int)syscall(SYS_sync_file_range, fd, (long long)0, (long long)0, 2u);
#else
    (void)fd; return 0;
#endif
}

#endif
