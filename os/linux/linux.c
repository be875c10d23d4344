/*
 * linux.c -- the Linux OS layer's glue: init sequence (symbols, then BTF),
 * struct xa_os_ops, get_info, symbol and type calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"
#include "os/linux/netlog.h"
#include "os/linux/procinfo.h"
#include "os/linux/files.h"
#include "os/linux/check.h"

_Static_assert(offsetof(struct xa_thread_iter, xa) == 0, "xa first (os/os.h, struct xa_os_iter)");

static void linux_destroy(void *state)
{
    struct linux_priv *p = state;
    if (!p)
        return;
    free(p->pid_index);
    linux_tasks_free(p);
    linux_procinfo_free(p);
    linux_files_free(p);
    linux_net_free(p);
    linux_kmsg_free(p);
    symtab_free(&p->lx.syms);
    linux_btf_free(&p->lx);
    free(p);
}

static void linux_flush(void *state)
{
    struct linux_priv *p = state;
    if (!p)
        return;
    free(p->pid_index);
    p->pid_index = NULL;
    p->nr_pid_index = 0;
    linux_proc_list_drop(p);
    linux_net_flush(p);
}

static void note_missing(char *dst, size_t cap, const char *why)
{
    snprintf(dst, cap, "%s", why);
}

static int linux_init(struct xa_instance *xa, const struct xa_init_opts *opts, void **state)
{
    struct linux_priv *p = calloc(1, sizeof(*p));
    if (!p)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    struct linux_os *lx = &p->lx;

    int rc = opts->sysmap ? linux_sysmap_load(xa, lx, opts->sysmap)
                          : linux_kallsyms_discover(xa, lx);
    if (rc < 0) {
        linux_destroy(p);
        return rc;
    }

    /* Types: without BTF the symbols still work; the walks then explain
     * why they cannot run. A BTF file the user named must load. */
    rc = linux_btf_load(xa, lx, opts->btf);
    if (rc < 0 && opts->btf) {
        linux_destroy(p);
        return rc;
    }
    if (rc < 0) {
        char why[XA_ERRMSG_LEN];
        snprintf(why, sizeof(why), "no kernel types: %.480s", xa__errmsg(xa));
        note_missing(p->tasks_missing, sizeof(p->tasks_missing), why);
        note_missing(p->modules_missing, sizeof(p->modules_missing), why);
        note_missing(p->vmas_missing, sizeof(p->vmas_missing), why);
        snprintf(lx->types_from, sizeof(lx->types_from), "none");
        xa__clear_error(xa);
    } else {
        linux_offsets_resolve(p);
        if (lx->mode == XA_PM_AARCH64 && (rc = linux_arm64_find_data(xa, lx)) < 0) {
            linux_destroy(p);
            return rc;
        }
    }

    /* 32-bit kernels: the process walk reads 4-byte pointers, with BTF's
     * layout or, without BTF, one inferred from memory (layout32.c); the
     * module list is found in memory on first use (modscan32.c), and so is
     * the memory-map layout (vmalayout32.c). */
    if (lx->mode == XA_PM_LEGACY || lx->mode == XA_PM_PAE) {
        if (!lx->btf) { /* found in memory on first use */
            p->modules_missing[0] = '\0';
            p->vmas_missing[0] = '\0';
        }
        uint64_t sym;
        bool btf_layout = lx->btf && !p->tasks_missing[0];
        if (!btf_layout || symtab_lookup(&lx->syms, "init_task", &sym) < 0) {
            if (btf_layout) {
                snprintf(p->tasks_missing, sizeof(p->tasks_missing),
                         "32-bit kernel: no init_task symbol in kallsyms");
            } else if (linux_layout32_infer(xa, p) < 0) {
                snprintf(p->tasks_missing, sizeof(p->tasks_missing),
                         "32-bit kernel without BTF: %.400s", xa__errmsg(xa));
                xa__clear_error(xa);
            } else {
                p->tasks_missing[0] = '\0';
                snprintf(lx->types_from, sizeof(lx->types_from),
                         "no BTF; task_struct layout %.400s", p->layout_from);
            }
        }
    }

    uint64_t a;
    if (symtab_lookup(&lx->syms, "special_mapping_vmops", &a) == 0)
        p->special_mapping_vmops = a;
    if (symtab_lookup(&lx->syms, "legacy_special_mapping_vmops", &a) == 0)
        p->legacy_special_mapping_vmops = a;

    *state = p;
    return 0;
}

