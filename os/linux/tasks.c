/*
 * tasks.c -- the process list: init_task.tasks, a circular list of the
 * thread-group leaders, walked with cycle detection, both links checked
 * (listwalk.c) and a hard cap. Each task is read in one piece and checked
 * before its fields are believed. At the end the number walked is compared
 * with the kernel's own count of processes.
 */
#include <stdlib.h>
#include <string.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

/* Thread-group leaders we walk at most. PID_MAX_LIMIT is 4M and a real
 * guest has thousands; a million means the list is garbage. */
#define LINUX_MAX_TASKS 1000000u
/* PID_MAX_LIMIT on 64-bit. */
#define LINUX_PID_MAX 4194304
/* A 6.x task_struct is ~10 KiB; anything far larger is not a kernel's. */
#define TASK_STRUCT_MAX (64u << 10)

/* Most CPUs whose per-CPU counters we add up (NR_CPUS is at most 8192). */
#define LINUX_MAX_CPUS 8192u

/* Task state bits (include/linux/sched.h, 4.14+; 6.1 values). */
#define TASK_REPORT 0x7fu      /* RUNNING..PARKED, the states ps can show */
#define TASK_IDLE_BITS 0x402u  /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define TASK_REPORT_IDLE 0x80u
#define TASK_RTLOCK_WAIT 0x1000u
#define TASK_DEAD 0x80u
#define EXIT_ZOMBIE 0x20u

static uint64_t get64(const uint8_t *b, uint64_t off)
{
    uint64_t v;
    memcpy(&v, b + off, sizeof(v));
    return v;
}

static uint32_t get32(const uint8_t *b, uint64_t off)
{
    uint32_t v;
    memcpy(&v, b + off, sizeof(v));
    return v;
}

/* A task field the layout lacks (a layout inferred without BTF, 32-bit)
 * has this place and reads as zeros. */
#define NO_FIELD UINT32_MAX
static uint64_t field(const uint8_t *at, size_t width)
{
    return width == 4 ? get32(at, 0) : get64(at, 0);
}

/* ps's letter, as the kernel's task_state_index() computes it. */
char task_state_char(uint32_t state, uint32_t exit_state)
{
    static const char letters[] = "RSDTtXZPI";
    uint32_t s = (state | exit_state) & TASK_REPORT;
    if ((state & TASK_IDLE_BITS) == TASK_IDLE_BITS)
        s = TASK_REPORT_IDLE;
    if (state == TASK_RTLOCK_WAIT)
        s = 2; /* shown as an uninterruptible sleep */
    unsigned idx = s ? 32u - (unsigned)__builtin_clz(s) : 0; /* fls(s): s <= 0x80 */
    return letters[idx];
}

