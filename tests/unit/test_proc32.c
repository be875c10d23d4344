/*
 * test_proc32.c -- the inference of what procinfo.c reads on a 32-bit
 * kernel without BTF (os/linux/proc32.c), over synthetic tasks
 * (synthetic_proc32.h): two layouts found exactly past their decoys; one
 * damaged process does not hide the layout, damage everywhere or a second
 * answer refuses; every walk ends.
 */
#include <stdlib.h>

#include "check.h"
#include "synthetic_proc32.h"

static struct p32s_guest g;

struct found {
    int threads, args, start, cpu;
    struct p32_threads th;
    uint32_t arg_start, start_boottime, cpu_off;
    char why[4][256];
};

static struct found infer(void)
{
    struct found f;
    struct t32_mem m = p32s_mem(&g);
    struct p32_known k = p32s_known(&g);
    memset(&f, 0, sizeof(f));
    f.threads = p32_find_threads(&m, &k, g.t, g.n, &f.th, f.why[0], sizeof(f.why[0]));
    f.args = p32_find_args(&m, p32s_read_user, &g, g.t, g.n, &f.arg_start, f.why[1],
                           sizeof(f.why[1]));
    f.start = p32_find_start(&m, g.t, g.n, &f.start_boottime, f.why[2], sizeof(f.why[2]));
    f.cpu = p32_find_cpu(&m, &k, g.t, g.n, &f.cpu_off, f.why[3], sizeof(f.why[3]));
    return f;
}

static void test_layouts(void)
{
    const struct p32s_layout *layouts[] = {&p32s_debian61, &p32s_other};
    for (size_t k = 0; k < 2; k++) {
        const struct p32s_layout *l = layouts[k];
        p32s_build(&g, l, P32S_MAX);
        struct found f = infer();
        CHECK(f.threads == 0, "layout %zu: %s", k, f.why[0]);
        CHECK(f.th.signal == l->signal && f.th.thread_node == l->thread_node &&
              f.th.thread_head == l->thread_head, "layout %zu: %u %u %u", k, f.th.signal,
              f.th.thread_node, f.th.thread_head);
        CHECK(f.th.fits == P32S_MAX && f.th.tried == P32S_MAX && f.th.multi == 1);
        CHECK(f.args == 0, "layout %zu: %s", k, f.why[1]);
        CHECK_EQ(f.arg_start, l->arg_start);
        CHECK(f.start == 0, "layout %zu: %s", k, f.why[2]);
        CHECK_EQ(f.start_boottime, l->start_time + 8);
        if (l->state == 16) {
            CHECK(f.cpu == 0, "layout %zu: %s", k, f.why[3]);
            CHECK_EQ(f.cpu_off, 12u);
        } else {
            CHECK(f.cpu == XA_ENOTSUP && strstr(f.why[3], "thread_info"), "%s", f.why[3]);
        }
    }
}

/* One process's thread ring loops (a thread's next goes back to the one
 * before): that process does not fit, the others still give the layout. */
static void test_one_damaged_ring(void)
{
    const struct p32s_layout *l = &p32s_debian61;
    p32s_build(&g, l, P32S_MAX);
    p32s_put(&g, p32s_thread(1) + l->thread_node, p32s_thread(0) + l->thread_node);
    struct found f = infer();
    CHECK(f.threads == 0, "%s", f.why[0]);
    CHECK(f.th.thread_node == l->thread_node && f.th.fits == P32S_MAX - 1 && f.th.multi == 0);
}

/* Every ring loops back into itself: no candidate fits, a refusal in one
 * line, and the walks end. */
static void test_all_rings_loop(void)
{
    const struct p32s_layout *l = &p32s_debian61;
    p32s_build(&g, l, P32S_MAX);
    for (uint32_t i = 0; i < P32S_MAX; i++) {
        uint32_t sig = P32S_SIGNALS + i * 0x100u, node = p32s_task(i) + l->thread_node;
        if (i != P32S_THREADED) /* the node's next is itself; its prev stays the head */
            p32s_put(&g, node, node);
        else
            p32s_put(&g, p32s_thread(2) + l->thread_node, node);
        (void)sig;
    }
    struct found f = infer();
    CHECK(f.threads == XA_EBADDATA && strstr(f.why[0], "no task->signal"), "%s", f.why[0]);
    CHECK(!strchr(f.why[0], '\n'));
}

/* A second pointer to each signal struct (a copy, as a rootkit might keep):
 * two answers, refused. */
static void test_two_signal_pointers(void)
{
    const struct p32s_layout *l = &p32s_debian61;
    p32s_build(&g, l, P32S_MAX);
    for (uint32_t i = 0; i < P32S_MAX; i++)
        p32s_put(&g, p32s_task(i) + 2000, p32s_get(&g, p32s_task(i) + l->signal));
    for (uint32_t j = 0; j < P32S_NTHREADS; j++)
        p32s_put(&g, p32s_thread(j) + 2000, p32s_get(&g, p32s_thread(j) + l->signal));
    struct found f = infer();
    CHECK(f.threads == XA_EBADDATA && strstr(f.why[0], "more than one"), "%s", f.why[0]);
}

