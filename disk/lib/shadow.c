/* shadow.c -- see shadow.h. */
#include "shadow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xa_errors.h"

int shadow_open(struct shadow *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return XA_EIO;
    struct stat st;
    if (fstat(s->fd, &st) < 0 || st.st_size <= 0) {
        close(s->fd);
        s->fd = -1;
        return XA_EIO;
    }
    s->size = (uint64_t)st.st_size;
    s->bsize = 1024;
    return 0;
}

void shadow_clear(struct shadow *s)
{
    size_t pos = 0;
    uint64_t k;
    void *v;
    while (u64map_next(&s->overlay, &pos, &k, &v))
        free(v);
    u64map_free(&s->overlay);
}

void shadow_close(struct shadow *s)
{
    shadow_clear(s);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

int shadow_set_bsize(struct shadow *s, uint32_t bsize)
{
    if (bsize < 1024 || bsize > 65536 || (bsize & (bsize - 1)))
        return XA_EINVAL;
    if (bsize != s->bsize)
        shadow_clear(s);
    s->bsize = bsize;
    return 0;
}

int shadow_read(struct shadow *s, uint64_t off, void *buf, size_t len)
{
    if (off > s->size || len > s->size - off)
        return XA_ERANGE;
    uint8_t *out = buf;
    while (len) {
        uint64_t blk = off / s->bsize;
        uint32_t in = (uint32_t)(off % s->bsize);
        size_t n = s->bsize - in;
        if (n > len)
            n = len;
        const uint8_t *ov = s->overlay.count ? u64map_get(&s->overlay, blk) : NULL;
        if (ov) {
            memcpy(out, ov + in, n);
        } else {
            /* coalesce consecutive base reads into one pread */
            size_t run = n;
            while (run < len && !(s->overlay.count &&
                                  u64map_get(&s->overlay, (off + run) / s->bsize)))
                run += (len - run) < s->bsize ? (len - run) : s->bsize;
            n = run;
            size_t done = 0;
            while (done < n) {
                ssize_t r = pread(s->fd, out + done, n - done, (off_t)(off + done));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    return XA_EIO;
                done += (size_t)r;
            }
            s->base_reads++;
        }
        out += n;
        off += n;
        len -= n;
    }
    return 0;
}

int shadow_put_block(struct shadow *s, uint64_t blk, const void *data)
{
    if ((blk + 1) * s->bsize > s->size)
        return XA_ERANGE;
    uint8_t *cur = u64map_get(&s->overlay, blk);
    if (cur) {
        memcpy(cur, data, s->bsize);
        return 0;
    }
    uint8_t *copy = malloc(s->bsize);
    if (!copy)
        return XA_ENOMEM;
    memcpy(copy, data, s->bsize);
    if (u64map_put(&s->overlay, blk, copy, NULL) < 0) {
        free(copy);
        return XA_ENOMEM;
    }
    return 0;
}

const uint8_t *shadow_get_block(const struct shadow *s, uint64_t blk)
{
    return u64map_get(&s->overlay, blk);
}

void shadow_drop_block(struct shadow *s, uint64_t blk)
{
    free(u64map_del(&s->overlay, blk));
}

size_t shadow_overlay_blocks(const struct shadow *s)
{
    return s->overlay.count;
}
