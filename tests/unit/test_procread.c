/*
 * test_procread.c -- the dentry path builder and the argument reader
 * (os/linux/procread.h) on synthetic memory: a flat kernel-address arena,
 * with pages that can be made absent. Paths cross mounts, stop at the given
 * root, mark deleted files; d_parent and mount cycles, long names, names with
 * '/', bad and unreadable pointers and paths too long for the buffer end in
 * the right error. Arguments are read across pages, cut at an absent page
 * (flagged), truncated at the buffer or XA_ARGS_MAX (flagged).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "os/linux/procread.h"
#include "xenaccess.h"

#define BASE 0xffff888000000000ULL
#define ARENA (512u << 10)
#define PAGE 4096u

static uint8_t *arena;
static bool absent[ARENA / PAGE];
static uint64_t top = BASE + 64;

static int mem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    (void)ctx;
    if (va < BASE || va - BASE > ARENA || len > ARENA - (va - BASE))
        return XA_EFAULT;
    for (uint64_t p = (va - BASE) / PAGE; p <= (va - BASE + len - 1) / PAGE; p++)
        if (absent[p])
            return XA_EFAULT;
    memcpy(buf, arena + (va - BASE), len);
    return 0;
}

static uint64_t alloc(size_t n)
{
    uint64_t va = (top + 7) & ~7ULL;
    top = va + n;
    return va;
}

static void put64(uint64_t va, uint64_t v) { memcpy(arena + (va - BASE), &v, 8); }
static void put32(uint64_t va, uint32_t v) { memcpy(arena + (va - BASE), &v, 4); }

/* Our layouts: dentry {.. d_hash.pprev @8, d_parent @0x18, d_name @0x20
 * (hash u32, len u32, name ptr)}, mount {mnt_parent @0x10, mnt_mountpoint
 * @0x18, mnt (vfsmount {mnt_root @0}) @0x20}. */
static const struct lx_dpath_layout L = {
    .d_parent = 0x18, .d_name_len = 0x24, .d_name_ptr = 0x28, .d_hash_pprev = 0x8,
    .mnt_root = 0, .mount_mnt = 0x20, .mount_parent = 0x10, .mount_mountpoint = 0x18,
    .has_mounts = true,
};

static uint64_t name_of(const char *s, size_t len)
{
    uint64_t va = alloc(len + 1);
    memcpy(arena + (va - BASE), s, len);
    return va;
}

static uint64_t dentry(const char *name, uint64_t parent)
{
    uint64_t d = alloc(0x40);
    put64(d + 0x8, 0x1234000 | BASE); /* hashed */
    put64(d + 0x18, parent ? parent : d);
    put32(d + 0x24, (uint32_t)strlen(name));
    put64(d + 0x28, name_of(name, strlen(name)));
    return d;
}

static uint64_t mount_of(uint64_t parent, uint64_t mountpoint, uint64_t root)
{
    uint64_t m = alloc(0x40);
    put64(m + 0x10, parent ? parent : m);
    put64(m + 0x18, mountpoint);
    put64(m + 0x20, root); /* vfsmount.mnt_root */
    return m;
}

static int path(uint64_t d, uint64_t mnt, char *buf, size_t cap)
{
    char why[LX_WHY_LEN];
    return lx_dpath_build(&L, mem_read, NULL, d, mnt, 0, 0, buf, cap, why);
}