static int need_tasks(struct xa_instance *xa)
{
    struct linux_priv *p = linux_priv(xa);
    if (p->tasks_missing[0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot list processes: %s", p->tasks_missing);
    uint64_t size = p->lx.off.task_struct_size;
    if (size == LX_NO_OFFSET || size > TASK_STRUCT_MAX)
        return xa__set_error(xa, XA_ENOTSUP, "cannot list processes: task_struct size unknown");
    const struct linux_offsets *o = &p->lx.off;
    /* The last two may be missing from a layout inferred without BTF
     * (32-bit): the walk then reads them as 0. */
    const uint64_t fields[] = {o->task_tasks, o->task_pid, o->task_tgid, o->task_comm,
                               o->task_real_parent, o->task_mm, o->task_real_cred,
                               o->task_state, o->task_flags, o->task_exit_state,
                               o->task_start_time};
    const size_t nfields = sizeof(fields) / sizeof(fields[0]), optional_from = nfields - 2;
    const bool inferred = p->init_task != 0;
    for (size_t i = 0; i < nfields; i++)
        if (inferred && i >= optional_from && fields[i] == LX_NO_OFFSET)
            continue;
        else if (fields[i] > size - 16) /* comm is the widest field read */
            return xa__set_error(xa, XA_EBADDATA, "task_struct member offset %llu beyond its size",
                                 (unsigned long long)fields[i]);
    return 0;
}

/* lx_kptr() with the OS state at hand (a walk asks it three times a task). */
static inline bool kptr_of(const struct linux_os *lx, uint64_t va)
{
    if (lx_is32(lx))
        return lx->page_offset && va >= lx->page_offset && va <= 0xFFFFFFFFull;
    return lx_kernel_ptr(va);
}

int linux_mm_dtb(struct xa_instance *xa, uint64_t mm, uint64_t *dtb)
{
    const struct linux_os *lx = linux_os(xa);
    if (mm == 0) {
        *dtb = lx->kernel_dtb ? lx->kernel_dtb : xa_kernel_dtb(xa);
        return 0;
    }
    uint64_t pgd, pa;
    int rc;
    if (lx_is32(lx)) { /* lx_ptr() without asking the core for lx again */
        uint32_t v = 0;
        rc = lx_u32(xa, mm + lx->off.mm_pgd, &v);
        pgd = v;
    } else {
        rc = lx_u64(xa, mm + lx->off.mm_pgd, &pgd);
    }
    if (rc < 0)
        return xa__prefix_error(xa, rc, "reading mm_struct at 0x%llx", (unsigned long long)mm);
    /* A PAE root is 32 bytes, from a slab (CR3 bits 31:5); others a page. */
    uint64_t align = lx->mode == XA_PM_PAE ? 32 : XA_PAGE_SIZE;
    if (!kptr_of(lx, pgd) || (pgd & (align - 1)))
        return xa__set_error(xa, XA_EBADDATA, "mm_struct at 0x%llx has a bad pgd 0x%llx",
                             (unsigned long long)mm, (unsigned long long)pgd);
    rc = xa__translate(xa, 0, pgd, &pa);
    if (rc < 0) {
        /* pgd is in the direct map, where va - page_offset is physical. */
        if (!lx->page_offset || pgd < lx->page_offset ||
            !xa__pa_valid(xa, pgd - lx->page_offset, XA_PAGE_SIZE))
            return xa__prefix_error(xa, rc, "translating pgd 0x%llx of mm 0x%llx",
                                    (unsigned long long)pgd, (unsigned long long)mm);
        pa = pgd - lx->page_offset;
    }
    *dtb = pa & ~(align - 1);
    return 0;
}

/* The task_struct fields read_task() uses. */
enum task_field { F_PID, F_TGID, F_COMM, F_FLAGS, F_STATE, F_EXIT, F_START, F_MM, F_PARENT,
                  F_CRED, F_TASKS, F_NR };
_Static_assert(F_NR <= LX_TASK_FIELDS, "lx_task_layout too small");
struct task_field_at {
    uint64_t off, width;
    enum task_field id;
};
/* The cred ids are read in one piece when they span at most this. */
#define CRED_SPAN_MAX 64u
/* Fields closer than this are read in one piece, gap and all. */
#define TASK_FIELD_GAP 256u
/* Room for every piece: the fields (at most XA_COMM_LEN wide) and the gaps
 * read through between them. */
#define TASK_FIELDS_BUF (F_NR * (XA_COMM_LEN + TASK_FIELD_GAP))

/* Group the fields used (about 250 bytes of 10 KiB on 6.1) into pieces,
 * nearby ones together, once per instance. need_tasks() has checked every
 * offset against the struct's size. */
static const struct lx_task_layout *task_layout(struct xa_instance *xa)
{
    struct lx_task_layout *lay = &linux_priv(xa)->task_layout;
    if (lay->nr_pieces)
        return lay;
    const struct linux_offsets *o = &linux_os(xa)->off;
    const uint64_t ps = lx_ptr_size(xa);
    const struct task_field_at all[F_NR] = {{o->task_pid, 4, F_PID},  {o->task_tgid, 4, F_TGID},
                 {o->task_comm, XA_COMM_LEN, F_COMM}, {o->task_flags, 4, F_FLAGS},
                 {o->task_state, 4, F_STATE},       {o->task_exit_state, 4, F_EXIT},
                 {o->task_start_time, 8, F_START},  {o->task_mm, ps, F_MM},
                 {o->task_real_parent, ps, F_PARENT}, {o->task_real_cred, ps, F_CRED},
                 {o->task_tasks, 2 * ps, F_TASKS}}; /* the list links, for the walk */
    /* Fields the layout lacks (need_tasks() allowed them) read as zeros. */
    struct task_field_at f[F_NR];
    size_t nf = 0;
    for (size_t i = 0; i < F_NR; i++) {
        lay->pos[i] = NO_FIELD;
        lay->piece_of[i] = LX_TASK_FIELDS; /* no piece: the zeros */
        lay->in_piece[i] = 0;
        if (all[i].off != LX_NO_OFFSET)
            f[nf++] = all[i];
    }
    for (size_t i = 1; i < nf; i++) /* by offset */
        for (size_t j = i; j > 0 && f[j].off < f[j - 1].off; j--) {
            struct task_field_at t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }
    size_t used = 0, n = 0;
    for (size_t i = 0; i < nf;) {
        uint64_t lo = f[i].off, hi = f[i].off + f[i].width;
        size_t j = i + 1;
        for (; j < nf && f[j].off <= hi + TASK_FIELD_GAP; j++)
            hi = f[j].off + f[j].width > hi ? f[j].off + f[j].width : hi;
        for (size_t k = i; k < j; k++) {
            lay->pos[f[k].id] = (uint32_t)(used + (f[k].off - lo));
            lay->piece_of[f[k].id] = (uint8_t)n;
            lay->in_piece[f[k].id] = (uint32_t)(f[k].off - lo);
        }
        lay->piece_off[n] = lo;
        lay->piece_len[n++] = (uint32_t)(hi - lo);
        used += (size_t)(hi - lo);
        i = j;
    }
    /* The ids sit together at the start of struct cred: one read of their span. */
    const uint64_t id_off[4] = {o->cred_uid, o->cred_gid, o->cred_euid, o->cred_egid};
    uint64_t id_lo = id_off[0], id_hi = id_off[0] + 4;
    for (int i = 1; i < 4; i++) {
        id_lo = id_off[i] < id_lo ? id_off[i] : id_lo;
        id_hi = id_off[i] + 4 > id_hi ? id_off[i] + 4 : id_hi;
    }
    lay->cred_lo = id_lo;
    lay->cred_len = id_hi - id_lo <= CRED_SPAN_MAX ? (uint32_t)(id_hi - id_lo) : 0;
    for (int i = 0; i < 4; i++)
        lay->cred_pos[i] = (uint32_t)(id_off[i] - id_lo);
    lay->nr_pieces = n;
    return lay;
}

/* Where each field of the task at @task is: in place in the mapping when
 * memory is static and a piece lies inside one page (no copy), else copied
 * into @buf (TASK_FIELDS_BUF bytes). at[f] is NULL for a field the layout
 * lacks. Bytes read in place count only if xa__memory_check() passes after
 * the last of them is read (a file truncated under its mapping reads as
 * zeros): the caller checks once it has decoded the task. */
static int read_task_fields(struct xa_instance *xa, uint64_t task,
                            const struct lx_task_layout *lay, uint8_t *buf,
                            const uint8_t *at[F_NR])
{
    static const uint8_t zeros[XA_COMM_LEN]; /* the widest field */
    const uint8_t *piece[LX_TASK_FIELDS + 1];
    size_t used = 0;
    for (size_t i = 0, j; i < lay->nr_pieces; i = j) {
        /* Pieces i..j-1 end in the page piece i starts in: one look-up. */
        uint64_t lo = task + lay->piece_off[i];
        for (j = i + 1; j < lay->nr_pieces &&
                        ((task + lay->piece_off[j] + lay->piece_len[j] - 1) ^ lo) < XA_PAGE_SIZE;
             j++)
            ;
        const uint8_t *span;
        uint64_t len = lay->piece_off[j - 1] + lay->piece_len[j - 1] - lay->piece_off[i];
        bool in_place = xa__va_in_page(xa, 0, lo, (size_t)len, &span) == 0;
        for (size_t k = i; k < j; k++) {
            if (in_place) {
                piece[k] = span + (lay->piece_off[k] - lay->piece_off[i]);
            } else {
                int rc = lx_read(xa, task + lay->piece_off[k], buf + used, lay->piece_len[k]);
                if (rc < 0)
                    return rc;
                piece[k] = buf + used;
            }
            used += lay->piece_len[k];
        }
    }
    piece[LX_TASK_FIELDS] = zeros;
    for (size_t f = 0; f < F_NR; f++)
        at[f] = piece[lay->piece_of[f]] + lay->in_piece[f];
    return 0;
}

/*
 * What one walk remembers of the tasks it has read, by address: a parent is
 * usually walked before its children (the list is in fork order).
 * Direct-mapped; a miss reads the guest. (Creds are not remembered: a
 * process gets a cred of its own at fork -- copy_creds() shares one only
 * with CLONE_THREAD, kernel threads included -- so a walk of leaders never
 * met one twice on the test guests.)
 * One table per instance, allocated once: each walk takes a new generation
 * and sees only its own entries (no clearing per walk; another walk at the
 * same time only costs misses).
 */
#define TGID_MEMO 1024
struct lx_tgid_memo {
    struct {
        uint64_t task;
        int32_t tgid;
        uint32_t gen; /* the walk that wrote it; 0: empty */
    } t[TGID_MEMO];
};

/* The instance's memo and a generation of its own for a new walk; NULL
 * without memory (every parent and cred is then read). */
static struct lx_tgid_memo *walk_memo(struct linux_priv *p, uint32_t *gen)
{
    if (!p->walk_memo)
        p->walk_memo = calloc(1, sizeof(*p->walk_memo));
    if (!p->walk_memo)
        return NULL;
    if (++p->walk_gen == 0) { /* wrapped: no entry may carry a reused one */
        memset(p->walk_memo, 0, sizeof(*p->walk_memo));
        p->walk_gen = 1;
    }
    *gen = p->walk_gen;
    return p->walk_memo;
}

static unsigned memo_slot(uint64_t addr, unsigned slots)
{
    return (unsigned)((addr * 0x9e3779b97f4a7c15ull) >> 40) & (slots - 1);
}

/* The parent's tgid: remembered from this walk, or read. */
static int parent_tgid(struct xa_instance *xa, const struct lx_tgid_memo *m, uint32_t gen,
                       uint64_t parent, uint32_t *tgid)
{
    if (m) {
        unsigned i = memo_slot(parent, TGID_MEMO);
        if (m->t[i].gen == gen && m->t[i].task == parent) {
            *tgid = (uint32_t)m->t[i].tgid;
            return 0;
        }
    }
    return lx_u32(xa, parent + linux_os(xa)->off.task_tgid, tgid);
}

/* uid, gid, euid, egid of the cred at @cred (a kernel pointer). */
static int cred_ids(struct xa_instance *xa, const struct lx_task_layout *lay, uint64_t cred,
                    uint32_t ids[4])
{
    if (lay->cred_len) {
        uint8_t idb[CRED_SPAN_MAX];
        if (lx_read(xa, cred + lay->cred_lo, idb, lay->cred_len) < 0)
            return XA_EFAULT;
        for (int i = 0; i < 4; i++)
            ids[i] = get32(idb, lay->cred_pos[i]);
    } else {
        for (int i = 0; i < 4; i++)
            if (lx_u32(xa, cred + lay->cred_lo + lay->cred_pos[i], &ids[i]) < 0)
                return XA_EFAULT;
    }
    return 0;
}

/* True when none of the @len (< 16) bytes of @comm (16 readable) is a
 * control byte (below 0x20, or 0x7f): eight bytes a step, the bytes past
 * @len replaced by a plain one first. */
static inline bool comm_is_plain(const char *comm, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t w[2];
    memcpy(w, comm, sizeof(w));
    for (int k = 0; k < 2; k++) {
        size_t in = len > 8u * (size_t)k ? len - 8u * (size_t)k : 0;
        uint64_t keep = in >= 8 ? ~0ull : (1ull << (8 * in)) - 1;
        uint64_t x = (w[k] & keep) | (0x61 * ones & ~keep);
        uint64_t below = (x - 0x20 * ones) & ~x & highs; /* a byte < 0x20 */
        uint64_t d = x ^ (0x7f * ones);
        uint64_t del = (d - ones) & ~d & highs; /* a byte == 0x7f */
        if (below | del)
            return false;
    }
    return true;
}

/* The first NUL of the XA_COMM_LEN (16) bytes at @comm, or NULL: eight
 * bytes a step, no call (the lowest byte the zero test flags is the first
 * zero one: false hits only come above a real zero). */
static inline const char *comm_nul(const char *comm)
{
    _Static_assert(XA_COMM_LEN == 16, "comm is read as two words");
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t w[2];
    memcpy(w, comm, sizeof(w));
    for (int k = 0; k < 2; k++) {
        uint64_t zero = (w[k] - ones) & ~w[k] & highs;
        if (zero)
            return comm + 8 * k + (__builtin_ctzll(zero) >> 3);
    }
    return NULL;
}

static int decode_task(struct xa_instance *xa, uint64_t task, const uint8_t *const at[F_NR],
                       const struct lx_task_layout *lay, struct lx_tgid_memo *m,
                       uint32_t gen, struct xa_process *out)
{
    const struct linux_os *lx = linux_os(xa);
    static const struct xa_process none; /* copied inline: no rep stos */
    memcpy(out, &none, sizeof(*out));
    int32_t pid = (int32_t)get32(at[F_PID], 0);
    int32_t tgid = (int32_t)get32(at[F_TGID], 0);
    const char *comm = (const char *)at[F_COMM];
    const char *nul = comm_nul(comm);
    if (pid < 0 || pid > LINUX_PID_MAX || tgid < 0 || tgid > LINUX_PID_MAX || !nul) {
        return xa__set_error(xa, XA_EBADDATA,
                             "implausible task at 0x%llx (pid %d, tgid %d, comm %s)",
                             (unsigned long long)task, (int)pid, (int)tgid,
                             nul ? "ok" : "unterminated");
    }
    out->pid = tgid; /* the process id user space sees */
    out->tgid = tgid;
    /* comm is set by the task itself (prctl): show control bytes as '?'. */
    const size_t comm_len = (size_t)(nul - comm);
    if (comm_is_plain(comm, comm_len)) {
        memcpy(out->comm, comm, comm_len);
    } else {
        for (size_t i = 0; i < comm_len; i++)
            out->comm[i] = ((unsigned char)comm[i] < 0x20 || comm[i] == 0x7f) ? '?' : comm[i];
    }
    const size_t ps = lx_is32(lx) ? 4 : 8;
    uint32_t state = (uint32_t)field(at[F_STATE], 4);
    uint32_t exit_state = (uint32_t)field(at[F_EXIT], 4);
    if (lay->pos[F_EXIT] == NO_FIELD && (state & TASK_DEAD))
        exit_state = EXIT_ZOMBIE; /* exit_state unknown: a dead leader is a zombie until reaped */
    out->flags = get32(at[F_FLAGS], 0);
    out->state = task_state_char(state, exit_state);
    out->task = task;
    out->start_time = field(at[F_START], 8);
    out->mm = field(at[F_MM], ps);
    uint64_t parent = field(at[F_PARENT], ps);
    uint64_t cred = field(at[F_CRED], ps);

    if (out->mm && !kptr_of(lx, out->mm))
        return xa__set_error(xa, XA_EBADDATA, "task %d at 0x%llx has a bad mm 0x%llx", (int)pid,
                             (unsigned long long)task, (unsigned long long)out->mm);

    uint32_t v;
    if (parent == task) {
        out->ppid = 0; /* init_task is its own parent */
    } else {
        if (!kptr_of(lx, parent) || parent_tgid(xa, m, gen, parent, &v) < 0)
            return xa__set_error(xa, XA_EBADDATA, "task %d at 0x%llx: bad real_parent 0x%llx",
                                 (int)pid, (unsigned long long)task, (unsigned long long)parent);
        out->ppid = (int32_t)v;
    }

    uint32_t ids[4];
    if (!kptr_of(lx, cred) || cred_ids(xa, lay, cred, ids) < 0)
        return xa__set_error(xa, XA_EBADDATA, "task %d at 0x%llx: bad real_cred 0x%llx",
                             (int)pid, (unsigned long long)task, (unsigned long long)cred);
    out->uid = ids[0];
    out->gid = ids[1];
    out->euid = ids[2];
    out->egid = ids[3];

    int rc = linux_mm_dtb(xa, out->mm, &out->dtb);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "task %d", (int)pid);
    if (m) {
        unsigned i = memo_slot(task, TGID_MEMO);
        m->t[i].task = task;
        m->t[i].tgid = tgid;
        m->t[i].gen = gen;
    }
    return 0;
}

/* Read and check one task_struct. */
static int read_task(struct xa_instance *xa, uint64_t task, struct xa_process *out)
{
    const struct lx_task_layout *lay = task_layout(xa);
    uint8_t b[TASK_FIELDS_BUF];
    const uint8_t *at[F_NR];
    int rc = read_task_fields(xa, task, lay, b, at);
    if (rc < 0)
        return xa__prefix_error(xa, XA_EFAULT, "task list broken at 0x%llx",
                                (unsigned long long)task);
    rc = decode_task(xa, task, at, lay, NULL, 0, out);
    int lost = xa__memory_check(xa); /* bytes read in place: see read_task_fields */
    return lost < 0 ? lost : rc;
}

/*
 * The kernel's count of processes, as nr_processes() computes it: the sum
 * over CPUs of the per-CPU process_counts, raised when a thread-group leader
 * joins init_task.tasks and lowered when it leaves, under the same lock. It
 * counts every task on the list but init_task. XA_ENOENT when the symbols are
 * missing or unreadable (the check is then skipped).
 */
static int kernel_process_count(struct xa_instance *xa, uint64_t *count)
{
    const struct linux_symtab *t = &linux_os(xa)->syms;
    uint64_t counts, offsets, ids;
    /* x86-32 links per-CPU variables at absolute addresses: not read here. */
    if (lx_is32(linux_os(xa)) || symtab_lookup(t, "process_counts", &counts) < 0)
        return XA_ENOENT;
    if (lx_kernel_ptr(counts)) /* a kernel without SMP: one plain counter */
        return lx_u64(xa, counts, count) < 0 ? XA_ENOENT : 0;
    uint32_t ncpus;
    if (symtab_lookup(t, "__per_cpu_offset", &offsets) < 0 ||
        symtab_lookup(t, "nr_cpu_ids", &ids) < 0 || lx_u32(xa, ids, &ncpus) < 0 ||
        ncpus == 0 || ncpus > LINUX_MAX_CPUS)
        return XA_ENOENT;
    /* Per-CPU values wrap (a process forked on one CPU exits on another):
     * only the sum is meaningful. */
    uint64_t sum = 0;
    for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
        uint64_t base, v;
        if (lx_u64(xa, offsets + 8ull * cpu, &base) < 0 || lx_u64(xa, base + counts, &v) < 0)
            return XA_ENOENT;
        sum += v;
    }
    *count = sum;
    return 0;
}

