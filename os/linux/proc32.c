/*
 * proc32.c -- infer what procinfo.c reads inside a process on a 32-bit
 * kernel without BTF, from facts every 6.x kernel keeps:
 *   threads: task->signal points at the group's signal_struct, whose
 *     thread_head is a ring through every thread's thread_node: the
 *     leader's and each thread's signal pointers are equal, their tgids the
 *     leader's, and a single-threaded process's ring is head <-> its node;
 *   arguments: mm's arg_start, arg_end, env_start, env_end are four
 *     ascending user addresses (arg_end == env_start) just past start_stack,
 *     each area ends in a NUL, and a process's argv[0] or the executable's
 *     path (just past env_end) names its comm;
 *   start time: start_time, start_boottime (u64 ns) are 0 in init_task,
 *     increasing over the first tasks (created one by one at boot)
 *     and boottime - monotonic only grows (suspended time);
 *   cpu: x86's 16-byte thread_info ends in cpu, and a per-CPU kernel
 *     thread ("ksoftirqd/1") runs on the CPU its name says.
 * A candidate must fit 7/8 of the tasks read (one damaged process does not
 * hide the layout; it fails when read) and be the only one that does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/proc32.h"
#include "os/linux/word32.h"
#include "os/linux/ptrset.h"
#include "xa_errors.h"

#define MAX_CANDS 16u
#define P32_CLOCK_SKEW 1000000u /* ns between reading start_time and start_boottime */

/* ---- windows of task memory --------------------------------------------- */

struct windows {
    uint8_t *mem; /* n windows of @span bytes */
    bool *ok;     /* read */
    size_t n, span;
};

/* @span bytes from each task (@of_mm: from each user task's mm_struct). */
static int read_windows(const struct t32_mem *m, const struct p32_task *t, size_t n, bool of_mm,
                        size_t span, struct windows *w)
{
    if (n > P32_SAMPLE)
        n = P32_SAMPLE;
    *w = (struct windows){.mem = malloc(n * span + 1), .ok = calloc(n + 1, 1), .n = n,
                          .span = span};
    if (!w->mem || !w->ok)
        return XA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t base = of_mm ? t[i].mm : t[i].task;
        if (of_mm && base == 0)
            continue; /* a kernel thread */
        w->ok[i] = t32_kptr(m, base) && m->read(m->ctx, base, w->mem + i * span, span) == 0;
    }
    return 0;
}

static void windows_free(struct windows *w)
{
    free(w->mem);
    free(w->ok);
}

static const uint8_t *win(const struct windows *w, size_t i)
{
    return w->mem + i * w->span;
}

/* ---- threads ------------------------------------------------------------ */

struct tcand {
    uint32_t s, h, n;
    size_t fits, multi;
};

/* Candidates from one process whose ring is only its own node: a pointer
 * S at s in the task, and in S's struct at h a list_head whose two links
 * name the task's node at n, whose two links name it back. */
static void propose(const struct t32_mem *m, uint64_t task, const uint8_t *tw, struct tcand *c,
                    size_t *nc, bool *overflow)
{
    uint8_t sig[P32_SIGNAL_SPAN];
    for (uint32_t s = 0; s + 4 <= P32_TASK_SPAN; s += 4) {
        uint32_t S = w32_le32(tw + s);
        if (!t32_kptr(m, S) || (S >= task && S < task + P32_TASK_SPAN) ||
            m->read(m->ctx, S, sig, sizeof(sig)) < 0)
            continue;
        for (uint32_t h = 0; h + 8 <= P32_SIGNAL_SPAN; h += 4) {
            uint32_t a = w32_le32(sig + h);
            if (a != w32_le32(sig + h + 4) || a < task || a - task > P32_TASK_SPAN - 8 || (a & 3))
                continue;
            uint32_t n = (uint32_t)(a - task);
            if (s == n || s == n + 4 || w32_le32(tw + n) != S + h || w32_le32(tw + n + 4) != S + h)
                continue;
            size_t k = 0;
            while (k < *nc && !(c[k].s == s && c[k].h == h && c[k].n == n))
                k++;
            if (k < *nc)
                continue;
            if (*nc == MAX_CANDS) {
                *overflow = true;
                return;
            }
            c[(*nc)++] = (struct tcand){.s = s, .h = h, .n = n};
        }
    }
}

