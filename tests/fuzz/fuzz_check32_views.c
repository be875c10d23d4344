/*
 * fuzz_check32_views.c -- the inference of task_struct.children and
 * group_leader, and of struct pid, on a 32-bit kernel without BTF
 * (os/linux/check32_views.c), over synthetic process trees
 * (tests/unit/synthetic_check32.h) that the input rewrites.
 *
 * Input: byte 0 picks the layout (bit 0) and the number of tasks (8 +
 * byte / 2 % 53); then records of 8 bytes, at most 64:
 *   u24 offset (rounded down to 4), u8 kind, u32 value
 * kind 0: write value into the 1 MiB of kernel memory; 1: a pointer into
 * task (value & 0xff) % n at byte (value >> 8) % 4096 of it; 2: a pointer
 * anywhere in the kernel memory; 3: its low byte only.
 *
 * Oracles beyond the sanitizers: every step ends (libFuzzer's timeout),
 * returns 0 or XA_EBADDATA, its reason is one terminated line, and what it
 * infers lies in the span it searches.
 */
#include "fuzz_common.h"

#include "synthetic_check32_views.h"

#define MAX_PATCHES 64

static struct s32_guest work;
static struct p32_task tasks[S32_MAX_TASKS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_why(int rc, const char *why, size_t cap)
{
    if ((rc != 0 && rc != XA_EBADDATA) ||
        (rc < 0 && (!memchr(why, '\0', cap) || strchr(why, '\n'))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    unsigned head = (unsigned)fz_take(&r, 1);
    uint32_t n = 8 + (head / 2) % (S32_MAX_TASKS - 7);
    const struct s32_layout *l = head & 1 ? &s32_other : &s32_debian61;
    c32s_build(&work, l, n, tasks);

    for (size_t k = 0; r.left >= 8 && k < MAX_PATCHES; k++) {
        uint32_t off = (uint32_t)fz_take(&r, 3) & (S32_SIZE - 4); /* a power of 2 */
        unsigned kind = (unsigned)fz_take(&r, 1) % 4;
        uint32_t v = (uint32_t)fz_take(&r, 4), old;
        memcpy(&old, work.mem + off, 4);
        if (kind == 1)
            v = s32_task((v & 0xff) % n) + (v >> 8) % 4096;
        else if (kind == 2)
            v = S32_BASE + v % S32_SIZE;
        else if (kind == 3)
            v = (old & ~0xffu) | (v & 0xffu);
        memcpy(work.mem + off, &v, 4);
    }

    struct t32_mem m = s32_mem(&work);
    uint32_t off = 0;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = c32_find_children(&m, l->real_parent, tasks, n, &off, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (off <= l->real_parent || off > l->real_parent + C32_SPAN || off % 4))
        abort();
    memset(why, 'x', sizeof(why));
    rc = c32_find_group_leader(&m, l->real_parent, tasks, n, &off, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (off <= l->real_parent || off > l->real_parent + C32_SPAN || off % 4))
        abort();
    memset(why, 'x', sizeof(why));
    struct c32_pid_layout p;
    uint32_t leader = l->real_parent + C32S_LEADER;
    rc = c32_find_pid(&m, leader, tasks, n, &p, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && (p.thread_pid <= leader || p.thread_pid > leader + C32_PID_SPAN ||
                    p.pid_tasks > C32_PID_TASKS_MAX || p.pid_nr < p.pid_tasks + 16 ||
                    p.pid_nr > p.pid_tasks + C32_PID_NR_SPAN || p.init_pid_ns < S32_PAGE_OFFSET))
        abort();
    return 0;
}