/* At the end of a whole walk: does the kernel count as many processes? On
 * a running guest processes come and go during the walk, so only a target
 * that cannot change (a dump) is checked. */
static int check_process_count(struct xa_process_iter *it)
{
    struct xa_instance *xa = it->xa;
    uint64_t kernel;
    if (xa_is_live(xa) || kernel_process_count(xa, &kernel) < 0)
        return 0;
    uint64_t walked = it->walk.steps; /* every task but init_task */
    linux_priv(xa)->tasks_last_walk = (size_t)walked + 1;
    if (walked == kernel)
        return 0;
    return it->walk.err = xa__set_error(xa, XA_EBADDATA,
                                        "task list incomplete: %llu processes on the list, "
                                        "the kernel counts %llu",
                                        (unsigned long long)walked + 1,
                                        (unsigned long long)kernel + 1);
}

/* ---- the kept process list (static memory only) ---------------------- */

static void proc_list_unref(struct lx_proc_list *l)
{
    if (l && --l->refs == 0) {
        free(l->procs);
        free(l);
    }
}

void linux_proc_list_drop(struct linux_priv *p)
{
    proc_list_unref(p->proc_list);
    p->proc_list = NULL;
}

void linux_tasks_free(struct linux_priv *p)
{
    linux_proc_list_drop(p);
    free(p->walk_memo);
    p->walk_memo = NULL;
}

