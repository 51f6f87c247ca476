#ifndef ENCODA_CZLIB_SHIM_H
#define ENCODA_CZLIB_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* zlib's CRC-32 over a buffer of any size (crc32_z takes size_t; crc32 only uInt). zlib 1.2.12+ computes it
   several bytes at a time, ~10x faster than a byte-wise table. */
static inline uint32_t encoda_zlib_crc32(uint32_t crc, const void *buf, size_t len) {
    return (uint32_t)crc32_z((uLong)crc, (const Bytef *)buf, len);
}
#endif
