/*
 * task32.c -- infer a 32-bit kernel's task_struct layout from its memory.
 *
 * Debian's 686 kernels carry no BTF and no data symbols, so neither the
 * layout nor init_task's address is written down anywhere. Both are found
 * from what every 4.9+ kernel must hold:
 *   1. init_task's comm, "swapper/0" ("swapper" on UP), in the image's data;
 *   2. its tasks list_head: the pointer pair before comm whose list runs
 *      through tasks with both links consistent and a printable comm at the
 *      same distance, and comes back to init_task;
 *   3. pid/tgid: 0 in init_task, 1 and 2 in the next two tasks (init and
 *      kthreadd), equal in every leader, distinct;
 *   4. real_parent: init_task's points to init_task itself, and so do init's
 *      and kthreadd's; that pointer is where task_struct starts;
 *   5. stack (8 KiB-aligned, distinct) among the first words, with __state
 *      before it and usage, flags after (thread_info is in the task);
 *   6. mm/active_mm: NULL/non-NULL in init_task, equal where mm is set, mm
 *      NULL exactly where flags say PF_KTHREAD; and mm->pgd a root whose
 *      kernel half is the kernel's own;
 *   7. real_cred: the first pointer of the pair just before comm that
 *      points at a struct cred in every task, with root's ids in init_task
 *      and every kernel thread.
 * Each step compares a sample of tasks spread over the whole list; a step
 * with more than one answer refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/ptrset.h"
#include "os/linux/word32.h"
#include "os/linux/task32.h"
#include "xa_errors.h"

#define WIN_BEFORE T32_BEFORE
#define COMM_LEN 16u
#define MAX_ROOT_CHECKS 8u

/* ---- reading ----------------------------------------------------------- */

/* A comm as the kernel keeps it: printable, NUL-terminated, not empty. */
static bool comm_ok(const uint8_t *c)
{
    size_t i = 0;
    for (; i < COMM_LEN && c[i]; i++)
        if (c[i] < 0x20 || c[i] >= 0x7f)
            return false;
    return i > 0 && i < COMM_LEN;
}

void t32_find_comms(const struct t32_mem *m, uint64_t lo, uint64_t hi, uint64_t *found,
                    size_t max, size_t *n)
{
    static const uint8_t smp[COMM_LEN] = "swapper/0", up[COMM_LEN] = "swapper";
    enum { CHUNK = 64 << 10 };
    *n = 0;
    uint8_t *buf = malloc(CHUNK + COMM_LEN);
    if (!buf)
        return;
    for (uint64_t va = lo & ~3ull; va < hi && *n < max; va += CHUNK) {
        size_t len = hi - va < CHUNK ? (size_t)(hi - va) : CHUNK;
        if (m->read(m->ctx, va, buf, len + COMM_LEN) < 0)
            continue;
        for (size_t i = 0; i < len && *n < max; i += 4) /* comm follows pointers */
            if (buf[i] == 's' && (!memcmp(buf + i, smp, COMM_LEN) || !memcmp(buf + i, up, COMM_LEN)))
                found[(*n)++] = va + i;
    }
    free(buf);
}

/* ---- the task list ------------------------------------------------------ */

struct ring {
    uint64_t *node; /* tasks list_heads, init_task's first */
    size_t n, cap;
    struct lx_ptrset seen;
    bool complete;
    char end[160];
};

static void ring_free(struct ring *r)
{
    free(r->node);
    lx_ptrset_free(&r->seen);
    memset(r, 0, sizeof(*r));
}

static int ring_push(struct ring *r, uint64_t node)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? 2 * r->cap : 64;
        uint64_t *nn = realloc(r->node, ncap * sizeof(*nn));
        if (!nn)
            return XA_ENOMEM;
        r->node = nn;
        r->cap = ncap;
    }
    r->node[r->n++] = node;
    return lx_ptrset_add(&r->seen, node);
}

/* Follow the list from @head with both links checked and a comm at
 * @comm_delta from each node. Stops at the head (complete) or at the first
 * fault, saying why in r->end. XA_ENOMEM only. */