/* Add one decoded process to the list a walk is recording; on no memory
 * the recording stops (the walk itself goes on). */
static void record_process(struct xa_process_iter *it, const struct xa_process *p)
{
    struct lx_proc_list *l = it->record;
    if (!l)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 512;
        struct xa_process *np = realloc(l->procs, cap * sizeof(*np));
        if (!np) {
            proc_list_unref(l);
            it->record = NULL;
            return;
        }
        l->procs = np;
        l->cap = cap;
    }
    l->procs[l->n++] = *p;
}

/* At the clean end of a recorded walk: keep the list for the next walks,
 * unless memory became changeable meanwhile or a list is already kept. */
static void keep_recorded(struct xa_process_iter *it)
{
    struct linux_priv *p = linux_priv(it->xa);
    struct lx_proc_list *l = it->record;
    it->record = NULL;
    if (!l)
        return;
    if (p->proc_list || !xa__memory_static(it->xa)) {
        proc_list_unref(l);
        return;
    }
    p->proc_list = l; /* the iterator's reference passes to the instance */
}

int linux_process_iter_new(struct xa_instance *xa, struct xa_process_iter **out)
{
    int rc = need_tasks(xa);
    if (rc < 0)
        return rc;
    const struct linux_os *lx = linux_os(xa);
    uint64_t init_task = linux_priv(xa)->init_task; /* found in memory (layout32.c) */
    if (!init_task && symtab_lookup(&lx->syms, "init_task", &init_task) < 0)
        return xa__set_error(xa, XA_ENOENT, "cannot list processes: no init_task symbol");
    struct xa_process_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    xa__os_walk_started(xa);
    struct lx_proc_list *kept = linux_priv(xa)->proc_list;
    if (kept && xa__memory_static(xa)) {
        /* The same memory decodes to the same list: hand it out again. */
        kept->refs++;
        it->replay = kept;
        *out = it;
        return 0;
    }
    it->tgids = walk_memo(linux_priv(xa), &it->memo_gen);
    if (xa__memory_static(xa)) {
        it->record = calloc(1, sizeof(*it->record));
        if (it->record)
            it->record->refs = 1;
    }
    lx_list_init(&it->walk, init_task + lx->off.task_tasks, LINUX_MAX_TASKS, "task list");
    /* A dump's list is walked without the cycle set (listwalk.c says why
     * its back links suffice); a running guest's keeps it, with room for
     * as many as last time (more still grow the set). */
    it->walk.immutable = xa__memory_static(xa);
    if (!it->walk.immutable)
        (void)lx_ptrset_reserve(&it->walk.seen, linux_priv(xa)->tasks_last_walk);
    *out = it;
    return 0;
}

