/*
 * test_check32_views.c -- task_struct.children and group_leader of a
 * 32-bit kernel without BTF (os/linux/check32_views.c), inferred over
 * synthetic task lists (synthetic_check32.h), and where struct pid is:
 * found in two layouts; refused when a ring is broken, loops, or a second
 * offset fits as well, and when a pid's number or namespace disagrees.
 */
#include "check.h"
#include "synthetic_check32_views.h"

#define N 40u

static struct s32_guest g;
static struct p32_task t[S32_MAX_TASKS];

static int children(const struct s32_layout *l, uint32_t *off, char *why, size_t cap)
{
    struct t32_mem m = s32_mem(&g);
    return c32_find_children(&m, l->real_parent, t, N, off, why, cap);
}

static int leader(const struct s32_layout *l, uint32_t *off, char *why, size_t cap)
{
    struct t32_mem m = s32_mem(&g);
    return c32_find_group_leader(&m, l->real_parent, t, N, off, why, cap);
}

static void test_layouts(void)
{
    const struct s32_layout *ls[] = {&s32_debian61, &s32_other};
    for (size_t k = 0; k < 2; k++) {
        c32s_build(&g, ls[k], N, t);
        uint32_t off = 0;
        char why[256] = "";
        int rc = children(ls[k], &off, why, sizeof(why));
        CHECK(rc == 0 && off == ls[k]->real_parent + C32S_CHILDREN, "%d %u %s", rc, off, why);
        rc = leader(ls[k], &off, why, sizeof(why));
        CHECK(rc == 0 && off == ls[k]->real_parent + C32S_LEADER, "%d %u %s", rc, off, why);
    }
}

/* A sibling node whose prev does not name the node before it: no offset
 * holds in every task, and the inference says so rather than guess. */
static void test_broken_ring_refused(void)
{
    const struct s32_layout *l = &s32_debian61;
    c32s_build(&g, l, N, t);
    uint32_t sib = s32_task(7) + l->real_parent + C32S_CHILDREN + 8;
    s32_put(&g, sib + 4, sib);
    uint32_t off = 0;
    char why[256] = "";
    int rc = children(l, &off, why, sizeof(why));
    CHECK(rc == XA_EBADDATA && strstr(why, "no offset after real_parent"), "%d %s", rc, why);
}

/* A ring that loops back into itself (4 -> 5 -> 4) is refused: the node
 * looped to cannot also name the head as its prev. */
static void test_loop_refused(void)
{
    const struct s32_layout *l = &s32_debian61;
    c32s_build(&g, l, N, t);
    uint32_t a = s32_task(4) + l->real_parent + C32S_CHILDREN + 8; /* init's children */
    uint32_t b = s32_task(5) + l->real_parent + C32S_CHILDREN + 8;
    s32_put(&g, b, a); /* 5 -> 4, and 4's prev names 5 */
    s32_put(&g, a + 4, b);
    uint32_t off = 0;
    char why[256] = "";
    CHECK(children(l, &off, why, sizeof(why)) == XA_EBADDATA, "%s", why);
}

/* The same rings at a second place: two answers, refused. */
static void test_second_ring_refused(void)
{
    const struct s32_layout *l = &s32_debian61;
    c32s_build(&g, l, N, t);
    const uint32_t shift = 40; /* children at +48, sibling at +56 */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t base = s32_task(i) + l->real_parent + C32S_CHILDREN;
        for (uint32_t w = 0; w < 16; w += 4) {
            uint32_t v = s32_get(&g, base + w);
            s32_put(&g, base + shift + w, v ? v + shift : 0);
        }
    }
    uint32_t off = 0;
    char why[256] = "";
    int rc = children(l, &off, why, sizeof(why));
    CHECK(rc == XA_EBADDATA && strstr(why, "2 offsets"), "%d %s", rc, why);
    /* and two self pointers */
    c32s_build(&g, l, N, t);
    for (uint32_t i = 0; i < N; i++)
        s32_put(&g, s32_task(i) + l->real_parent + 100, s32_task(i));
    rc = leader(l, &off, why, sizeof(why));
    CHECK(rc == XA_EBADDATA && strstr(why, "2 offsets"), "%d %s", rc, why);
}

/* One task whose group_leader is another: no offset holds in all. */
static void test_leader_mismatch_refused(void)
{
    const struct s32_layout *l = &s32_other;
    c32s_build(&g, l, N, t);
    s32_put(&g, s32_task(9) + l->real_parent + C32S_LEADER, s32_task(1));
    uint32_t off = 0;
    char why[256] = "";
    CHECK(leader(l, &off, why, sizeof(why)) == XA_EBADDATA, "%s", why);
}

static int pid_of(const struct s32_layout *l, struct c32_pid_layout *out, char *why, size_t cap)
{
    struct t32_mem m = s32_mem(&g);
    return c32_find_pid(&m, l->real_parent + C32S_LEADER, t, N, out, why, cap);
}

static void test_pid_layouts(void)
{
    const struct s32_layout *ls[] = {&s32_debian61, &s32_other};
    for (size_t k = 0; k < 2; k++) {
        c32s_build(&g, ls[k], N, t);
        struct c32_pid_layout p = {0};
        char why[256] = "";
        int rc = pid_of(ls[k], &p, why, sizeof(why));
        CHECK(rc == 0, "%d %s", rc, why);
        CHECK(p.thread_pid == ls[k]->real_parent + C32S_THREAD_PID &&
              p.pid_tasks == C32S_PID_TASKS && p.pid_nr == C32S_PID_NR && p.init_pid_ns == C32S_NS,
              "%u %u %u", p.thread_pid, p.pid_tasks, p.pid_nr);
    }
}

/* One pid numbered wrong, or in another namespace: no layout holds. */
static void test_pid_disagreement_refused(void)
{
    const struct s32_layout *l = &s32_debian61;
    struct c32_pid_layout p;
    char why[256] = "";
    c32s_build(&g, l, N, t);
    s32_put(&g, C32S_PIDS + 64 * 11 + C32S_PID_NR, 12);
    int rc = pid_of(l, &p, why, sizeof(why));
    CHECK(rc == XA_EBADDATA && strstr(why, "0 layouts"), "%d %s", rc, why);
    c32s_build(&g, l, N, t);
    s32_put(&g, C32S_PIDS + 64 * 3 + C32S_PID_NR + 4, C32S_NS + 64);
    CHECK(pid_of(l, &p, why, sizeof(why)) == XA_EBADDATA, "%s", why);
    /* a non-leader's pid: PIDTYPE_TGID names another task */
    c32s_build(&g, l, N, t);
    s32_put(&g, C32S_PIDS + 64 * 5 + C32S_PID_TASKS + 4, s32_task(1) + l->real_parent + 56);
    CHECK(pid_of(l, &p, why, sizeof(why)) == XA_EBADDATA, "%s", why);
}

int main(void)
{
    test_layouts();
    test_broken_ring_refused();
    test_loop_refused();
    test_second_ring_refused();
    test_leader_mismatch_refused();
    test_pid_layouts();
    test_pid_disagreement_refused();
    CHECK_DONE();
}
