/*
 * test_procview32.c -- credentials, exe and cwd/root inferred on a 32-bit
 * kernel without BTF (os/linux/procview32.c), over synthetic tasks in a flat
 * buffer: two layouts found past their decoys; an unsorted group list, a
 * second fs-like pointer or no mapped exe refuse in one line.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "os/linux/procview32.h"
#include "xa_errors.h"

#define BASE 0xC1000000u
#define SIZE (1u << 20)
#define TASKS (BASE + 0x10000u) /* 4 KiB each */
#define MMS (BASE + 0x50000u)   /* 1 KiB each */
#define CREDS (BASE + 0x60000u) /* 128 bytes each */
#define GROUPS (BASE + 0x68000u)
#define FSS (BASE + 0x70000u)   /* 64 bytes each */
#define MOUNTS (BASE + 0x78000u)
#define DECOY (BASE + 0x7C000u)
#define FILES (BASE + 0x80000u) /* 256 bytes each */
#define NTASKS 24u
#define MNT_ROOT 16u /* vfsmount.mnt_root */

struct layout {
    uint32_t real_cred, fs, fs_root, exe_file, group_info;
};

static uint8_t mem[SIZE];
static struct p32_task t[NTASKS];
static uint64_t files_of[NTASKS][2];
static size_t nfiles[NTASKS];

static void put(uint32_t va, uint32_t v)
{
    memcpy(mem + (va - BASE), &v, 4);
}

static int read_mem(void *ctx, uint64_t va, void *buf, size_t len)
{
    (void)ctx;
    if (va < BASE || va + len > BASE + SIZE)
        return XA_EFAULT;
    memcpy(buf, mem + (va - BASE), len);
    return 0;
}

static const struct t32_mem m = {.read = read_mem, .page_offset = 0xC0000000u};

/* Tasks 0..7 kernel threads (init's cred and fs), 8.. user processes, task
 * 12 with three supplementary groups and a cwd of its own. */
static void build(const struct layout *l)
{
    memset(mem, 0, sizeof(mem));
    memset(nfiles, 0, sizeof(nfiles));
    const uint32_t root_dentry = MOUNTS + 0x100, mnt = MOUNTS + 0x200, sub = MOUNTS + 0x300;
    put(mnt + MNT_ROOT, root_dentry);
    put(sub + MNT_ROOT, MOUNTS + 0x400);
    for (uint32_t i = 0; i < NTASKS; i++) {
        uint32_t task = TASKS + i * 0x1000, user = i >= 8, cred = CREDS + (user ? i : 0) * 128;
        uint32_t fs = FSS + (user ? i : 0) * 64, gi = GROUPS + (i == 12 ? 64 : 0);
        t[i] = (struct p32_task){.task = task, .pid = i, .tgid = i};
        put(task + l->real_cred, cred);
        put(task + l->real_cred + 4, cred); /* cred, beside it */
        put(task + l->fs, fs);
        put(task + l->fs + 4, fs + 8); /* files: a decoy with a count */
        put(task + l->fs + 16, DECOY);  /* a mount and its root, but no umask before */
        /* cred: root's full set for init's, none for the user tasks but task 9 */
        uint32_t uid = user ? 1000 + i : 0;
        for (uint32_t k = 0; k < 8; k++)
            put(cred + 4 + 4 * k, uid);
        uint32_t lo = user && i != 9 ? 0 : 0xffffffffu, hi = user && i != 9 ? 0 : 0x1ff;
        for (uint32_t c = P32_CRED_CAP_PERMITTED; c <= P32_CRED_CAP_BSET; c += 8) {
            put(cred + c, c == P32_CRED_CAP_BSET ? 0xffffffffu : lo);
            put(cred + c + 4, c == P32_CRED_CAP_BSET ? 0x1ff : hi);
        }
        put(cred, 2);
        put(cred + l->group_info, gi);
        /* the other place: a pointer to a struct that looks like no group list */
        put(cred + (l->group_info == 116 ? 112 : 116), CREDS + 0x7000);
        /* fs_struct: users, lock, seq, umask, in_exec before root, then pwd */
        put(fs, 1);
        put(fs + l->fs_root - 8, 022);
        put(fs + l->fs_root, mnt);
        put(fs + l->fs_root + 4, root_dentry);
        put(fs + l->fs_root + 8, i == 12 ? sub : mnt);
        put(fs + l->fs_root + 12, i == 12 ? MOUNTS + 0x480 : root_dentry);
        if (user) {
            uint32_t mm = MMS + i * 0x400, exe = FILES + i * 256;
            t[i].mm = mm;
            put(mm + l->exe_file, exe);
            put(mm + l->exe_file + 8, FILES + 0x1000); /* a file nobody maps */
            files_of[i][0] = FILES + 0x2000 + i * 256; /* a library */
            files_of[i][1] = exe;
            nfiles[i] = 2;
        }
    }
    put(GROUPS, 30);
    put(GROUPS + 64, 1);
    put(GROUPS + 64 + 4, 3);
    put(GROUPS + 64 + 8, 10);
    put(GROUPS + 64 + 12, 20);
    put(GROUPS + 64 + 16, 1234);
    put(CREDS + 0x7000, 0xC2000000u); /* a pointer, not a count */
    put(DECOY, 1);
    put(DECOY + 20, DECOY + 0x100);
    put(DECOY + 24, DECOY + 0x200);
    put(DECOY + 28, mnt);
    put(DECOY + 32, root_dentry);
    put(DECOY + 36, mnt);
    put(DECOY + 40, root_dentry);
}