/* The next process of a kept list; the one check a read would make (a
 * mapped dump that shrank fails every call from then on). */
static int replay_next(struct xa_process_iter *it, struct xa_process *out)
{
    int rc = xa__memory_check(it->xa);
    if (rc < 0)
        return rc;
    if (it->replay_pos == it->replay->n)
        return 0;
    *out = it->replay->procs[it->replay_pos++];
    return 1;
}

/* Each task's list links are read with its fields: the step to the next
 * task costs no read of its own, and the next task's prev link is checked
 * against the task we came from (lx_list_advance/lx_list_link_back). */
int linux_process_iter_next(struct xa_process_iter *it, struct xa_process *out)
{
    if (it->replay)
        return replay_next(it, out);
    struct xa_instance *xa = it->xa;
    struct linux_priv *p = linux_priv(xa); /* once: each asks the core */
    const struct linux_offsets *o = &p->lx.off;
    const struct lx_task_layout *lay = p->task_layout.nr_pieces ? &p->task_layout : task_layout(xa);
    const size_t ps = lx_is32(&p->lx) ? 4 : 8;
    uint8_t b[TASK_FIELDS_BUF];
    const uint8_t *at[F_NR];
    uint64_t node = it->walk.head;
    int rc;
    if (it->head_done) {
        rc = lx_list_advance(xa, &it->walk, it->cur_next, &node);
        if (rc == 0 && !it->count_checked) {
            it->count_checked = true;
            rc = check_process_count(it);
            if (rc == 0)
                keep_recorded(it);
        }
        if (rc <= 0)
            return rc;
        rc = read_task_fields(xa, node - o->task_tasks, lay, b, at);
        if (rc < 0)
            return it->walk.err = xa__prefix_error(
                       xa, XA_EFAULT, "task list broken at 0x%llx: cannot read the task at 0x%llx",
                       (unsigned long long)it->walk.cur,
                       (unsigned long long)(node - o->task_tasks));
        rc = lx_list_link_back(xa, &it->walk, node, field(at[F_TASKS] + ps, ps));
        if (rc < 0) { /* a link read in place from a file cut under us is no damage */
            int lost = xa__memory_check(xa);
            return lost < 0 ? (it->walk.err = lost) : rc;
        }
    } else {
        if (it->walk.err)
            return it->walk.err;
        rc = read_task_fields(xa, node - o->task_tasks, lay, b, at);
        if (rc < 0)
            return it->walk.err = xa__prefix_error(xa, XA_EFAULT, "task list broken at 0x%llx",
                                                   (unsigned long long)(node - o->task_tasks));
        it->head_done = true; /* init_task (pid 0) comes first */
    }
    it->cur_next = field(at[F_TASKS], ps);
    rc = decode_task(xa, node - o->task_tasks, at, lay, it->tgids, it->memo_gen, out);
    /* The last byte read in place has been read: were they the file's? */
    int lost = xa__memory_check(xa);
    if (lost < 0 || rc < 0)
        return it->walk.err = lost < 0 ? lost : rc;
    record_process(it, out);
    return 1;
}