static void test_paths(void)
{
    char buf[XA_PATH_MAX];
    uint64_t root = dentry("/", 0);
    uint64_t m0 = mount_of(0, root, root);
    uint64_t tmp = dentry("tmp", root);
    uint64_t troot = dentry("/", 0);
    uint64_t m1 = mount_of(m0, tmp, troot);
    uint64_t dir = dentry("dir with space", troot), file = dentry("f\xe9", dir);

    CHECK(path(file, m1 + 0x20, buf, sizeof(buf)) == 0 && strcmp(buf, "/tmp/dir with space/f\xe9") == 0);
    CHECK(path(root, m0 + 0x20, buf, sizeof(buf)) == 0 && strcmp(buf, "/") == 0);
    CHECK(path(troot, m1 + 0x20, buf, sizeof(buf)) == 0 && strcmp(buf, "/tmp") == 0);
    /* no mount layout: stops at the tmpfs root */
    struct lx_dpath_layout nomnt = L;
    nomnt.has_mounts = false;
    char why[LX_WHY_LEN];
    CHECK(lx_dpath_build(&nomnt, mem_read, NULL, file, m1 + 0x20, 0, 0, buf, sizeof(buf), why) ==
              0 && strcmp(buf, "/dir with space/f\xe9") == 0);
    /* a given root ends the walk there */
    CHECK(lx_dpath_build(&L, mem_read, NULL, file, m1 + 0x20, dir, m1 + 0x20, buf, sizeof(buf),
                         why) == 0 && strcmp(buf, "/f\xe9") == 0);
    CHECK(lx_dpath_build(&L, mem_read, NULL, dir, m1 + 0x20, dir, m1 + 0x20, buf, sizeof(buf),
                         why) == 0 && strcmp(buf, "/") == 0);

    /* deleted: unhashed and not a root */
    uint64_t gone = dentry("gone", dir);
    put64(gone + 0x8, 0);
    CHECK(path(gone, m1 + 0x20, buf, sizeof(buf)) == 0 &&
          strcmp(buf, "/tmp/dir with space/gone (deleted)") == 0);

    /* the buffer: exactly enough, then one byte short */
    size_t need = strlen("/tmp/dir with space/f\xe9") + 1 + strlen(" (deleted)");
    CHECK(path(file, m1 + 0x20, buf, need) == 0 && strcmp(buf, "/tmp/dir with space/f\xe9") == 0);
    CHECK(path(file, m1 + 0x20, buf, need - 1) == XA_ELIMIT);
    CHECK(path(file, m1 + 0x20, buf, 1) == XA_EINVAL);

    /* a d_parent cycle: a -> b -> a, never a root */
    uint64_t a = dentry("a", 0), b = dentry("b", a);
    put64(a + 0x18, b);
    CHECK(path(a, 0, buf, sizeof(buf)) == XA_ELIMIT);
    /* a short cycle of long names outgrows the buffer first, still ELIMIT */
    char longname[201];
    memset(longname, 'n', 200);
    longname[200] = 0;
    uint64_t c = dentry(longname, 0), e = dentry(longname, c);
    put64(c + 0x18, e);
    CHECK(path(c, 0, buf, sizeof(buf)) == XA_ELIMIT);

    /* a mount cycle: each mounted on the other's root */
    uint64_t r1 = dentry("/", 0), r2 = dentry("/", 0);
    uint64_t ma = alloc(0x40), mb = alloc(0x40);
    put64(ma + 0x10, mb); put64(ma + 0x18, r2); put64(ma + 0x20, r1);
    put64(mb + 0x10, ma); put64(mb + 0x18, r1); put64(mb + 0x20, r2);
    CHECK(path(r1, ma + 0x20, buf, sizeof(buf)) == XA_ELIMIT);

    /* names: too long, with '/', with NUL, of length 0 */
    uint64_t bad = dentry("x", root);
    put32(bad + 0x24, LX_DPATH_NAME_MAX + 1);
    CHECK(path(bad, m0 + 0x20, buf, sizeof(buf)) == XA_EBADDATA);
    uint64_t slash = dentry("a/b", root);
    CHECK(path(slash, m0 + 0x20, buf, sizeof(buf)) == XA_EBADDATA);
    uint64_t nul = dentry("ab", root);
    arena[(nul == 0 ? 0 : (*(uint64_t *)(arena + (nul + 0x28 - BASE)) - BASE))] = 0;
    CHECK(path(nul, m0 + 0x20, buf, sizeof(buf)) == XA_EBADDATA);
    uint64_t empty = dentry("z", root);
    put32(empty + 0x24, 0);
    CHECK(path(empty, m0 + 0x20, buf, sizeof(buf)) == XA_EBADDATA);

    /* pointers: a user address, one outside memory, a misaligned one */
    CHECK(path(0x400000, 0, buf, sizeof(buf)) == XA_EBADDATA);
    CHECK(path(BASE + ARENA + 0x1000, 0, buf, sizeof(buf)) == XA_EFAULT);
    uint64_t orphan = dentry("o", 0);
    put64(orphan + 0x18, BASE + 3);
    CHECK(path(orphan, 0, buf, sizeof(buf)) == XA_EBADDATA);
    /* an unreadable mount */
    CHECK(path(file, BASE + ARENA + 0x2000, buf, sizeof(buf)) == XA_EFAULT);

    /* a chain deeper than the step bound, with one-byte names: the bound,
     * not the buffer, stops it */
    uint64_t d = dentry("/", 0);
    for (unsigned i = 0; i < LX_DPATH_STEPS_MAX + 1; i++)
        d = dentry("q", d);
    static char big[4 * LX_DPATH_STEPS_MAX];
    CHECK(path(d, 0, big, sizeof(big)) == XA_ELIMIT);
}