/* The ring from the group's thread_head: both links of every node checked,
 * every node a task with the leader's signal and tgid, the leader on it,
 * at most P32_MAX_THREADS. 1 fits (*len threads), 0 not, XA_ENOMEM. */
static int ring_fits(const struct t32_mem *m, const struct p32_known *k, const struct p32_task *t,
                     const struct tcand *c, size_t *len)
{
    uint32_t S, cur, next, back, v;
    if (t32_rd32(m, t->task + c->s, &S) < 0 || !t32_kptr(m, S))
        return 0;
    const uint32_t head = S + c->h;
    struct lx_ptrset seen = {0};
    bool leader = false;
    int rc = 0;
    *len = 0;
    for (cur = head;; cur = next) {
        if (t32_rd32(m, cur, &next) < 0 || !t32_kptr(m, next) ||
            t32_rd32(m, (uint64_t)next + 4, &back) < 0 ||
            back != cur)
            goto out;
        if (next == head)
            break;
        int added = lx_ptrset_add(&seen, next);
        if (added <= 0 || *len >= P32_MAX_THREADS) {
            rc = added < 0 ? added : 0;
            goto out;
        }
        uint64_t th = (uint64_t)next - c->n;
        if (t32_rd32(m, th + c->s, &v) < 0 || v != S || t32_rd32(m, th + k->tgid, &v) < 0 ||
            v != t->tgid)
            goto out;
        leader |= th == t->task;
        ++*len;
    }
    rc = leader;
out:
    lx_ptrset_free(&seen);
    return rc;
}

