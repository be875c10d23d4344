/*
 * procs.c -- Windows processes (EPROCESS on PsActiveProcessHead) and
 * drivers (KLDR_DATA_TABLE_ENTRY on PsLoadedModuleList).
 *
 * Both are circular LIST_ENTRY lists the guest writes: every step checks
 * that the next entry's Blink names the entry we came from, a set of the
 * entries seen stops a loop, and a bound stops a list too long. An entry
 * whose links are readable but whose fields are not (a triage dump keeps
 * only some blocks) is handed out with what is known (pid -1 when its PID
 * is missing, comm "?" when its name is) and the walk then ends with
 * XA_EFAULT saying how many entries were incomplete: a partial result,
 * flagged, never a whole-looking list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/windows/win.h"

/* KLDR_DATA_TABLE_ENTRY (x64, the same from Windows 7 to 11). */
#define LDR_DLL_BASE 0x30
#define LDR_SIZE_OF_IMAGE 0x40
#define LDR_BASE_DLL_NAME 0x58 /* UNICODE_STRING { u16 Length, u16 Max, pad, u64 Buffer } */
#define LDR_LOAD_COUNT 0x6c
#define KPROCESS_DTB 0x28
/* PEB -> RTL_USER_PROCESS_PARAMETERS -> CommandLine (x64). */
#define PEB_PROCESS_PARAMETERS 0x20
#define UPP_COMMAND_LINE 0x70
/* FILETIME of 1970-01-01, in 100 ns since 1601. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL

size_t win_utf16_to_ascii(const uint8_t *in, size_t in_len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < in_len && n + 1 < cap; i += 2) {
        uint16_t c = (uint16_t)(in[i] | in[i + 1] << 8);
        if (c == 0)
            break;
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (cap)
        out[n] = '\0';
    return n;
}

/* ---- a bounded, both-ways-checked walk ----------------------------------- */

struct seen_set {
    uint64_t *slot;
    size_t cap, n;
};

/* 1 when added, 0 when already there, XA_ENOMEM. */
static int seen_add(struct seen_set *s, uint64_t v)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *n = calloc(ncap, sizeof(*n));
        if (!n)
            return XA_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                for (size_t j = (s->slot[i] >> 3) * 0x9e3779b97f4a7c15ULL % ncap;;
                     j = (j + 1) % ncap)
                    if (!n[j]) {
                        n[j] = s->slot[i];
                        break;
                    }
        free(s->slot);
        s->slot = n;
        s->cap = ncap;
    }
    for (size_t j = (v >> 3) * 0x9e3779b97f4a7c15ULL % s->cap;; j = (j + 1) % s->cap) {
        if (s->slot[j] == v)
            return 0;
        if (!s->slot[j]) {
            s->slot[j] = v;
            s->n++;
            return 1;
        }
    }
}

struct list_walk {
    uint64_t head, cur;
    uint32_t steps, max;
    const char *what;
    struct seen_set seen;
    int err;
    bool done;
};

static void walk_init(struct list_walk *w, uint64_t head, uint32_t max, const char *what)
{
    *w = (struct list_walk){.head = head, .cur = head, .max = max, .what = what};
}

/* 1 with *node the next entry's LIST_ENTRY, 0 back at the head, or an error. */
static int walk_next(struct xa_instance *xa, struct list_walk *w, uint64_t *node)
{
    if (w->err || w->done)
        return w->err;
    uint64_t next, back;
    if (win_u64(xa, w->cur, &next) < 0)
        return w->err = xa__prefix_error(xa, XA_EFAULT, "%s broken at 0x%llx: its Flink",
                                         w->what, (unsigned long long)w->cur);
    if (next != w->head && (!win_kernel_ptr(next) || (next & 7)))
        return w->err = xa__set_error(xa, XA_EFAULT, "%s broken at 0x%llx: bad Flink 0x%llx",
                                      w->what, (unsigned long long)w->cur,
                                      (unsigned long long)next);
    if (win_u64(xa, next + 8, &back) < 0)
        return w->err = xa__prefix_error(xa, XA_EFAULT, "%s broken at 0x%llx: the Blink of "
                                         "0x%llx", w->what, (unsigned long long)w->cur,
                                         (unsigned long long)next);
    if (back != w->cur)
        return w->err = xa__set_error(xa, XA_EBADDATA, "%s broken after %u entries: 0x%llx "
                                      "links to 0x%llx, whose Blink is 0x%llx", w->what,
                                      w->steps, (unsigned long long)w->cur,
                                      (unsigned long long)next, (unsigned long long)back);
    if (next == w->head) {
        w->done = true;
        return 0;
    }
    if (w->steps >= w->max)
        return w->err = xa__set_error(xa, XA_ELIMIT, "%s longer than %u entries", w->what,
                                      w->max);
    int rc = seen_add(&w->seen, next);
    if (rc < 0)
        return w->err = xa__set_error(xa, rc, "%s: out of memory", w->what);
    if (rc == 0)
        return w->err = xa__set_error(xa, XA_ELIMIT, "%s loops (at 0x%llx) without returning "
                                      "to its head", w->what, (unsigned long long)next);
    w->steps++;
    w->cur = next;
    *node = next;
    return 1;
}