static int linux_get_info(struct xa_instance *xa, struct xa_os_info *out)
{
    const struct linux_os *lx = linux_os(xa);
    *out = (struct xa_os_info){
        .type = XA_OS_LINUX,
        .version = lx->version,
        .release = lx->release,
        .kaslr_slide = lx->kaslr_slide,
        .phys_base = lx->phys_base,
        .kernel_dtb = lx->kernel_dtb,
        .text_start = lx->text_start,
        .page_offset = lx->page_offset,
        .page_mode = lx->mode,
        .num_symbols = symtab_count(&lx->syms),
        .num_btf_types = lx->num_btf_types,
        .symbols_from = lx->symbols_from,
        .types_from = lx->types_from[0] ? lx->types_from : "none",
    };
    return 0;
}

/* A lazy symbol table that could not be built (kallsyms.c): said again on
 * every call that needs it, so the message is never another call's. */
static int table_unbuilt(struct xa_instance *xa, int rc)
{
    return xa__set_error(xa, rc, "the kernel's symbol table could not be built: %s (the "
                         "kallsyms tables no longer decode, or the dump was cut)",
                         xa_strerror(rc));
}

static int linux_sym_lookup(struct xa_instance *xa, const char *name, uint64_t *addr)
{
    int rc = symtab_lookup(&linux_os(xa)->syms, name, addr);
    if (rc == XA_ENOENT)
        return xa__set_error(xa, XA_ENOENT, "unknown kernel symbol '%s'", name);
    return rc < 0 ? table_unbuilt(xa, rc) : 0;
}

static int linux_sym_at(struct xa_instance *xa, uint64_t addr, const char **name, uint64_t *off)
{
    int rc = symtab_at(&linux_os(xa)->syms, addr, name, off);
    if (rc == XA_ENOENT)
        return xa__set_error(xa, XA_ENOENT, "no kernel symbol at or below 0x%llx",
                             (unsigned long long)addr);
    return rc < 0 ? table_unbuilt(xa, rc) : 0;
}

static int linux_sym_foreach(struct xa_instance *xa, xa_sym_fn fn, void *ctx)
{
    const struct linux_symtab *t = &linux_os(xa)->syms;
    int rc = symtab_complete(t);
    if (rc < 0)
        return table_unbuilt(xa, rc);
    for (size_t i = 0; i < t->n; i++) {
        const struct linux_sym *s = &t->syms[i];
        if (fn(symtab_name(t, s), s->addr, s->type, ctx))
            break;
    }
    return 0;
}

const struct xa_os_ops xa_os_linux = {
    .name = "linux",
    .type = XA_OS_LINUX,
    .init = linux_init,
    .destroy = linux_destroy,
    .flush = linux_flush,
    .get_info = linux_get_info,
    .sym_lookup = linux_sym_lookup,
    .sym_at = linux_sym_at,
    .sym_foreach = linux_sym_foreach,
    .type_offset = linux_type_offset,
    .type_size = linux_type_size,
    .process_iter_new = linux_process_iter_new,
    .process_iter_next = linux_process_iter_next,
    .process_iter_free = linux_process_iter_free,
    .process_by_pid = linux_process_by_pid,
    .module_iter_new = linux_module_iter_new,
    .module_iter_next = linux_module_iter_next,
    .module_iter_free = linux_module_iter_free,
    .vma_iter_new = linux_vma_iter_new,
    .vma_iter_next = linux_vma_iter_next,
    .vma_iter_free = linux_vma_iter_free,
    .thread_iter_new = linux_thread_iter_new,
    .thread_iter_new_proc = linux_thread_iter_new_proc,
    .thread_iter_next = linux_thread_iter_next,
    .thread_iter_free = linux_thread_iter_free,
    .process_creds = linux_process_creds,
    .process_start_time = linux_process_start_time,
    .boot_time = linux_boot_time,
    .process_args = linux_process_args,
    .process_path = linux_process_path,
    .file_iter_new = linux_file_iter_new,
    .file_iter_new_proc = linux_file_iter_new_proc,
    .file_iter_next = linux_file_iter_next,
    .file_iter_free = linux_file_iter_free,
    .mount_iter_new = linux_mount_iter_new,
    .mount_iter_new_proc = linux_mount_iter_new_proc,
    .mount_iter_next = linux_mount_iter_next,
    .mount_iter_free = linux_mount_iter_free,
    .net_iter_new = linux_net_iter_new,
    .net_iter_next = linux_net_iter_next,
    .net_iter_free = linux_net_iter_free,
    .kmsg_iter_new = linux_kmsg_iter_new,
    .kmsg_iter_next = linux_kmsg_iter_next,
    .kmsg_iter_next_seq = linux_kmsg_iter_next_seq,
    .kmsg_iter_free = linux_kmsg_iter_free,
    .check = linux_check,
};
