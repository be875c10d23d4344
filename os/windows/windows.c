/*
 * windows.c -- the Windows OS layer's glue: discovery (KDBG, then the
 * EPROCESS layout that fits the guest's own process list, then the kernel's
 * page-table root from System's KPROCESS), struct xa_os_ops, info, and the
 * few kernel symbols KDBG names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/windows/win.h"

#define KUSER_SHARED_DATA 0xfffff78000000000ULL
#define KUSD_NT_BUILD_NUMBER 0x260
#define KPROCESS_DTB 0x28

static void win_destroy(void *state)
{
    free(state);
}

/* Pick the first layout of the table that the guest's list agrees with. */
static int choose_layout(struct xa_instance *xa, struct win_os *w)
{
    for (size_t i = 0; i < win_nr_layouts; i++) {
        uint64_t system;
        if (win_layout_check(xa, w->kdbg.ps_active_process_head, &win_layouts[i], &system) ==
            0) {
            w->layout = &win_layouts[i];
            w->system_eprocess = system;
            return 0;
        }
        xa__clear_error(xa);
    }
    return xa__set_error(xa, XA_ENOOS, "Windows: debugger data block at 0x%llx, but no "
                         "EPROCESS layout of Windows 7 to 11 x64 fits its process list (head "
                         "0x%llx)%s",
                         (unsigned long long)w->kdbg.addr,
                         (unsigned long long)w->kdbg.ps_active_process_head,
                         xa__kernel_paging(xa).mode == XA_PM_UNKNOWN
                             ? ": the dump has no x86-64 registers (ARM64 Windows has no layouts "
                               "here)"
                             : "");
}

/* System's page-table root becomes the kernel's, once it maps System's
 * own EPROCESS where the current root does (physical targets). */
static int take_dtb(struct xa_instance *xa, struct win_os *w)
{
    uint64_t dtb;
    if (win_u64(xa, w->system_eprocess + KPROCESS_DTB, &dtb) < 0)
        return xa__prefix_error(xa, XA_ENOOS, "Windows: System's page-table root");
    w->dtb = dtb & ~0xfffull;
    struct x86_paging pg = xa__kernel_paging(xa);
    if (pg.mode == XA_PM_UNKNOWN)
        pg = (struct x86_paging){.mode = XA_PM_IA32E, .nxe = true, .pse = true};
    if (!xa__memory_is_virtual(xa)) {
        uint64_t a, b;
        if (xa__translate(xa, 0, w->system_eprocess, &a) < 0 ||
            xa__translate_mode(xa, &pg, w->dtb, w->system_eprocess, &b) < 0 || a != b)
            return xa__set_error(xa, XA_ENOOS, "Windows: System's page-table root 0x%llx does "
                                 "not map its own EPROCESS 0x%llx",
                                 (unsigned long long)w->dtb,
                                 (unsigned long long)w->system_eprocess);
    }
    xa__set_kernel_paging(xa, &pg, w->dtb);
    return 0;
}

static int win_init(struct xa_instance *xa, const struct xa_init_opts *opts, void **state)
{
    if (opts->sysmap || opts->btf) /* the user said Linux */
        return XA_ENOOS;
    enum xa_page_mode mode = xa__kernel_paging(xa).mode;
    if (mode == XA_PM_LEGACY || mode == XA_PM_PAE)
        return xa__set_error(xa, XA_ENOOS, "Windows: 32-bit guests are not supported");
    struct win_os *w = calloc(1, sizeof(*w));
    if (!w)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    int rc = win_kdbg_find(xa, &w->kdbg);
    if (rc == 0)
        rc = choose_layout(xa, w);
    if (rc == 0)
        rc = take_dtb(xa, w);
    if (rc < 0) {
        free(w);
        return rc;
    }
    if (win_u64(xa, w->system_eprocess + w->layout->create_time, &w->boot_filetime) < 0)
        xa__clear_error(xa);
    uint32_t build = 0;
    if (xa__read_u32(xa, 0, KUSER_SHARED_DATA + KUSD_NT_BUILD_NUMBER, &build) < 0)
        xa__clear_error(xa);
    if (build)
        snprintf(w->version, sizeof(w->version), "Windows x64 build %u (%s EPROCESS layout)",
                 build & 0xffff, w->layout->name);
    else
        snprintf(w->version, sizeof(w->version), "Windows x64 (%s EPROCESS layout)",
                 w->layout->name);
    *state = w;
    return 0;
}

static int win_get_info(struct xa_instance *xa, struct xa_os_info *out)
{
    const struct win_os *w = win_os(xa);
    *out = (struct xa_os_info){
        .type = XA_OS_WINDOWS,
        .version = w->version,
        .release = w->layout->name,
        .kernel_dtb = w->dtb,
        .text_start = w->kdbg.kern_base,
        .page_mode = xa__kernel_paging(xa).mode,
        .num_symbols = 4,
        .symbols_from = w->kdbg.encoded ? "KDBG in guest memory (decoded)"
                                        : "KDBG in guest memory",
        .types_from = "EPROCESS layout table (os/windows/layouts.c)",
    };
    return 0;
}