static void walk_free(struct list_walk *w)
{
    free(w->seen.slot);
    w->seen.slot = NULL;
}

/* ---- one EPROCESS -------------------------------------------------------- */

/* Fill @out from the EPROCESS at @ep; returns a bit set of what was missing. */
enum { MISS_PID = 1, MISS_NAME = 2, MISS_OTHER = 4 };

static unsigned read_process(struct xa_instance *xa, const struct win_layout *l, uint64_t ep,
                             struct xa_process *out)
{
    unsigned missing = 0;
    uint64_t v;
    memset(out, 0, sizeof(*out));
    out->task = ep;
    out->state = 'R';
    out->pid = out->tgid = -1;
    out->ppid = -1;
    if (win_u64(xa, ep + l->pid, &v) == 0 && v < WIN_MAX_PID)
        out->pid = out->tgid = (int32_t)v;
    else
        missing |= MISS_PID;
    if (win_u64(xa, ep + l->ppid, &v) == 0 && v < WIN_MAX_PID)
        out->ppid = (int32_t)v;
    else
        missing |= MISS_OTHER;
    char name[15];
    if (xa__read_va(xa, 0, ep + l->image_name, name, sizeof(name), NULL) == 0) {
        size_t n = 0;
        for (; n < sizeof(name) && name[n]; n++)
            out->comm[n] = name[n] >= 0x20 && name[n] < 0x7f ? name[n] : '?';
        out->comm[n] = '\0';
    } else {
        missing |= MISS_NAME;
        snprintf(out->comm, sizeof(out->comm), "?");
    }
    if (win_u64(xa, ep + KPROCESS_DTB, &v) == 0)
        out->dtb = v & ~0xfffull;
    else
        missing |= MISS_OTHER;
    uint64_t boot = win_os(xa) ? win_os(xa)->boot_filetime : 0;
    if (win_u64(xa, ep + l->create_time, &v) == 0)
        out->start_time = boot && v >= boot ? (v - boot) * 100 : 0; /* ns since boot */
    else
        missing |= MISS_OTHER;
    /* System is the kernel's own process; the others own a user address
     * space, which mm stands for (the EPROCESS: Windows has no mm_struct). */
    if (out->pid == 4)
        out->flags = 0x00200000; /* PF_KTHREAD, as tools know it */
    else
        out->mm = ep;
    if (missing)
        xa__clear_error(xa);
    return missing;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s >= 0x7f)
            return false;
    return true;
}

int win_layout_check(struct xa_instance *xa, uint64_t head, const struct win_layout *l,
                     uint64_t *system)
{
    /* System is the list's first entry: PID 4, named "System", a page-aligned
     * page-table root; its links point back at the head. */
    struct list_walk w;
    walk_init(&w, head, WIN_MAX_PROCESSES, "process list");
    uint64_t node;
    int rc = walk_next(xa, &w, &node);
    walk_free(&w);
    if (rc <= 0)
        return rc < 0 ? rc : XA_ENOENT;
    uint64_t ep = node - l->links, pid, dtb;
    char name[16] = {0};
    if (win_u64(xa, ep + l->pid, &pid) < 0 || win_u64(xa, ep + KPROCESS_DTB, &dtb) < 0 ||
        xa__read_va(xa, 0, ep + l->image_name, name, 15, NULL) < 0)
        return XA_ENOENT;
    if (pid != 4 || strcmp(name, "System") != 0 || !dtb || (dtb & 0xfff) || !printable(name))
        return XA_ENOENT;
    *system = ep;
    return 0;
}