void linux_process_iter_free(struct xa_process_iter *it)
{
    if (it) {
        lx_list_free(&it->walk);
        proc_list_unref(it->replay);
        proc_list_unref(it->record); /* a walk left before its end */
    }
    free(it);
}

int linux_task_by_pid(struct xa_instance *xa, int32_t pid, uint64_t *task)
{
    struct xa_process p;
    int rc = linux_process_by_pid(xa, pid, &p);
    if (rc == 0)
        *task = p.task;
    return rc;
}

static int cmp_pid(const void *a, const void *b)
{
    const struct linux_pid_entry *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static const struct linux_pid_entry *index_find(const struct linux_priv *p, int32_t pid)
{
    struct linux_pid_entry key = {.pid = pid};
    if (!p->pid_index)
        return NULL;
    const struct linux_pid_entry *e =
        bsearch(&key, p->pid_index, p->nr_pid_index, sizeof(key), cmp_pid);
    /* Two tasks claiming one pid (a forged pid field): bsearch would pick
     * either; the walk refuses the lookup instead. */
    if (e && ((e > p->pid_index && e[-1].pid == pid) ||
              (e + 1 < p->pid_index + p->nr_pid_index && e[1].pid == pid)))
        return NULL;
    return e;
}

/* Walk the whole list, remembering every pid's task; stop early at none:
 * the index is only kept when the walk completed. */
static int walk_and_index(struct xa_instance *xa, int32_t pid, struct xa_process *out)
{
    struct linux_priv *p = linux_priv(xa);
    struct xa_process_iter *it;
    int rc = linux_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    struct linux_pid_entry *idx = NULL;
    size_t n = 0, cap = 0, walked = 0;
    bool found = false, no_index = false;
    uint64_t twin = 0; /* a second task claiming @pid */
    struct xa_process cur;
    while ((rc = linux_process_iter_next(it, &cur)) == 1) {
        walked++;
        if (cur.pid == pid && !found) {
            *out = cur;
            found = true;
        } else if (cur.pid == pid && !twin) {
            twin = cur.task;
        }
        if (no_index)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 512;
            struct linux_pid_entry *ni = realloc(idx, ncap * sizeof(*ni));
            if (!ni) {
                no_index = true; /* still answer the lookup */
                continue;
            }
            idx = ni;
            cap = ncap;
        }
        idx[n++] = (struct linux_pid_entry){cur.pid, cur.task};
    }
    linux_process_iter_free(it);
    if (rc == 0 && !no_index) {
        qsort(idx, n, sizeof(*idx), cmp_pid);
        free(p->pid_index);
        p->pid_index = idx;
        p->nr_pid_index = n;
    } else {
        free(idx);
    }
    /* The kernel gives each thread group's leader its own pid: a second
     * claim is forged, and either task could be the one asked for. */
    if (twin)
        return xa__set_error(xa, XA_EBADDATA, "pid %d is claimed by two tasks (0x%llx and 0x%llx)",
                             (int)pid, (unsigned long long)out->task, (unsigned long long)twin);
    if (found)
        return 0;
    /* Say why the pid was not found: a walk that broke off may have missed it. */
    if (rc < 0)
        return xa__prefix_error(xa, rc, "pid %d not found (%zu processes walked)", (int)pid,
                                walked);
    return xa__set_error(xa, XA_ENOENT, "no process with pid %d (%zu processes walked)",
                         (int)pid, walked);
}

int linux_process_by_pid(struct xa_instance *xa, int32_t pid, struct xa_process *out)
{
    int rc = need_tasks(xa);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "cannot look up pid %d", (int)pid);
    const struct linux_pid_entry *e = index_find(linux_priv(xa), pid);
    if (e && read_task(xa, e->task, out) == 0 && out->pid == pid)
        return 0;
    return walk_and_index(xa, pid, out);
}