static int find_all(struct layout *got, char *why)
{
    const uint64_t *fl[NTASKS];
    for (size_t i = 0; i < NTASKS; i++)
        fl[i] = files_of[i];
    const struct p32_mapped mp = {.files = fl, .nfiles = nfiles};
    int rc;
    if ((rc = p32_find_creds(&m, got->real_cred, t, NTASKS, &got->group_info, why, 256)) < 0 ||
        (rc = p32_find_fs(&m, MNT_ROOT, t, NTASKS, &got->fs, &got->fs_root, why, 256)) < 0 ||
        (rc = p32_find_exe(&m, t, NTASKS, &mp, &got->exe_file, why, 256)) < 0)
        return rc;
    return 0;
}

static void test_layouts(void)
{
    static const struct layout ls[] = {
        {1484, 1452, 20, 492, 116}, /* Debian 6.1 686 */
        {900, 620, 24, 300, 112},   /* a kernel before 5.14, another fs_struct */
    };
    for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++) {
        build(&ls[i]);
        struct layout got = {.real_cred = ls[i].real_cred};
        char why[256] = "";
        CHECK(find_all(&got, why) == 0, "layout %zu: %s", i, why);
        CHECK_EQ(got.group_info, ls[i].group_info);
        CHECK_EQ(got.fs, ls[i].fs);
        CHECK_EQ(got.fs_root, ls[i].fs_root);
        CHECK_EQ(got.exe_file, ls[i].exe_file);
    }
}

static void test_refusals(void)
{
    const struct layout l = {1484, 1452, 20, 492, 116};
    struct layout got = {.real_cred = l.real_cred};
    char why[256];
    uint32_t off, r;

    build(&l); /* the groups out of order */
    put(GROUPS + 64 + 12, 5);
    put(GROUPS + 4, 2);
    put(GROUPS + 8, 7);
    put(GROUPS + 12, 6);
    CHECK(p32_find_creds(&m, l.real_cred, t, NTASKS, &got.group_info, why, sizeof(why)) ==
          XA_EBADDATA);
    CHECK(strstr(why, "group_info") != NULL, "%s", why);

    build(&l); /* no process holds root's full set */
    for (uint32_t c = P32_CRED_CAP_PERMITTED; c <= P32_CRED_CAP_BSET; c += 8)
        put(CREDS + c, 0x7);
    put(CREDS + 9 * 128 + P32_CRED_CAP_EFFECTIVE, 0xff);
    CHECK(p32_find_creds(&m, l.real_cred, t, NTASKS, &got.group_info, why, sizeof(why)) ==
          XA_EBADDATA);
    CHECK(strstr(why, "capability") != NULL, "%s", why);

    build(&l); /* a second pointer to the same fs_structs */
    for (uint32_t i = 0; i < NTASKS; i++)
        put(TASKS + i * 0x1000 + 2000, FSS + (i >= 8 ? i : 0) * 64);
    CHECK(p32_find_fs(&m, MNT_ROOT, t, NTASKS, &off, &r, why, sizeof(why)) == XA_EBADDATA);
    CHECK(strstr(why, "more than one") != NULL, "%s", why);

    build(&l); /* roots that are no mount's root */
    put(MOUNTS + 0x200 + MNT_ROOT, MOUNTS + 0x180);
    CHECK(p32_find_fs(&m, MNT_ROOT, t, NTASKS, &off, &r, why, sizeof(why)) == XA_EBADDATA);

    build(&l); /* nobody maps the file its mm names */
    for (uint32_t i = 8; i < NTASKS; i++)
        nfiles[i] = 1;
    const uint64_t *fl[NTASKS];
    for (size_t i = 0; i < NTASKS; i++)
        fl[i] = files_of[i];
    const struct p32_mapped mp = {.files = fl, .nfiles = nfiles};
    CHECK(p32_find_exe(&m, t, NTASKS, &mp, &off, why, sizeof(why)) == XA_EBADDATA);
    CHECK(strstr(why, "no mm_struct.exe_file") != NULL, "%s", why);
}

int main(void)
{
    test_layouts();
    test_refusals();
    CHECK_DONE();
}