/* ---- the process iterator ------------------------------------------------ */

struct xa_process_iter {
    struct xa_instance *xa; /* first: os/os.h */
    struct list_walk walk;
    struct seen_set pids;
    uint32_t incomplete, entries;
    uint64_t first_incomplete;
};

int win_process_iter_new(struct xa_instance *xa, struct xa_process_iter **out)
{
    struct xa_process_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    walk_init(&it->walk, win_os(xa)->kdbg.ps_active_process_head, WIN_MAX_PROCESSES,
              "process list (ActiveProcessLinks)");
    *out = it;
    return 0;
}

int win_process_iter_next(struct xa_process_iter *it, struct xa_process *out)
{
    struct xa_instance *xa = it->xa;
    const struct win_layout *l = win_os(xa)->layout;
    uint64_t node;
    int rc = walk_next(xa, &it->walk, &node);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        if (it->incomplete)
            return xa__set_error(xa, XA_EFAULT, "process list walked back to its head, but %u "
                                 "of its %u entries are not wholly in the dump (first: EPROCESS "
                                 "0x%llx): a partial list",
                                 it->incomplete, it->entries,
                                 (unsigned long long)it->first_incomplete);
        return 0;
    }
    it->entries++;
    unsigned missing = read_process(xa, l, node - l->links, out);
    if (missing) {
        if (!it->incomplete++)
            it->first_incomplete = node - l->links;
    }
    if (out->pid >= 0) {
        /* PIDs are handle values: multiples of 4, each once. */
        int added = (out->pid & 3) ? 0 : seen_add(&it->pids, (uint64_t)out->pid + 1);
        if (added < 0)
            return it->walk.err = xa__set_error(xa, added, "out of memory");
        if (added == 0)
            return it->walk.err = xa__set_error(xa, XA_EBADDATA, "process list: EPROCESS "
                                                "0x%llx has PID %d, %s",
                                                (unsigned long long)out->task, (int)out->pid,
                                                (out->pid & 3) ? "not a multiple of 4"
                                                               : "seen before");
    }
    return 1;
}

void win_process_iter_free(struct xa_process_iter *it)
{
    if (!it)
        return;
    walk_free(&it->walk);
    free(it->pids.slot);
    free(it);
}

int win_process_by_pid(struct xa_instance *xa, int32_t pid, struct xa_process *out)
{
    struct xa_process_iter *it = NULL;
    int rc = win_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    struct xa_process p;
    while ((rc = win_process_iter_next(it, &p)) == 1)
        if (p.pid == pid && pid >= 0) {
            *out = p;
            break;
        }
    win_process_iter_free(it);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return xa__prefix_error(xa, rc, "pid %d not found", (int)pid);
    return xa__set_error(xa, XA_ENOENT, "no process with pid %d", (int)pid);
}

/* ---- times and arguments --------------------------------------------------- */

int win_boot_time(struct xa_instance *xa, int64_t *wall_ns)
{
    uint64_t ft = win_os(xa)->boot_filetime;
    if (ft < FILETIME_UNIX_EPOCH)
        return xa__set_error(xa, XA_ENOTSUP, "Windows: System's create time is not in the dump");
    *wall_ns = (int64_t)((ft - FILETIME_UNIX_EPOCH) * 100);
    return 0;
}

int win_process_start_time(struct xa_instance *xa, int32_t pid, uint64_t *boot_ns,
                           int64_t *wall_ns)
{
    struct xa_process p;
    int rc = win_process_by_pid(xa, pid, &p);
    if (rc < 0)
        return rc;
    uint64_t boot = win_os(xa)->boot_filetime, ft;
    if (win_u64(xa, p.task + win_os(xa)->layout->create_time, &ft) < 0 ||
        ft < FILETIME_UNIX_EPOCH || boot < FILETIME_UNIX_EPOCH)
        return xa__set_error(xa, XA_EFAULT, "pid %d: create time not in the dump", (int)pid);
    /* Boot-relative: since System's creation, which is the boot. */
    if (boot_ns)
        *boot_ns = ft >= boot ? (ft - boot) * 100 : 0;
    if (wall_ns)
        *wall_ns = (int64_t)((ft - FILETIME_UNIX_EPOCH) * 100);
    return 0;
}

