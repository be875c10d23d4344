/*
 * layout32.c -- the process walk's layout for a 32-bit kernel without BTF:
 * runs the inference of task32.c over the guest's kernel memory and fills
 * the OS layer's offsets and init_task from it.
 *
 * init_task's comm is searched in the kernel image past _etext (its .data),
 * at most IMAGE32_SPAN past _text; an mm's pgd is accepted when the entries
 * mapping PAGE_OFFSET and _text are the kernel root's own (every process
 * root copies the kernel half of swapper_pg_dir when it is made).
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/lxpriv.h"
#include "os/linux/task32.h"

#define IMAGE32_SPAN (64ULL << 20) /* as kernel32.c: _text.._end of a 32-bit kernel */

struct guest32 {
    struct xa_instance *xa;
    const struct linux_os *lx;
};

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    struct guest32 *g = ctx;
    return xa__read_va(g->xa, 0, va, buf, len, NULL);
}

/* The entry mapping @va one level above the page tables: the PAE page
 * directory's (through the PDPTE; a root made with PTI has PMD pages of its
 * own but the same entries) or the 2-level directory's. */
static int dir_entry(struct guest32 *g, uint64_t root_pa, uint64_t va, uint64_t *e)
{
    if (g->lx->mode == XA_PM_PAE) {
        uint64_t pdpte;
        int rc = xa__read_pa(g->xa, root_pa + ((va >> 30) & 3) * 8, &pdpte, 8);
        if (rc < 0 || !(pdpte & 1))
            return rc < 0 ? rc : XA_EFAULT;
        return xa__read_pa(g->xa, (pdpte & 0x000FFFFFFFFFF000ull) + ((va >> 21) & 511) * 8, e, 8);
    }
    uint32_t v;
    int rc = xa__read_pa(g->xa, root_pa + ((va >> 22) & 0x3ff) * 4, &v, 4);
    *e = v;
    return rc;
}

static bool root_ok(void *ctx, uint64_t pgd)
{
    struct guest32 *g = ctx;
    const struct linux_os *lx = g->lx;
    uint64_t align = lx->mode == XA_PM_PAE ? 32 : XA_PAGE_SIZE;
    if (pgd < lx->page_offset || (pgd & (align - 1)))
        return false;
    uint64_t pa = pgd - lx->page_offset; /* the direct map: __pa() */
    if (!xa__pa_valid(g->xa, pa, lx->mode == XA_PM_PAE ? 32 : XA_PAGE_SIZE) || pa == lx->kernel_dtb)
        return false;
    const uint64_t vas[] = {lx->page_offset, lx->text_start};
    for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
        uint64_t mine, kernels;
        if (dir_entry(g, pa, vas[i], &mine) < 0 || dir_entry(g, lx->kernel_dtb, vas[i], &kernels) < 0 ||
            !(mine & 1) || mine != kernels)
            return false;
    }
    return true;
}

int linux_layout32_infer(struct xa_instance *xa, struct linux_priv *p)
{
    struct linux_os *lx = &p->lx;
    uint64_t text = lx->text_start, etext;
    if (symtab_lookup(&lx->syms, "_etext", &etext) < 0 || etext <= text)
        etext = text;
    struct guest32 g = {xa, lx};
    struct t32_mem m = {.read = read_kva, .root_ok = root_ok, .ctx = &g,
                        .page_offset = lx->page_offset};
    uint64_t comms[T32_MAX_COMMS];
    size_t n;
    uint64_t hi = text + IMAGE32_SPAN;
    if (hi > 0x100000000ull)
        hi = 0x100000000ull;
    t32_find_comms(&m, etext, hi, comms, T32_MAX_COMMS, &n);
    struct t32_layout l;
    char why[256];
    int rc = t32_infer(&m, comms, n, &l, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(xa, rc, "task_struct layout not found in memory: %s", why);

    struct linux_offsets *o = &lx->off;
    memset(o, 0xff, sizeof(*o)); /* every offset LX_NO_OFFSET, then the ones inferred */
    o->task_tasks = l.tasks;
    o->task_pid = l.pid;
    o->task_tgid = l.tgid;
    o->task_comm = l.comm;
    o->task_real_parent = l.real_parent;
    o->task_mm = l.mm;
    o->task_active_mm = l.active_mm;
    o->task_real_cred = l.real_cred;
    o->task_state = l.state;
    o->task_flags = l.flags;
    o->mm_pgd = l.mm_pgd;
    o->cred_uid = l.cred_uid;
    o->cred_gid = l.cred_gid;
    o->cred_euid = l.cred_euid;
    o->cred_egid = l.cred_egid;
    o->task_struct_size = l.task_size;
    p->init_task = l.init_task;
    snprintf(p->layout_from, sizeof(p->layout_from),
             "inferred from memory (init_task 0x%llx, %zu tasks%s%s)",
             (unsigned long long)l.init_task, l.ring_len, l.ring_complete ? "" : "; list cut: ",
             l.ring_complete ? "" : l.ring_end);
    return 0;
}
