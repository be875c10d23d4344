/*
 * fuzz_proc32.c -- the inference of what procinfo.c reads on a 32-bit
 * kernel without BTF (os/linux/proc32.c) and of credentials, fs and exe
 * (procview32.c), over synthetic tasks
 * (tests/unit/synthetic_proc32.h) that the input rewrites.
 *
 * Input: byte 0 picks the layout (bit 0) and the number of tasks (8 +
 * byte / 2 % 33); then records of 8 bytes, at most 64:
 *   u24 offset (rounded down to 4), u8 kind, u32 value
 * kind 0: write value into the 1 MiB of kernel memory; 1: a pointer into
 * task (value & 0xff) % n at byte (value >> 8) % 4096 of it; 2: a pointer
 * anywhere in the kernel memory; 3: its low byte only; 4: the byte value
 * into the user page of process (offset >> 12) % n at offset % 4096.
 *
 * Oracles beyond the sanitizers: every step ends (libFuzzer's timeout),
 * returns 0 or a negative XA_E*, its reason is one terminated line, and
 * what it infers lies within the spans it searches.
 */
#include "fuzz_common.h"

#include "synthetic_proc32.h"
#include "os/linux/procview32.h"

#define MAX_PATCHES 64

static struct p32s_guest work;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_why(int rc, const char *why, size_t cap)
{
    if (rc > 0 || (rc < 0 && (!memchr(why, '\0', cap) || strchr(why, '\n'))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    unsigned head = (unsigned)fz_take(&r, 1);
    uint32_t n = 8 + (head / 2) % (P32S_MAX - 7);
    p32s_build(&work, head & 1 ? &p32s_other : &p32s_debian61, n);

    for (size_t k = 0; r.left >= 8 && k < MAX_PATCHES; k++) {
        uint32_t off = (uint32_t)fz_take(&r, 3) & (P32S_SIZE - 4); /* a power of 2 */
        unsigned kind = (unsigned)fz_take(&r, 1) % 5;
        uint32_t v = (uint32_t)fz_take(&r, 4), old;
        memcpy(&old, work.mem + off, 4);
        switch (kind) {
        case 0:
            break;
        case 1:
            v = p32s_task((v & 0xff) % n) + (v >> 8) % 4096;
            break;
        case 2:
            v = P32S_BASE + v % P32S_SIZE;
            break;
        case 3:
            v = (old & ~0xffu) | (v & 0xffu);
            break;
        default:
            work.user[(off >> 12) % n][off & 4095] = (uint8_t)v;
            continue;
        }
        memcpy(work.mem + off, &v, 4);
    }

    struct t32_mem m = p32s_mem(&work);
    struct p32_known kn = p32s_known(&work);
    struct p32_threads th;
    uint32_t off = 0;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = p32_find_threads(&m, &kn, work.t, n, &th, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (th.signal + 4 > P32_TASK_SPAN || th.thread_node + 8 > P32_TASK_SPAN ||
                    th.thread_head + 8 > P32_SIGNAL_SPAN || th.fits > th.tried || th.tried > n ||
                    th.multi > th.fits))
        abort();
    memset(why, 'x', sizeof(why));
    rc = p32_find_args(&m, p32s_read_user, &work, work.t, n, &off, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (off < 4 || off + 16 > P32_MM_SPAN))
        abort();
    memset(why, 'x', sizeof(why));
    rc = p32_find_start(&m, work.t, n, &off, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (off < 8 || off + 8 > P32_TASK_SPAN))
        abort();
    memset(why, 'x', sizeof(why));
    rc = p32_find_cpu(&m, &kn, work.t, n, &off, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && off != 12)
        abort();

    /* credentials, fs and exe (procview32.c) over the same memory */
    uint32_t gi = 0, fs = 0, root = 0;
    memset(why, 'x', sizeof(why));
    rc = p32_find_creds(&m, 4u * (head % 1024u), work.t, n, &gi, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && gi != P32_CRED_GROUP_INFO_NEW && gi != P32_CRED_GROUP_INFO_OLD)
        abort();
    memset(why, 'x', sizeof(why));
    rc = p32_find_fs(&m, 16, work.t, n, &fs, &root, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (fs + 4 > P32_TASK_SPAN || root < 12 || root + 16 > 64))
        abort();
    /* each process "maps" two words of the shared area */
    static uint64_t files[P32S_MAX][2];
    const uint64_t *fl[P32S_MAX];
    size_t nf[P32S_MAX];
    for (uint32_t i = 0; i < n; i++) {
        files[i][0] = P32S_BASE + 64u * i;
        files[i][1] = p32s_task(i);
        fl[i] = files[i];
        nf[i] = 2;
    }
    const struct p32_mapped mp = {.files = fl, .nfiles = nf};
    memset(why, 'x', sizeof(why));
    rc = p32_find_exe(&m, work.t, n, &mp, &off, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (off < 4 || off + 4 > P32_EXE_SPAN))
        abort();
    return 0;
}