int win_process_args(struct xa_instance *xa, int32_t pid, bool environ, void *buf, size_t cap,
                     size_t *len, uint32_t *flags)
{
    *len = 0;
    *flags = 0;
    if (environ)
        return xa__set_error(xa, XA_ENOTSUP, "the environment of Windows processes is not read");
    struct xa_process p;
    int rc = win_process_by_pid(xa, pid, &p);
    if (rc < 0)
        return rc;
    uint64_t peb = 0, params;
    if (win_u64(xa, p.task + win_os(xa)->layout->peb, &peb) < 0)
        return xa__prefix_error(xa, XA_EFAULT, "pid %d: its PEB pointer", (int)pid);
    if (!peb) /* System and other kernel processes have no user space */
        return 0;
    uint8_t us[16];
    if (xa__read_va(xa, p.dtb, peb + PEB_PROCESS_PARAMETERS, &params, 8, NULL) < 0 ||
        xa__read_va(xa, p.dtb, params + UPP_COMMAND_LINE, us, sizeof(us), NULL) < 0) {
        *flags = XA_ARGS_ABSENT;
        return 0;
    }
    uint16_t bytes = (uint16_t)(us[0] | us[1] << 8);
    uint64_t at;
    memcpy(&at, us + 8, 8);
    uint8_t *wide = malloc(bytes ? bytes : 1);
    if (!wide)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    size_t got = 0;
    rc = xa__read_va(xa, p.dtb, at, wide, bytes, &got);
    if (rc < 0) {
        xa__clear_error(xa);
        *flags |= XA_ARGS_ABSENT;
    }
    size_t room = cap < XA_ARGS_MAX ? cap : XA_ARGS_MAX;
    char *out = buf;
    size_t n = room ? win_utf16_to_ascii(wide, got, out, room) : 0;
    if (got / 2 > n)
        *flags |= XA_ARGS_TRUNCATED;
    *len = n;
    free(wide);
    return 0;
}

/* ---- drivers --------------------------------------------------------------- */

struct xa_module_iter {
    struct xa_instance *xa; /* first: os/os.h */
    struct list_walk walk;
};

int win_module_iter_new(struct xa_instance *xa, struct xa_module_iter **out)
{
    struct xa_module_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    walk_init(&it->walk, win_os(xa)->kdbg.ps_loaded_module_list, WIN_MAX_MODULES,
              "driver list (PsLoadedModuleList)");
    *out = it;
    return 0;
}

int win_module_iter_next(struct xa_module_iter *it, struct xa_module *out)
{
    struct xa_instance *xa = it->xa;
    uint64_t e;
    int rc = walk_next(xa, &it->walk, &e);
    if (rc <= 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->module = e;
    out->refcount = -1;
    uint64_t base, name_buf;
    uint32_t size;
    uint8_t us[16];
    if (win_u64(xa, e + LDR_DLL_BASE, &base) < 0 ||
        xa__read_u32(xa, 0, e + LDR_SIZE_OF_IMAGE, &size) < 0 ||
        xa__read_va(xa, 0, e + LDR_BASE_DLL_NAME, us, sizeof(us), NULL) < 0)
        return it->walk.err = xa__prefix_error(xa, XA_EFAULT, "driver entry 0x%llx",
                                               (unsigned long long)e);
    out->base = base;
    out->size = size;
    uint16_t bytes = (uint16_t)(us[0] | us[1] << 8);
    memcpy(&name_buf, us + 8, 8);
    uint8_t wide[2 * XA_MODULE_NAME_LEN];
    size_t want = bytes < sizeof(wide) ? bytes : sizeof(wide);
    if (xa__read_va(xa, 0, name_buf, wide, want, NULL) < 0)
        return it->walk.err = xa__prefix_error(xa, XA_EFAULT, "driver entry 0x%llx: its name",
                                               (unsigned long long)e);
    win_utf16_to_ascii(wide, want, out->name, sizeof(out->name));
    uint16_t count;
    if (xa__read_va(xa, 0, e + LDR_LOAD_COUNT, &count, 2, NULL) == 0)
        out->refcount = count;
    else
        xa__clear_error(xa);
    return 1;
}

void win_module_iter_free(struct xa_module_iter *it)
{
    if (!it)
        return;
    walk_free(&it->walk);
    free(it);
}