/* The kernel symbols KDBG names, in address order. */
static size_t symbols(const struct win_os *w, const char *names[4], uint64_t addrs[4])
{
    const char *n[4] = {"KernBase", "KdDebuggerDataBlock", "PsActiveProcessHead",
                        "PsLoadedModuleList"};
    uint64_t a[4] = {w->kdbg.kern_base, w->kdbg.addr, w->kdbg.ps_active_process_head,
                     w->kdbg.ps_loaded_module_list};
    for (size_t i = 0; i < 4; i++) {
        size_t j = i;
        while (j > 0 && addrs[j - 1] > a[i]) {
            addrs[j] = addrs[j - 1];
            names[j] = names[j - 1];
            j--;
        }
        addrs[j] = a[i];
        names[j] = n[i];
    }
    return 4;
}

static int win_sym_lookup(struct xa_instance *xa, const char *name, uint64_t *addr)
{
    const char *names[4];
    uint64_t addrs[4];
    size_t n = symbols(win_os(xa), names, addrs);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) {
            *addr = addrs[i];
            return 0;
        }
    return xa__set_error(xa, XA_ENOENT, "unknown kernel symbol '%s' (a Windows guest: only "
                         "KernBase, KdDebuggerDataBlock, PsActiveProcessHead and "
                         "PsLoadedModuleList are known)", name);
}

static int win_sym_at(struct xa_instance *xa, uint64_t addr, const char **name, uint64_t *off)
{
    const char *names[4];
    uint64_t addrs[4];
    size_t n = symbols(win_os(xa), names, addrs);
    for (size_t i = n; i-- > 0;)
        if (addrs[i] <= addr) {
            *name = names[i];
            *off = addr - addrs[i];
            return 0;
        }
    return xa__set_error(xa, XA_ENOENT, "no kernel symbol at or below 0x%llx",
                         (unsigned long long)addr);
}

static int win_sym_foreach(struct xa_instance *xa, xa_sym_fn fn, void *ctx)
{
    const char *names[4];
    uint64_t addrs[4];
    size_t n = symbols(win_os(xa), names, addrs);
    for (size_t i = 0; i < n; i++)
        if (fn(names[i], addrs[i], 'D', ctx))
            break;
    return 0;
}

static int win_type_offset(struct xa_instance *xa, const char *type, const char *member,
                           uint64_t *off)
{
    const struct win_layout *l = win_os(xa)->layout;
    const struct {
        const char *type, *member;
        uint64_t off;
    } known[] = {
        {"_KPROCESS", "DirectoryTableBase", KPROCESS_DTB},
        {"_EPROCESS", "UniqueProcessId", l->pid},
        {"_EPROCESS", "ActiveProcessLinks", l->links},
        {"_EPROCESS", "InheritedFromUniqueProcessId", l->ppid},
        {"_EPROCESS", "ImageFileName", l->image_name},
        {"_EPROCESS", "CreateTime", l->create_time},
        {"_EPROCESS", "Peb", l->peb},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(known[i].type, type) == 0 && strcmp(known[i].member, member) == 0) {
            *off = known[i].off;
            return 0;
        }
    return xa__set_error(xa, XA_ENOENT, "%s.%s: not in the Windows layout table", type, member);
}

static int win_type_size(struct xa_instance *xa, const char *type, uint64_t *size)
{
    (void)size;
    return xa__set_error(xa, XA_ENOENT, "%s: structure sizes are not known for Windows guests",
                         type);
}

static int win_vma_iter_new(struct xa_instance *xa, int32_t pid, struct xa_vma_iter **out)
{
    (void)pid;
    *out = NULL;
    return xa__set_error(xa, XA_ENOTSUP, "memory maps are read for Linux guests only: this "
                         "guest runs Windows");
}

static int win_vma_iter_next(struct xa_vma_iter *it, struct xa_vma *out)
{
    (void)it;
    (void)out;
    return 0;
}

static void win_vma_iter_free(struct xa_vma_iter *it)
{
    (void)it;
}

const struct xa_os_ops xa_os_windows = {
    .name = "windows",
    .type = XA_OS_WINDOWS,
    .init = win_init,
    .destroy = win_destroy,
    .flush = NULL, /* nothing cached from memory */
    .get_info = win_get_info,
    .sym_lookup = win_sym_lookup,
    .sym_at = win_sym_at,
    .sym_foreach = win_sym_foreach,
    .type_offset = win_type_offset,
    .type_size = win_type_size,
    .process_iter_new = win_process_iter_new,
    .process_iter_next = win_process_iter_next,
    .process_iter_free = win_process_iter_free,
    .process_by_pid = win_process_by_pid,
    .module_iter_new = win_module_iter_new,
    .module_iter_next = win_module_iter_next,
    .module_iter_free = win_module_iter_free,
    .vma_iter_new = win_vma_iter_new,
    .vma_iter_next = win_vma_iter_next,
    .vma_iter_free = win_vma_iter_free,
    .process_start_time = win_process_start_time,
    .boot_time = win_boot_time,
    .process_args = win_process_args,
};