int p32_find_threads(const struct t32_mem *m, const struct p32_known *k,
                     const struct p32_task *t, size_t n, struct p32_threads *out, char *why,
                     size_t cap)
{
    struct tcand c[MAX_CANDS];
    size_t nc = 0, proposers = 0;
    bool overflow = false;
    int rc;
    uint8_t *tw = malloc(P32_TASK_SPAN);
    if (!tw) {
        snprintf(why, cap, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t i = 0; i < n && i < P32_SAMPLE && proposers < P32_CANDIDATES && !overflow; i++)
        if (t32_kptr(m, t[i].task) && m->read(m->ctx, t[i].task, tw, P32_TASK_SPAN) == 0) {
            propose(m, t[i].task, tw, c, &nc, &overflow);
            proposers++;
        }
    free(tw);
    if (overflow) {
        snprintf(why, cap, "more than %u signal/thread_node candidates", MAX_CANDS);
        return XA_EBADDATA;
    }
    size_t tried = 0;
    for (size_t i = 0; i < n && i < P32_SAMPLE; i++) {
        uint32_t probe;
        if (t32_rd32(m, t[i].task, &probe) < 0)
            continue;
        tried++;
        for (size_t j = 0; j < nc; j++) {
            size_t len;
            if ((rc = ring_fits(m, k, &t[i], &c[j], &len)) < 0) {
                snprintf(why, cap, "out of memory");
                return rc;
            }
            c[j].fits += (size_t)rc;
            c[j].multi += rc && len > 1;
        }
    }
    size_t won = 0, best = 0;
    for (size_t j = 0; j < nc; j++)
        if (w32_mostly(c[j].fits, tried) && won++ == 0)
            best = j;
    if (won != 1) {
        snprintf(why, cap, "%s task->signal/thread_node pair whose signal->thread_head ring "
                 "holds each process's threads", won ? "more than one" : "no");
        return XA_EBADDATA;
    }
    *out = (struct p32_threads){.signal = c[best].s, .thread_node = c[best].n,
                                .thread_head = c[best].h, .fits = c[best].fits, .tried = tried,
                                .multi = c[best].multi};
    return 0;
}

/* ---- command line and environment ---------------------------------------- */

/* The last path element of the string in @arg is the comm (the kernel's
 * copy of the executable's name, cut to 15 bytes). */
static bool names_comm(const char *arg, size_t len, const char *comm)
{
    const char *nul = memchr(arg, '\0', len);
    size_t clen = strnlen(comm, 16);
    if (!nul || clen == 0 || clen > 15)
        return false;
    const char *base = arg;
    for (const char *p = arg; p < nul; p++)
        if (*p == '/')
            base = p + 1;
    size_t blen = (size_t)(nul - base);
    return blen >= clen && memcmp(base, comm, clen) == 0 && (blen == clen || clen == 15);
}

/* A user byte: 1 and *b, or 0 when its page is not present. */
static int user_byte(p32_user_fn user, void *uctx, uint64_t mm, uint64_t va, uint8_t *b)
{
    return user(uctx, mm, va, b, 1) == 0;
}

/* One mm at @off: -1 not the shape, 0 unreadable, 1 fits (+2 names its comm). */
static int args_fit(const struct t32_mem *m, p32_user_fn user, void *uctx,
                    const struct p32_task *t, const uint8_t *mw, uint32_t off)
{
    uint32_t ss = w32_le32(mw + off - 4), v0 = w32_le32(mw + off), v1 = w32_le32(mw + off + 4),
             v2 = w32_le32(mw + off + 8), v3 = w32_le32(mw + off + 12);
    if (!(ss <= v0 && v0 < v1 && v1 == v2 && v2 <= v3 && v3 < m->page_offset &&
          v3 - ss <= P32_ARGS_MAX))
        return -1;
    uint8_t last;
    if (!user_byte(user, uctx, t->mm, v1 - 1, &last))
        return 0;
    if (last != 0)
        return -1;
    if (v3 > v2) {
        if (!user_byte(user, uctx, t->mm, v3 - 1, &last))
            return 0;
        if (last != 0)
            return -1;
    }
    /* argv[0], then the executable's path exec copied just past env_end. */
    char name[256];
    size_t len = v1 - v0 < sizeof(name) ? v1 - v0 : sizeof(name);
    bool named = user(uctx, t->mm, v0, name, len) == 0 && names_comm(name, len, t->comm);
    len = 4096 - (v3 & 4095); /* in v3's page: the path ends before the page does */
    if (len > sizeof(name))
        len = sizeof(name);
    named |= user(uctx, t->mm, v3, name, len) == 0 && names_comm(name, len, t->comm);
    return 1 + 2 * named;
}

int p32_find_args(const struct t32_mem *m, p32_user_fn user, void *uctx,
                  const struct p32_task *t, size_t n, uint32_t *arg_start, char *why, size_t cap)
{
    struct windows w;
    int rc = read_windows(m, t, n, true, P32_MM_SPAN, &w);
    if (rc < 0) {
        windows_free(&w);
        snprintf(why, cap, "out of memory");
        return rc;
    }
    size_t won = 0;
    for (uint32_t off = 4; off + 16 <= P32_MM_SPAN; off += 4) {
        size_t tried = 0, fits = 0, named = 0;
        for (size_t i = 0; i < w.n; i++) {
            if (!w.ok[i])
                continue;
            int f = args_fit(m, user, uctx, &t[i], win(&w, i), off);
            tried += f != 0;
            fits += f > 0;
            named += f == 3;
        }
        if (w32_mostly(fits, tried) && named > 0 && won++ == 0)
            *arg_start = off;
    }
    windows_free(&w);
    if (won != 1) {
        snprintf(why, cap, "%s mm_struct arg_start..env_end (four ascending user addresses past "
                 "start_stack, NUL-ended, argv[0] or the executable naming the comm)", won ? "more than one" : "no");
        return XA_EBADDATA;
    }
    return 0;
}

/* ---- start time ---------------------------------------------------------- */

/* Whether task_struct @x, @x+8 hold start_time, start_boottime. */
static bool start_at(const struct windows *w, uint32_t x)
{
    if (!w->ok[0] || w32_le64(win(w, 0) + x) != 0 || w32_le64(win(w, 0) + x + 8) != 0)
        return false;
    uint64_t prev = 1, first = 0, gap = 0;
    size_t early = 0, tried = 0, fits = 0;
    for (size_t i = 1; i < w->n; i++) {
        if (!w->ok[i])
            continue;
        uint64_t mono = w32_le64(win(w, i) + x), boot = w32_le64(win(w, i) + x + 8);
        /* Created one after another at boot (two in one tick of the early
         * jiffies clock have the same time). */
        if (early < P32_EARLY) {
            if (mono < prev || mono >= P32_FIRST_HOUR || boot < mono)
                return false;
            if (early++ == 0)
                first = mono;
            prev = mono;
        }
        tried++;
        /* The two clocks are read one after the other: their gap grows
         * with suspended time, give or take the time between the reads. */
        if (mono >= first && boot >= mono && boot - mono + P32_CLOCK_SKEW >= gap &&
            boot < (1ull << 62)) {
            fits++;
            gap = boot - mono > gap ? boot - mono : gap;
        }
    }
    return early >= 3 && prev > first && w32_mostly(fits, tried);
}

int p32_find_start(const struct t32_mem *m, const struct p32_task *t, size_t n,
                   uint32_t *start_boottime, char *why, size_t cap)
{
    struct windows w;
    int rc = read_windows(m, t, n, false, P32_TASK_SPAN, &w);
    if (rc < 0) {
        windows_free(&w);
        snprintf(why, cap, "out of memory");
        return rc;
    }
    size_t won = 0;
    for (uint32_t x = 0; x + 16 <= P32_TASK_SPAN; x += 4)
        if (start_at(&w, x) && won++ == 0)
            *start_boottime = x + 8;
    windows_free(&w);
    if (won != 1) {
        snprintf(why, cap, "%s start_time/start_boottime pair (0 in init_task, increasing over "
                 "the first tasks)", won ? "more than one" : "no");
        return XA_EBADDATA;
    }
    return 0;
}

/* ---- cpu ------------------------------------------------------------------ */

/* N of a per-CPU kernel thread's comm "ksoftirqd/N", "migration/N",
 * "cpuhp/N"; -1 for another comm. */
static long percpu_thread(const char *comm)
{
    static const char *const names[] = {"ksoftirqd/", "migration/", "cpuhp/"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t l = strlen(names[i]);
        if (strncmp(comm, names[i], l) != 0)
            continue;
        long v = 0;
        const char *p = comm + l;
        for (; *p >= '0' && *p <= '9' && p < comm + 15 && v < 100000; p++)
            v = v * 10 + (*p - '0');
        return p > comm + l && *p == '\0' ? v : -1;
    }
    return -1;
}

int p32_find_cpu(const struct t32_mem *m, const struct p32_known *k, const struct p32_task *t,
                 size_t n, uint32_t *cpu, char *why, size_t cap)
{
    /* thread_info { flags, syscall_work, status, cpu } then __state. */
    if (k->state != 16) {
        snprintf(why, cap, "task_struct.__state at %u: no 16-byte thread_info with cpu before it",
                 k->state);
        return XA_ENOTSUP;
    }
    const uint32_t off = 12;
    size_t tried = 0, fits = 0, named = 0, named_fit = 0;
    for (size_t i = 0; i < n && i < P32_SAMPLE; i++) {
        uint32_t v;
        if (t32_rd32(m, t[i].task + off, &v) < 0)
            continue;
        tried++;
        fits += v < 8192;
        long want = percpu_thread(t[i].comm);
        if (want >= 0) {
            named++;
            named_fit += v == (uint32_t)want;
        }
    }
    if (!w32_mostly(fits, tried) || named == 0 || !w32_mostly(named_fit, named)) {
        snprintf(why, cap, "thread_info.cpu disagrees with the per-CPU kernel threads "
                 "(%zu of %zu on the CPU their name says)", named_fit, named);
        return XA_EBADDATA;
    }
    *cpu = off;
    return 0;
}
