#ifndef ENCODA_CPLATFORM_H
#define ENCODA_CPLATFORM_H
/* Process-level platform calls that Swift's Glibc module does not declare. Used only by EncodaSystem
   (`ProcessMemoryPolicy`, `Writeback`); every symbol is prefixed encoda_. */

/* mallopt(M_MMAP_THRESHOLD, bytes) on glibc (a no-op elsewhere): <malloc.h> is not part of Swift's Glibc module.
   Returns 1 when the setting was applied. */
int encoda_set_mmap_threshold(int bytes);
/* mallopt(M_TRIM_THRESHOLD, bytes): how much free memory at the top of the heap is kept instead of returned. */
int encoda_set_trim_threshold(int bytes);
/* mallopt(M_ARENA_MAX, n): at most n malloc arenas, so threads share the main heap instead of each getting one. */
int encoda_set_arena_max(int n);
/* malloc_trim(0): gives the free memory of the heap back to the system. */
int encoda_release_free_memory(void);

/* Starts writeback of every dirty page of an open file without waiting for it:
   sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE). Swift's Glibc module does not declare it (it needs
   _GNU_SOURCE), so the system call is made directly. A no-op returning 0 where it does not exist. */
int encoda_start_writeback(int fd);

#endif