static void test_args(void)
{
    static uint8_t out[XA_ARGS_MAX + 64];
    size_t len;
    uint32_t flags;
    char why[LX_WHY_LEN];
    /* 3 pages of arguments, starting mid-page */
    uint64_t start = BASE + 0x40000 + 100, end = start + 3 * PAGE;
    for (uint64_t i = 0; i < 3 * PAGE; i++)
        arena[start - BASE + i] = (uint8_t)(i % 251);
    CHECK(lx_uargs_copy(mem_read, NULL, start, end, out, sizeof(out), &len, &flags, why) == 0);
    CHECK_EQ(len, 3 * PAGE);
    CHECK_EQ(flags, 0);
    CHECK(memcmp(out, arena + (start - BASE), len) == 0);

    /* the second page absent: the first part only, flagged */
    absent[(start - BASE) / PAGE + 1] = true;
    CHECK(lx_uargs_copy(mem_read, NULL, start, end, out, sizeof(out), &len, &flags, why) == 0);
    CHECK_EQ(len, PAGE - 100);
    CHECK_EQ(flags, XA_ARGS_ABSENT);
    CHECK(memcmp(out, arena + (start - BASE), len) == 0);
    /* the first page absent: nothing, flagged */
    absent[(start - BASE) / PAGE] = true;
    CHECK(lx_uargs_copy(mem_read, NULL, start, end, out, sizeof(out), &len, &flags, why) == 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(flags, XA_ARGS_ABSENT);
    absent[(start - BASE) / PAGE] = absent[(start - BASE) / PAGE + 1] = false;

    /* a small buffer */
    CHECK(lx_uargs_copy(mem_read, NULL, start, end, out, 10, &len, &flags, why) == 0);
    CHECK_EQ(len, 10);
    CHECK_EQ(flags, XA_ARGS_TRUNCATED);
    /* truncated and absent: both flags */
    absent[(start - BASE) / PAGE + 1] = true;
    CHECK(lx_uargs_copy(mem_read, NULL, start, end, out, 2 * PAGE, &len, &flags, why) == 0);
    CHECK_EQ(flags, XA_ARGS_TRUNCATED | XA_ARGS_ABSENT);
    absent[(start - BASE) / PAGE + 1] = false;
    /* empty, reversed, huge */
    CHECK(lx_uargs_copy(mem_read, NULL, start, start, out, sizeof(out), &len, &flags, why) == 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(flags, 0);
    CHECK(lx_uargs_copy(mem_read, NULL, end, start, out, sizeof(out), &len, &flags, why) ==
          XA_EBADDATA);
    CHECK(lx_uargs_copy(mem_read, NULL, BASE + PAGE, UINT64_MAX, out, sizeof(out), &len, &flags,
                        why) == 0);
    CHECK_EQ(len, XA_ARGS_MAX);
    CHECK_EQ(flags, XA_ARGS_TRUNCATED);
}

int main(void)
{
    arena = calloc(1, ARENA);
    if (!arena)
        return 1;
    test_paths();
    test_args();
    free(arena);
    CHECK_DONE();
}
