/*
 * test_task32.c -- the 32-bit task_struct layout inference (os/linux/task32.c)
 * over synthetic task lists (synthetic_task32.h): two layouts found exactly,
 * a list that loops or has a broken back link used as far as it is sound
 * and flagged incomplete, and refusals where the memory is ambiguous or
 * implausible.
 */
#include <stdlib.h>

#include "check.h"
#include "synthetic_task32.h"

static struct s32_guest g;

static int infer(struct t32_layout *l, char *why, size_t cap)
{
    struct t32_mem m = s32_mem(&g);
    uint64_t comms[T32_MAX_COMMS];
    size_t n;
    t32_find_comms(&m, S32_BASE, S32_BASE + S32_SIZE, comms, T32_MAX_COMMS, &n);
    return t32_infer(&m, comms, n, l, why, cap);
}

static void check_layout(const struct t32_layout *l, const struct s32_layout *want)
{
    CHECK(l->init_task == S32_INIT_TASK);
    CHECK(l->tasks == want->tasks);
    CHECK(l->pid == want->pid && l->tgid == want->pid + 4);
    CHECK(l->comm == want->comm);
    CHECK(l->real_parent == want->real_parent);
    CHECK(l->mm == want->mm && l->active_mm == want->mm + 4);
    CHECK(l->real_cred == want->real_cred);
    CHECK(l->stack == want->stack && l->state == want->stack - 4 && l->flags == want->stack + 8);
    CHECK(l->mm_pgd == want->mm_pgd);
    CHECK(l->cred_uid == 4 && l->cred_gid == 8 && l->cred_euid == 20 && l->cred_egid == 24);
    CHECK(l->task_size == want->comm + 16);
}

static void test_layouts(void)
{
    const struct s32_layout *layouts[] = {&s32_debian61, &s32_other};
    for (size_t k = 0; k < 2; k++) {
        s32_build(&g, layouts[k], 50);
        struct t32_layout l;
        char why[256];
        int rc = infer(&l, why, sizeof(why));
        CHECK(rc == 0, "layout %zu: %s", k, why);
        if (rc)
            continue;
        check_layout(&l, layouts[k]);
        CHECK(l.ring_complete && l.ring_len == 50);
    }
}

/* A list that loops back into its middle: the node it loops to names its
 * real predecessor, so the loop ends the walk at its first step; the prefix
 * before it is used and the result says the list was cut. */
static void test_cycle_is_flagged(void)
{
    s32_build(&g, &s32_debian61, 50);
    uint32_t n30 = s32_task(30) + g.l.tasks, n20 = s32_task(20) + g.l.tasks;
    s32_put(&g, n30, n20);
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == 0, "%s", why);
    if (rc)
        return;
    check_layout(&l, &s32_debian61);
    CHECK(!l.ring_complete && l.ring_len == 31);
    CHECK(strstr(l.ring_end, "links to 0xc10333c8 whose prev is not it") != NULL, "%s", l.ring_end);
}

static void test_broken_back_link_is_flagged(void)
{
    s32_build(&g, &s32_debian61, 50);
    s32_put(&g, s32_task(25) + g.l.tasks + 4, s32_task(7) + g.l.tasks);
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == 0, "%s", why);
    if (rc)
        return;
    check_layout(&l, &s32_debian61);
    CHECK(!l.ring_complete && l.ring_len == 25);
    CHECK(strstr(l.ring_end, "prev") != NULL, "%s", l.ring_end);
}

/* Broken before enough tasks to compare: refused, with the reason. */
static void test_short_broken_list_refused(void)
{
    s32_build(&g, &s32_debian61, 50);
    s32_put(&g, s32_task(5) + g.l.tasks, 0x1234);
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == XA_ENOENT);
    CHECK(strstr(why, "no task list") && strstr(why, "bad next pointer"), "%s", why);
}

/* A second field that looks like pid/tgid in every task: refused. */
static void test_ambiguous_pid_refused(void)
{
    s32_build(&g, &s32_debian61, 50);
    for (uint32_t i = 0; i < 50; i++) {
        s32_put(&g, s32_task(i) + 1200, i);
        s32_put(&g, s32_task(i) + 1204, i);
    }
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == XA_EBADDATA);
    CHECK(strstr(why, "more than one pid/tgid") != NULL, "%s", why);
}

/* A user process without an mm (and not a zombie): no mm field fits. */
static void test_implausible_mm_refused(void)
{
    s32_build(&g, &s32_debian61, 50);
    s32_put(&g, s32_task(4) + g.l.mm, 0);
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == XA_EBADDATA);
    CHECK(strstr(why, "mm/active_mm") != NULL, "%s", why);
}

/* A "swapper/0" elsewhere in the image that is no task's comm is not used. */
static void test_stray_comm_ignored(void)
{
    s32_build(&g, &s32_debian61, 30);
    memcpy(g.mem + 0x18000 + 2000, "swapper/0\0\0\0\0\0\0\0", 16);
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == 0 && l.init_task == S32_INIT_TASK, "%s", why);
}

/* Processes that name themselves "swapper/0" (prctl) are candidates too:
 * their lists are whole, but pid 0 is not theirs; init_task still wins. */
static void test_user_named_swapper_ignored(void)
{
    s32_build(&g, &s32_debian61, 50);
    for (uint32_t i = 4; i < 50; i += 5)
        memcpy(g.mem + (s32_task(i) + g.l.comm - S32_BASE), "swapper/0\0\0\0\0\0\0\0", 16);
    struct t32_layout l;
    char why[256];
    int rc = infer(&l, why, sizeof(why));
    CHECK(rc == 0, "%s", why);
    if (rc == 0)
        check_layout(&l, &s32_debian61);
}

int main(void)
{
    test_layouts();
    test_cycle_is_flagged();
    test_broken_back_link_is_flagged();
    test_short_broken_list_refused();
    test_ambiguous_pid_refused();
    test_implausible_mm_refused();
    test_stray_comm_ignored();
    test_user_named_swapper_ignored();
    CHECK_DONE();
}