static int walk_ring(const struct t32_mem *m, uint64_t head, uint32_t comm_delta, struct ring *r,
                     uint64_t *budget)
{
    memset(r, 0, sizeof(*r));
    int rc = ring_push(r, head);
    if (rc < 0)
        return rc;
    uint64_t cur = head;
    for (;;) {
        uint32_t next = 0, back = 0;
        uint8_t comm[COMM_LEN];
        if (t32_rd32(m, cur, &next) < 0 || !t32_kptr(m, next)) {
            snprintf(r->end, sizeof(r->end), "bad next pointer at 0x%llx", (unsigned long long)cur);
            return 0;
        }
        if (t32_rd32(m, (uint64_t)next + 4, &back) < 0 || back != cur) {
            snprintf(r->end, sizeof(r->end), "0x%llx links to 0x%x whose prev is not it",
                     (unsigned long long)cur, next);
            return 0;
        }
        if (next == head) {
            r->complete = true;
            return 0;
        }
        if (lx_ptrset_has(&r->seen, next)) {
            snprintf(r->end, sizeof(r->end), "list loops at 0x%x without returning to init_task",
                     next);
            return 0;
        }
        if (*budget == 0) {
            snprintf(r->end, sizeof(r->end), "more than %u list steps tried in all",
                     T32_MAX_STEPS);
            return 0;
        }
        --*budget;
        if (r->n >= T32_MAX_RING) {
            snprintf(r->end, sizeof(r->end), "list longer than %u tasks", T32_MAX_RING);
            return 0;
        }
        if (m->read(m->ctx, (uint64_t)next + comm_delta, comm, COMM_LEN) < 0 || !comm_ok(comm)) {
            snprintf(r->end, sizeof(r->end), "task at list node 0x%x has no comm", next);
            return 0;
        }
        if ((rc = ring_push(r, next)) < 0)
            return rc;
        cur = next;
    }
}

static bool ring_usable(const struct ring *r)
{
    return r->complete ? r->n >= 3 : r->n >= T32_MIN_PREFIX;
}

/* ---- the sample: windows of task memory around each tasks node -------- */

struct sample {
    size_t n;
    size_t win;       /* bytes per window: WIN_BEFORE + comm_delta + COMM_LEN */
    uint64_t *node;   /* node address of each */
    uint8_t *mem;     /* n windows */
};

/* The word at @rel bytes from task @i's tasks node. */
static uint32_t W(const struct sample *s, size_t i, int64_t rel)
{
    return w32_le32(s->mem + i * s->win + (size_t)(WIN_BEFORE + rel));
}

static int take_sample(const struct t32_mem *m, const struct ring *r, uint32_t comm_delta,
                       struct sample *s)
{
    memset(s, 0, sizeof(*s));
    s->win = WIN_BEFORE + comm_delta + COMM_LEN;
    s->node = calloc(T32_SAMPLE, sizeof(*s->node));
    s->mem = malloc(T32_SAMPLE * s->win);
    if (!s->node || !s->mem)
        return XA_ENOMEM;
    /* init_task, init, kthreadd, then evenly over the rest. */
    size_t last = (size_t)-1;
    for (size_t k = 0; k < T32_SAMPLE; k++) {
        size_t idx = k < 3 ? k : 3 + (k - 3) * (r->n - 3) / (T32_SAMPLE - 3);
        if (idx >= r->n || idx == last)
            continue;
        last = idx;
        uint8_t *w = s->mem + s->n * s->win;
        if (m->read(m->ctx, r->node[idx] - WIN_BEFORE, w, s->win) < 0) {
            if (k < 3)
                return XA_EFAULT;
            continue;
        }
        s->node[s->n++] = r->node[idx];
    }
    return 0;
}

static void sample_free(struct sample *s)
{
    free(s->node);
    free(s->mem);
}

/* ---- the fields ----------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static bool distinct(uint32_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u32);
    for (size_t i = 1; i < n; i++)
        if (v[i] == v[i - 1])
            return false;
    return true;
}

/* pid then tgid: 0, 1, 2 in the first three, equal and distinct in all. */
static bool pid_at(const struct sample *s, int64_t rel)
{
    uint32_t v[T32_SAMPLE];
    for (size_t i = 0; i < s->n; i++) {
        uint32_t pid = W(s, i, rel);
        if ((i < 3 && pid != i) || pid > T32_PID_MAX || W(s, i, rel + 4) != pid)
            return false;
        v[i] = pid;
    }
    return distinct(v, s->n);
}

/* real_parent: init_task's points at init_task, before its node; init's and
 * kthreadd's too; each task's parent is a task on the list. */
