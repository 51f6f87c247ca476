#ifndef ENCODA_CX264_SHIM_H
#define ENCODA_CX264_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <x264.h>
/* x264_encoder_open is a macro naming a build-versioned symbol; Swift cannot call a macro. */
static inline x264_t *encoda_x264_encoder_open(x264_param_t *param) { return x264_encoder_open(param); }
/* X264_BUILD is a plain integer macro, imported, but keep the library's runtime build here too. */
static inline int encoda_x264_build(void) { return X264_BUILD; }
/* The full version the headers were made with ("0.164.3095 baee400"); X264_POINTVER is in x264_config.h. */
static inline const char *encoda_x264_pointver(void) {
#ifdef X264_POINTVER
    return X264_POINTVER;
#else
    return "";
#endif
}

/* Where x264's log lines go (param.pf_log; Swift cannot take a va_list callback). Lines up to `print_level` are
   formatted here and handed to `sink` (encoda's logging) without their line end, except errors while
   `collect_errors` is set: those are kept in `errors` ("; "-separated), so that the caller can put them into its
   own error message. */
typedef struct {
    int print_level;
    int collect_errors;
    char errors[1024];
    void (*sink)(int level, const char *line);
} encoda_x264_log;

static void encoda_x264_log_line(void *priv, int level, const char *fmt, va_list ap) {
    encoda_x264_log *log = (encoda_x264_log *)priv;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (level == X264_LOG_ERROR && log->collect_errors) {
        size_t used = strlen(log->errors);
        if (used > 0 && used + 2 < sizeof log->errors) { strcat(log->errors, "; "); used += 2; }
        strncat(log->errors, line, sizeof log->errors - used - 1);
        return;
    }
    if (level > log->print_level || !log->sink) return;
    log->sink(level, line);
}

/* Routes the log of encoders opened with `param` to `log`, which must live as long as they do. */
static inline void encoda_x264_set_log(x264_param_t *param, encoda_x264_log *log) {
    param->pf_log = encoda_x264_log_line;
    param->p_log_private = log;
    param->i_log_level = log->print_level > X264_LOG_ERROR ? log->print_level : X264_LOG_ERROR;
}
#endif