/* No process's argv[0] or executable names its comm: the areas are not
 * believed. A copy of the five words elsewhere in every mm: two answers. */
static void test_args_refused(void)
{
    const struct p32s_layout *l = &p32s_debian61;
    p32s_build(&g, l, P32S_MAX);
    for (uint32_t i = 0; i < P32S_MAX; i++)
        g.t[i].comm[0] ^= 0x20;
    struct found f = infer();
    CHECK(f.args == XA_EBADDATA && strstr(f.why[1], "no mm_struct"), "%s", f.why[1]);

    p32s_build(&g, l, P32S_MAX);
    for (uint32_t i = 0; i < P32S_MAX; i++)
        if (g.t[i].mm)
            memcpy(g.mem + (p32s_mm(i) + 400 - P32S_BASE), g.mem + (p32s_mm(i) + l->arg_start - 4
                   - P32S_BASE), 20);
    f = infer();
    CHECK(f.args == XA_EBADDATA && strstr(f.why[1], "more than one"), "%s", f.why[1]);

    /* an area that does not end in a NUL in most processes */
    p32s_build(&g, l, P32S_MAX);
    for (uint32_t i = 0; i < P32S_MAX; i++)
        if (g.t[i].mm)
            p32s_put(&g, p32s_mm(i) + l->arg_start + 12, p32s_get(&g, p32s_mm(i) + l->arg_start + 12) - 1);
    f = infer();
    CHECK(f.args == XA_EBADDATA, "%s", f.why[1]);
}

/* Start times: the same in every early task (no order), or init_task's
 * not 0: refused. */
static void test_start_refused(void)
{
    const struct p32s_layout *l = &p32s_other;
    p32s_build(&g, l, P32S_MAX);
    for (uint32_t i = 1; i < P32S_MAX; i++) {
        p32s_put64(&g, p32s_task(i) + l->start_time, 5000);
        p32s_put64(&g, p32s_task(i) + l->start_time + 8, 5000);
    }
    struct found f = infer();
    CHECK(f.start == XA_EBADDATA && strstr(f.why[2], "no start_time"), "%s", f.why[2]);

    p32s_build(&g, l, P32S_MAX);
    p32s_put64(&g, p32s_task(0) + l->start_time, 1);
    f = infer();
    CHECK(f.start == XA_EBADDATA, "%s", f.why[2]);

    /* two early tasks in one tick of the early clock: still ordered */
    p32s_build(&g, l, P32S_MAX);
    p32s_put64(&g, p32s_task(4) + l->start_time, 200000000ull + 3 * 1000003ull);
    p32s_put64(&g, p32s_task(4) + l->start_time + 8, 200000000ull + 3 * 1000003ull);
    f = infer();
    CHECK(f.start == 0 && f.start_boottime == l->start_time + 8, "%s", f.why[2]);
}

/* A per-CPU kernel thread on another CPU than its name says. */
static void test_cpu_refused(void)
{
    p32s_build(&g, &p32s_debian61, P32S_MAX);
    for (uint32_t i = 3; i < P32S_MAX; i += 6) /* the odd kernel threads: "ksoftirqd/1" */
        p32s_put(&g, p32s_task(i) + 12, 0);
    struct found f = infer();
    CHECK(f.cpu == XA_EBADDATA && strstr(f.why[3], "per-CPU"), "%s", f.why[3]);
}

/* Too few tasks and unreadable memory: refusals, never a crash. */
static void test_unreadable(void)
{
    p32s_build(&g, &p32s_debian61, P32S_MAX);
    struct p32_task t[3] = {{.task = 0xC0000000u}, {.task = 0xFFFFF000u}, {.task = 4}};
    struct t32_mem m = p32s_mem(&g);
    struct p32_known k = p32s_known(&g);
    struct p32_threads th;
    uint32_t off;
    char why[256];
    CHECK(p32_find_threads(&m, &k, t, 3, &th, why, sizeof(why)) == XA_EBADDATA);
    CHECK(p32_find_args(&m, p32s_read_user, &g, t, 3, &off, why, sizeof(why)) == XA_EBADDATA);
    CHECK(p32_find_start(&m, t, 3, &off, why, sizeof(why)) == XA_EBADDATA);
    CHECK(p32_find_cpu(&m, &k, t, 3, &off, why, sizeof(why)) == XA_EBADDATA);
}

int main(void)
{
    test_layouts();
    test_one_damaged_ring();
    test_all_rings_loop();
    test_two_signal_pointers();
    test_args_refused();
    test_start_refused();
    test_cpu_refused();
    test_unreadable();
    CHECK_DONE();
}