static bool parent_at(const struct t32_mem *m, const struct sample *s, const struct ring *r,
                      int64_t rel, uint32_t *tasks_off)
{
    uint32_t self = W(s, 0, rel);
    if (!t32_kptr(m, self) || self >= s->node[0] || s->node[0] - self > WIN_BEFORE ||
        W(s, 1, rel) != self || W(s, 2, rel) != self)
        return false;
    uint32_t off = (uint32_t)(s->node[0] - self);
    for (size_t i = 3; i < s->n; i++) {
        uint32_t p = W(s, i, rel);
        if (!t32_kptr(m, p) || (r->complete && !lx_ptrset_has(&r->seen, (uint64_t)p + off)))
            return false;
    }
    *tasks_off = off;
    return true;
}

/* stack: a distinct THREAD_SIZE-aligned kernel pointer in every task. */
static bool stack_at(const struct t32_mem *m, const struct sample *s, int64_t rel)
{
    uint32_t v[T32_SAMPLE];
    for (size_t i = 0; i < s->n; i++) {
        v[i] = W(s, i, rel);
        if (!t32_kptr(m, v[i]) || (v[i] & (T32_THREAD_SIZE - 1)))
            return false;
    }
    return distinct(v, s->n);
}

/* mm, active_mm: (NULL, set) in init_task; mm NULL or equal to active_mm and
 * outside the task; NULL in every process but a zombie (TASK_DEAD, mm
 * released) only where flags say PF_KTHREAD (a kernel thread may borrow an
 * mm: kthread_use_mm); one user task at least. */
static bool mm_at(const struct t32_mem *m, const struct sample *s, int64_t rel, int64_t flags_rel,
                  int64_t state_rel)
{
    if (W(s, 0, rel) != 0 || !t32_kptr(m, W(s, 0, rel + 4)))
        return false;
    size_t users = 0;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t mm = W(s, i, rel);
        bool kthread = (W(s, i, flags_rel) & T32_PF_KTHREAD) != 0;
        bool dead = (W(s, i, state_rel) & T32_TASK_DEAD) != 0;
        if (mm == 0 && !kthread && !dead)
            return false;
        if (!mm)
            continue;
        uint64_t lo = s->node[i] - WIN_BEFORE, hi = s->node[i] + s->win;
        if (!t32_kptr(m, mm) || W(s, i, rel + 4) != mm || (mm >= lo && mm < hi))
            return false;
        users += !kthread;
    }
    return users > 0;
}

/* Offsets in mm_struct holding a valid root in every sampled user mm. */
static int find_pgd(const struct t32_mem *m, const struct sample *s, int64_t mm_rel,
                    uint32_t *found, size_t *nfound)
{
    uint8_t mm[MAX_ROOT_CHECKS][T32_MM_SPAN];
    size_t n = 0;
    for (size_t i = 0; i < s->n && n < MAX_ROOT_CHECKS; i++) {
        uint32_t a = W(s, i, mm_rel);
        if (a && m->read(m->ctx, a, mm[n], T32_MM_SPAN) == 0)
            n++;
    }
    *nfound = 0;
    if (!n)
        return XA_EFAULT;
    for (uint32_t off = 0; off < T32_MM_SPAN; off += 4) {
        bool ok = true;
        for (size_t k = 0; k < n && ok; k++) {
            uint32_t pgd = w32_le32(mm[k] + off);
            ok = t32_kptr(m, pgd) && m->root_ok(m->ctx, pgd);
        }
        if (ok && *nfound < 4)
            found[(*nfound)++] = off;
    }
    return 0;
}

/* A struct cred at @va: a live count, then uid, gid, suid, sgid, euid,
 * egid, fsuid, fsgid; all 0 (root's) when @root. */
static bool cred_ok(const struct t32_mem *m, uint32_t va, bool root)
{
    uint8_t c[36];
    if (!t32_kptr(m, va) || m->read(m->ctx, va, c, sizeof(c)) < 0 || w32_le32(c) == 0 ||
        w32_le32(c) > (1u << 30))
        return false;
    for (size_t k = 4; k < sizeof(c); k += 4)
        if (w32_le32(c + k) > 0x7fffffffu || (root && w32_le32(c + k)))
            return false;
    return true;
}

/* real_cred (then cred): a struct cred in every task, root's in init_task
 * (init_cred) and in every kernel thread (copies of kthreadd's). */
