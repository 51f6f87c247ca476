#include "platform.h"
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
int encoda_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
int encoda_set_trim_threshold(int bytes) { return mallopt(M_TRIM_THRESHOLD, bytes); }
int encoda_set_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }
int encoda_release_free_memory(void) { return malloc_trim(0); }
#else
int encoda_set_mmap_threshold(int bytes) { (void)bytes; return 0; }
int encoda_set_trim_threshold(int bytes) { (void)bytes; return 0; }
int encoda_set_arena_max(int n) { (void)n; return 0; }
int encoda_release_free_memory(void) { return 0; }
#endif

int encoda_start_writeback(int fd) {
#if defined(__linux__) && defined(SYS_sync_file_range)
    return (int)syscall(SYS_sync_file_range, fd, (long long)0, (long long)0, 2u);
#else
    (void)fd; return 0;
#endif
}
