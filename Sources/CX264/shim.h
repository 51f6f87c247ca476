#ifndef ENCODA_CX264_SHIM_H
#define ENCODA_CX264_SHIM_H
#include <stdint.h>
#include <x264.h>
/* x264_encoder_open is a macro naming a build-versioned symbol; Swift cannot call a macro. */
static inline x264_t *encoda_x264_encoder_open(x264_param_t *param) { return x264_encoder_open(param); }
/* X264_BUILD is a plain integer macro, imported, but keep the library's runtime build here too. */
static inline int encoda_x264_build(void) { return X264_BUILD; }
#endif