static bool cred_at(const struct t32_mem *m, const struct sample *s, int64_t rel, int64_t flags_rel)
{
    for (size_t i = 0; i < s->n; i++) {
        bool kthread = (W(s, i, flags_rel) & T32_PF_KTHREAD) != 0;
        if (!cred_ok(m, W(s, i, rel), kthread) || !t32_kptr(m, W(s, i, rel + 4)))
            return false;
    }
    return true;
}

/* Every step for one list whose comm is @comm_delta past its node. */
static int infer_fields(const struct t32_mem *m, const struct ring *r, uint32_t comm_delta,
                        struct t32_layout *out, char *why, size_t cap)
{
    struct sample s;
    int rc = take_sample(m, r, comm_delta, &s);
    if (rc < 0) {
        snprintf(why, cap, "the first tasks on the list cannot be read");
        sample_free(&s);
        return rc;
    }
    const int64_t lo = -(int64_t)WIN_BEFORE, hi = comm_delta; /* rel range of fields */
    int64_t pid = 0, parent = 0, stack = 0, mm = 0, cred = 0;
    size_t npid = 0;
    uint32_t tasks_off = 0;
    rc = XA_EBADDATA;

    for (int64_t rel = lo; rel + 8 <= hi; rel += 4)
        if (pid_at(&s, rel) && npid++ == 0)
            pid = rel;
    if (npid != 1) {
        snprintf(why, cap, "%s pid/tgid pair (0, 1, 2 in the first tasks)",
                 npid ? "more than one" : "no");
        goto out;
    }
    bool have_parent = false; /* the first: real_parent precedes parent */
    for (int64_t rel = lo; rel + 4 <= hi && !have_parent; rel += 4)
        if (parent_at(m, &s, r, rel, &tasks_off)) {
            parent = rel;
            have_parent = true;
        }
    if (!have_parent) {
        snprintf(why, cap, "no real_parent pointing init_task, init and kthreadd at init_task");
        goto out;
    }
    const int64_t start = -(int64_t)tasks_off; /* rel of task_struct's first byte */
    bool have_stack = false;
    for (int64_t rel = start + 4; rel < start + 64 && rel + 12 <= hi && !have_stack; rel += 4)
        if (stack_at(m, &s, rel)) {
            stack = rel;
            have_stack = true;
        }
    if (!have_stack) {
        snprintf(why, cap, "no kernel stack pointer in the first 64 bytes of task_struct");
        goto out;
    }
    const int64_t flags = stack + 8; /* __state, stack, usage, flags */
    size_t nmm = 0, npgd = 0;
    uint32_t pgd[4];
    for (int64_t rel = start; rel + 8 <= hi; rel += 4) {
        if (!mm_at(m, &s, rel, flags, stack - 4))
            continue;
        size_t nf;
        uint32_t f[4];
        if (find_pgd(m, &s, rel, f, &nf) < 0 || nf == 0)
            continue;
        if (nmm++ == 0) {
            mm = rel;
            memcpy(pgd, f, sizeof(f));
            npgd = nf;
        }
    }
    if (nmm != 1 || npgd != 1) {
        snprintf(why, cap, "%s mm/active_mm pair with a page-table root (pgd) in mm_struct "
                 "(PF_KTHREAD exactly where mm is NULL)%s",
                 nmm ? "more than one" : "no", nmm == 1 ? ": more than one pgd" : "");
        goto out;
    }
    bool have_cred = false;
    for (int64_t rel = hi - 32; rel + 8 <= hi && !have_cred; rel += 4)
        if (rel >= start && cred_at(m, &s, rel, flags)) {
            cred = rel;
            have_cred = true; /* real_cred precedes cred */
        }
    if (!have_cred) {
        snprintf(why, cap, "no real_cred before comm (root's ids in every kernel thread)");
        goto out;
    }

    *out = (struct t32_layout){
        .init_task = s.node[0] - tasks_off,
        .tasks = tasks_off,
        .pid = (uint32_t)(pid - start),
        .tgid = (uint32_t)(pid - start + 4),
        .comm = (uint32_t)(comm_delta - start),
        .real_parent = (uint32_t)(parent - start),
        .mm = (uint32_t)(mm - start),
        .active_mm = (uint32_t)(mm - start + 4),
        .real_cred = (uint32_t)(cred - start),
        .state = (uint32_t)(stack - 4 - start),
        .stack = (uint32_t)(stack - start),
        .flags = (uint32_t)(flags - start),
        .mm_pgd = pgd[0],
        /* struct cred: atomic usage, then uid, gid, suid, sgid, euid, egid */
        .cred_uid = 4, .cred_gid = 8, .cred_euid = 20, .cred_egid = 24,
        .task_size = (uint32_t)(comm_delta - start) + COMM_LEN,
        .ring_len = r->n,
        .ring_complete = r->complete,
    };
    snprintf(out->ring_end, sizeof(out->ring_end), "%s", r->end);
    rc = 0;
out:
    sample_free(&s);
    return rc;
}

