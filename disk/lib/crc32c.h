/* crc32c.h -- CRC-32C (Castagnoli) without pre/post inversion, as jbd2 uses it. */
#ifndef XADISK_CRC32C_H
#define XADISK_CRC32C_H
#include <stddef.h>
#include <stdint.h>
uint32_t xd_crc32c(uint32_t crc, const void *data, size_t len);
#endif
