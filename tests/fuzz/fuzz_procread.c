/*
 * fuzz_procread.c -- the dentry path builder and the argument reader
 * (os/linux/procread.h) over a fuzzed kernel-address arena: dentries,
 * names and mounts are whatever the input says.
 *
 * Input: a header, then the arena (at most 64 KiB, mapped at BASE; reads
 * outside it, or in a page the mask marks absent, fail):
 *   u8  flags (bit 0: the layout knows struct mount)
 *   u16 dentry, u16 vfsmount (0xffff: none), u16 root dentry, u16 root mnt
 *       (arena offsets), u16 path buffer size, u16 absent-page mask
 *   u32 args start offset, u32 args length, u32 args buffer size
 * Layout (as tests/unit/test_procread.c): dentry {d_hash.pprev @8,
 * d_parent @0x18, qstr d_name @0x20}, mount {mnt_parent @0x10,
 * mnt_mountpoint @0x18, mnt @0x20 (vfsmount {mnt_root @0})}.
 *
 * Oracles beyond the sanitizers: the result codes are the documented ones,
 * with a message; a path is absolute and fits its buffer; the argument copy
 * never exceeds its area or buffer, and is flagged whenever it is short.
 */
#include "fuzz_common.h"

#include "os/linux/procread.h"
#include "xenaccess.h"

#define BASE 0xffff888000000000ULL
#define ARENA_MAX (64u << 10)
#define HEADER 25

struct arena {
    const uint8_t *p;
    size_t len;
    uint16_t absent;
};

static int arena_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const struct arena *a = ctx;
    if (va < BASE || va - BASE > a->len || len > a->len - (va - BASE))
        return XA_EFAULT;
    if (len == 0)
        return 0;
    for (uint64_t pg = (va - BASE) / 4096; pg <= (va - BASE + len - 1) / 4096; pg++)
        if (pg < 16 && (a->absent >> pg) & 1)
            return XA_EFAULT;
    memcpy(buf, a->p + (va - BASE), len);
    return 0;
}

static void fail(const char *what)
{
    fprintf(stderr, "oracle: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size < HEADER ? size : HEADER};
    uint8_t flags = (uint8_t)fz_take(&r, 1);
    uint64_t dentry = fz_take(&r, 2), mnt = fz_take(&r, 2), root = fz_take(&r, 2),
             root_mnt = fz_take(&r, 2), cap = fz_take(&r, 2);
    struct arena a = {.absent = (uint16_t)fz_take(&r, 2)};
    uint64_t astart = fz_take(&r, 4), alen = fz_take(&r, 4), acap = fz_take(&r, 4);
    a.p = size > HEADER ? data + HEADER : data;
    a.len = size > HEADER ? size - HEADER : 0;
    if (a.len > ARENA_MAX)
        a.len = ARENA_MAX;

    const struct lx_dpath_layout l = {
        .d_parent = 0x18, .d_name_len = 0x24, .d_name_ptr = 0x28, .d_hash_pprev = 0x8,
        .mnt_root = 0, .mount_mnt = 0x20, .mount_parent = 0x10, .mount_mountpoint = 0x18,
        .has_mounts = flags & 1,
    };
    static char buf[XA_PATH_MAX + 1];
    char why[LX_WHY_LEN];
    if (cap > XA_PATH_MAX)
        cap = XA_PATH_MAX;
    buf[cap] = '\x7f'; /* a guard just past the buffer */
    int rc = lx_dpath_build(&l, arena_read, &a, BASE + dentry,
                            mnt == 0xffff ? 0 : BASE + mnt, BASE + root, BASE + root_mnt, buf,
                            (size_t)cap, why);
    if (buf[cap] != '\x7f')
        fail("path written past its buffer");
    if (rc == 0) {
        size_t n = strnlen(buf, (size_t)cap);
        if (n == (size_t)cap || buf[0] != '/')
            fail("path not absolute or not terminated in its buffer");
    } else if (rc != XA_EFAULT && rc != XA_EBADDATA && rc != XA_ELIMIT && rc != XA_EINVAL) {
        fail("unexpected path error code");
    } else if (!why[0] || strchr(why, '\n')) {
        fail("path error without a one-line reason");
    }

    static uint8_t out[XA_ARGS_MAX];
    size_t n;
    uint32_t aflags;
    uint64_t start = BASE + astart, end = start + alen;
    if (acap > sizeof(out))
        acap = sizeof(out);
    rc = lx_uargs_copy(arena_read, &a, start, end, out, (size_t)acap, &n, &aflags, why);
    if (rc == 0) {
        if (n > acap || n > alen || (aflags & ~(uint32_t)(XA_ARGS_ABSENT | XA_ARGS_TRUNCATED)))
            fail("argument copy too long or badly flagged");
        if (aflags == 0 && n != alen)
            fail("short argument copy without a flag");
        if (n && memcmp(out, a.p + astart, n) != 0)
            fail("argument bytes differ from memory");
    } else if (rc != XA_EBADDATA) {
        fail("unexpected argument error code");
    }
    return 0;
}
