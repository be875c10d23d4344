/*
 * linux.h -- state and internal interfaces of the Linux OS layer.
 *
 * Files, one job each:
 *   linux.c     glue: init sequence, struct xa_os_ops, get_info
 *   symtab.c    the symbol table (name <-> address), whatever filled it
 *   kallsyms.c  find the kernel in memory and decode its kallsyms tables
 *   kernel32.c  the rest of discovery for 32-bit x86 kernels (PAE or not)
 *   sysmap.c    symbols from a user-given System.map
 *   btf.c       kernel BTF from guest memory or a file (libbpf); offsets by name
 *   tasks.c     process list (init_task.tasks), pid lookup
 *   modules.c   module list
 *   vma.c       memory maps (maple tree in 6.1+, mm->mmap list before)
 */
#ifndef XA_OS_LINUX_H
#define XA_OS_LINUX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "os/linux/symtab.h"
#include "os/os.h"

struct btf; /* libbpf */

/* Member offsets the walks need, resolved from BTF by name. UINT64_MAX when
 * absent in this kernel (optional members are checked before use). */
struct linux_offsets {
    /* filled in by btf.c; see linux_offsets_resolve() */
    uint64_t task_tasks, task_pid, task_tgid, task_comm, task_real_parent, task_parent,
        task_mm, task_active_mm, task_real_cred, task_cred, task_state, task_exit_state,
        task_flags, task_start_time, task_thread_group, task_signal;
    uint64_t mm_pgd, mm_mm_mt, mm_mmap, mm_map_count;
    uint64_t cred_uid, cred_gid, cred_euid, cred_egid;
    uint64_t module_list, module_name, module_state, module_refcnt, module_core_base,
        module_core_size;
    uint64_t vma_start, vma_end, vma_flags, vma_pgoff, vma_file, vma_next;
    uint64_t maple_tree_root, file_f_path, path_dentry, path_mnt, dentry_d_name,
        dentry_d_parent, qstr_name, qstr_len;
    uint64_t task_struct_size, module_struct_size;
};

struct linux_os {
    struct linux_symtab syms;
    char symbols_from[512];
    char types_from[512];
    struct btf *btf;
    size_t num_btf_types;
    struct linux_btf_memo *btf_memo; /* btf.c: struct/union/typedef names -> ids */
    /* kallsyms.c's window, kept for btf.c to read the BTF into: its pages
     * are already faulted in (a few MiB of fresh heap less at start-up). */
    void *spare;
    size_t spare_len;

    char version[512]; /* the "Linux version ..." banner, NUL-terminated */
    char release[128];
    uint64_t kaslr_slide, phys_base, text_start, page_offset, kernel_dtb;
    enum xa_page_mode mode;
    uint64_t image_size; /* arm64: the kernel Image's size (arm64.c) */

    struct linux_offsets off;
    bool have_offsets;

    uint64_t discovery_work; /* work units kallsyms discovery spent (kallsyms.c) */
};

static inline struct linux_os *linux_os(struct xa_instance *xa)
{
    return (struct linux_os *)xa__os_state(xa);
}

/* kallsyms.c: find the kernel and decode kallsyms into lx->syms; set
 * version, phys_base, kernel_dtb, mode, kaslr_slide, text_start, page_offset
 * and xa's kernel paging. XA_ENOOS when no Linux kernel is found. May leave
 * a buffer in lx->spare (linux_btf_load or linux_btf_free frees it). */
int linux_kallsyms_discover(struct xa_instance *xa, struct linux_os *lx);
/* kallsyms.c: the work budget of discovery on @ram bytes of guest RAM (one
 * unit per byte scanned, copied or examined; docs/limits.md). */
uint64_t linux_discovery_budget(uint64_t ram);

/* kernel32.c: the rest of discovery for a 32-bit x86 kernel whose kallsyms
 * (decoded into lx->syms, frozen) lie at guest-physical @tables_pa: page
 * offset, paging mode and page tables from memory, version. */
int linux_kernel32_discover(struct xa_instance *xa, struct linux_os *lx, uint64_t tables_pa);

/* sysmap.c: load symbols from a System.map; the KASLR slide is found in
 * memory. Sets the same fields as discovery. */
int linux_sysmap_load(struct xa_instance *xa, struct linux_os *lx, const char *path);

/* arm64.c: an AArch64 kernel (kallsyms of one, no x86 page-table symbol)? */
bool linux_arm64_kernel(const struct linux_symtab *t);
/* arm64.c: image, page tables, KASLR and the data symbols kallsyms lacks
 * (_text, swapper_pg_dir, linux_banner, __start_BTF/__stop_BTF) from
 * memory; sets what linux_kallsyms_discover() sets but the version. */
int linux_arm64_discover(struct xa_instance *xa, struct linux_os *lx, uint64_t tables_pa);
/* arm64.c, once BTF offsets are known: init_task and modules from memory. */
int linux_arm64_find_data(struct xa_instance *xa, struct linux_os *lx);

/* btf.c: load BTF from @path, or from guest memory (__start_BTF..__stop_BTF)
 * when @path is NULL; then resolve lx->off. */
int linux_btf_load(struct xa_instance *xa, struct linux_os *lx, const char *path);
void linux_btf_free(struct linux_os *lx);
int linux_type_offset(struct xa_instance *xa, const char *type, const char *member,
                      uint64_t *off);
int linux_type_size(struct xa_instance *xa, const char *type, uint64_t *size);

#endif /* XA_OS_LINUX_H */
