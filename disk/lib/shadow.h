/*
 * shadow.h -- the monitor's shadow of the guest disk: the base image file
 * (read-only) with an overlay of blocks the monitor knows better (replayed
 * journal transactions, journal blocks received from the tap).
 */
#ifndef XADISK_SHADOW_H
#define XADISK_SHADOW_H
#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

struct shadow {
    int fd;
    uint64_t size;  /* bytes */
    uint32_t bsize; /* overlay block size (the file system's block size) */
    struct u64map overlay; /* block number -> bsize bytes */
    uint64_t base_reads;
};

int shadow_open(struct shadow *s, const char *path);
void shadow_close(struct shadow *s);
/* Changing the block size clears the overlay. bsize: 1024..65536, power of 2. */
int shadow_set_bsize(struct shadow *s, uint32_t bsize);
/* Read bytes; overlay blocks take precedence. Reads past the end: XA_ERANGE. */
int shadow_read(struct shadow *s, uint64_t off, void *buf, size_t len);
int shadow_put_block(struct shadow *s, uint64_t blk, const void *data);
const uint8_t *shadow_get_block(const struct shadow *s, uint64_t blk);
void shadow_drop_block(struct shadow *s, uint64_t blk);
void shadow_clear(struct shadow *s);
size_t shadow_overlay_blocks(const struct shadow *s);

/* A libext2fs io_manager over a shadow; open the fs with name shadow_io_name(). */
struct struct_io_manager;
extern struct struct_io_manager *const xd_shadow_io_manager;
void shadow_io_name(const struct shadow *s, char *buf, size_t len);
#endif
