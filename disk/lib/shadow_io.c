/*
 * shadow_io.c -- a read-only libext2fs io_manager serving a struct shadow,
 * so that libext2fs reads inodes, extent trees and directories from the
 * monitor's shadow (base image + replayed journal blocks) instead of the
 * image file, whose in-place metadata lags the journal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "shadow.h"

static errcode_t sio_open(const char *name, int flags, io_channel *channel)
{
    void *ptr = NULL;
    if (flags & IO_FLAG_RW)
        return EXT2_ET_RO_FILSYS;
    if (!name || sscanf(name, "xadisk-shadow:%p", &ptr) != 1 || !ptr)
        return EXT2_ET_BAD_DEVICE_NAME;
    io_channel ch = calloc(1, sizeof(*ch));
    if (!ch)
        return EXT2_ET_NO_MEMORY;
    ch->name = strdup(name);
    if (!ch->name) {
        free(ch);
        return EXT2_ET_NO_MEMORY;
    }
    ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
    ch->manager = xd_shadow_io_manager;
    ch->block_size = 1024;
    ch->refcount = 1;
    ch->private_data = ptr;
    *channel = ch;
    return 0;
}

static errcode_t sio_close(io_channel ch)
{
    if (--ch->refcount > 0)
        return 0;
    free(ch->name);
    free(ch);
    return 0;
}

static errcode_t sio_set_blksize(io_channel ch, int blksize)
{
    if (blksize <= 0)
        return EXT2_ET_INVALID_ARGUMENT;
    ch->block_size = blksize;
    return 0;
}

static errcode_t sio_read_blk64(io_channel ch, unsigned long long block, int count, void *data)
{
    struct shadow *s = ch->private_data;
    size_t len = count < 0 ? (size_t)(-(long long)count) : (size_t)count * (size_t)ch->block_size;
    unsigned long long off = block * (unsigned long long)ch->block_size;
    if (block > UINT64_MAX / (unsigned long long)ch->block_size)
        return EXT2_ET_LLSEEK_FAILED;
    if (shadow_read(s, off, data, len) < 0) {
        memset(data, 0, len);
        return EXT2_ET_SHORT_READ;
    }
    return 0;
}

static errcode_t sio_read_blk(io_channel ch, unsigned long block, int count, void *data)
{
    return sio_read_blk64(ch, block, count, data);
}

static errcode_t sio_write_blk(io_channel ch, unsigned long block, int count, const void *data)
{
    (void)ch, (void)block, (void)count, (void)data;
    return EXT2_ET_RO_FILSYS;
}

static errcode_t sio_write_blk64(io_channel ch, unsigned long long block, int count,
                                 const void *data)
{
    (void)ch, (void)block, (void)count, (void)data;
    return EXT2_ET_RO_FILSYS;
}

static errcode_t sio_flush(io_channel ch)
{
    (void)ch;
    return 0;
}

static errcode_t sio_set_option(io_channel ch, const char *opt, const char *arg)
{
    (void)ch, (void)opt, (void)arg;
    return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager shadow_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "xadisk shadow I/O manager",
    .open = sio_open,
    .close = sio_close,
    .set_blksize = sio_set_blksize,
    .read_blk = sio_read_blk,
    .write_blk = sio_write_blk,
    .flush = sio_flush,
    .set_option = sio_set_option,
    .read_blk64 = sio_read_blk64,
    .write_blk64 = sio_write_blk64,
};

struct struct_io_manager *const xd_shadow_io_manager = &shadow_manager;

void shadow_io_name(const struct shadow *s, char *buf, size_t len)
{
    snprintf(buf, len, "xadisk-shadow:%p", (const void *)s);
}