/* The tasks list_head before init_task's comm at @comm: 0 with *r filled,
 * XA_ENOENT when no pointer pair qualifies, XA_EBADDATA when several do. */
static int find_tasks_list(const struct t32_mem *m, uint64_t comm, struct ring *r,
                           uint32_t *delta, uint64_t *budget, char *why, size_t cap)
{
    uint8_t win[T32_COMM_BACK];
    if (comm < T32_COMM_BACK || m->read(m->ctx, comm - T32_COMM_BACK, win, sizeof(win)) < 0) {
        snprintf(why, cap, "memory before comm 0x%llx unreadable", (unsigned long long)comm);
        return XA_ENOENT;
    }
    size_t found = 0;
    char last_end[160] = "";
    for (uint32_t back = 8; back <= T32_COMM_BACK; back += 4) {
        uint64_t lh = comm - back;
        uint32_t next = w32_le32(win + T32_COMM_BACK - back);
        uint32_t prev = w32_le32(win + T32_COMM_BACK - back + 4);
        uint32_t a = 0, b = 0;
        if (!t32_kptr(m, next) || !t32_kptr(m, prev) || next == lh ||
            t32_rd32(m, (uint64_t)next + 4, &a) < 0 ||
            a != lh || t32_rd32(m, prev, &b) < 0 || b != lh)
            continue;
        struct ring cand;
        int rc = walk_ring(m, lh, back, &cand, budget);
        if (rc < 0) {
            ring_free(&cand);
            ring_free(r);
            snprintf(why, cap, "out of memory");
            return rc;
        }
        if (!ring_usable(&cand)) {
            snprintf(last_end, sizeof(last_end), "%s after %zu tasks", cand.end, cand.n);
            ring_free(&cand);
            continue;
        }
        if (found++) {
            ring_free(&cand);
            ring_free(r);
            snprintf(why, cap, "more than one task list before comm 0x%llx",
                     (unsigned long long)comm);
            return XA_EBADDATA;
        }
        *r = cand;
        *delta = back;
    }
    if (!found) {
        snprintf(why, cap, "no task list before comm 0x%llx%s%s", (unsigned long long)comm,
                 last_end[0] ? ": " : "", last_end);
        return XA_ENOENT;
    }
    return 0;
}

int t32_infer(const struct t32_mem *m, const uint64_t *comms, size_t ncomms,
              struct t32_layout *out, char *why, size_t cap)
{
    size_t ok = 0;
    int rc = XA_ENOENT;
    char first_why[256] = "";
    uint64_t budget = T32_MAX_STEPS; /* list steps over every candidate */
    snprintf(why, cap, "no init_task comm (\"swapper/0\") in the kernel image");
    for (size_t i = 0; i < ncomms && i < T32_MAX_COMMS; i++) {
        struct ring r = {0};
        uint32_t delta = 0;
        char w[256];
        struct t32_layout l;
        int crc = find_tasks_list(m, comms[i], &r, &delta, &budget, w, sizeof(w));
        if (crc == 0)
            crc = infer_fields(m, &r, delta, &l, w, sizeof(w));
        ring_free(&r);
        if (crc == XA_ENOMEM) {
            snprintf(why, cap, "out of memory");
            return crc;
        }
        if (crc < 0) {
            if (!first_why[0])
                snprintf(first_why, sizeof(first_why), "comm at 0x%llx: %s",
                         (unsigned long long)comms[i], w);
            if (crc == XA_EBADDATA)
                rc = crc;
            continue;
        }
        if (ok++ && memcmp(&l, out, offsetof(struct t32_layout, ring_len)) != 0) {
            snprintf(why, cap, "two different task layouts fit (init_task at 0x%llx and 0x%llx)",
                     (unsigned long long)out->init_task, (unsigned long long)l.init_task);
            return XA_EBADDATA;
        }
        *out = l;
    }
    if (ok)
        return 0;
    if (first_why[0])
        snprintf(why, cap, "%s", first_why);
    return rc;
}
