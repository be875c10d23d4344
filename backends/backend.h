/*
 * backend.h -- the contract between the core and a memory backend.
 * Internal, not installed.
 *
 * A backend says where guest memory comes from: a dump file, a live QEMU
 * process, a Xen domain. The arch and OS layers never see a backend; they go
 * through the core (core/internal.h), which checks ranges and caches pages.
 *
 * The core calls every operation below through core/backend.c (xa__be_*),
 * which holds the backend to this contract on every call: it never passes a
 * range outside base.ranges, a write without XA_CAP_WRITE, a vCPU at or past
 * nr_vcpus, a pause without XA_CAP_PAUSE; and it turns a result that breaks
 * the contract (a positive value, a code that is no XA_E*, a mapped page that
 * is NULL) into XA_EIO with a message saying so. Tests inject faults there.
 *
 * To add a backend:
 *  1. Define `struct foo_backend { struct xa_backend base; ...state... };`
 *     (base first) and a `const struct xa_backend_ops xa_backend_foo`.
 *  2. Implement at least open, close, read_pa; map_page if memory can be
 *     mapped without a copy.
 *  3. In open, fill base.ranges/base.nr_ranges (sorted, non-overlapping),
 *     base.method, base.caps, base.nr_vcpus.
 *  4. List it in backends/registry.c under its target prefix, behind its
 *     Meson feature (XA_HAVE_FOO); a backend with heavy libraries is built
 *     as a loadable module instead (backends/module.h, XA_FOO_MODULE).
 *  5. Run tests/conformance/conformance against it (the cases and how each
 *     backend's test passes it the target's facts are in that directory),
 *     and add it to tests/conformance/conformance_facts.py's callers.
 */
#ifndef XA_BACKEND_H
#define XA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "xenaccess.h"

#ifndef XA_PAGE_SHIFT /* as in core/internal.h */
#define XA_PAGE_SHIFT 12
#define XA_PAGE_SIZE ((uint64_t)1 << XA_PAGE_SHIFT)
#define XA_PAGE_MASK (~(XA_PAGE_SIZE - 1))
#endif

enum xa_backend_caps {
    XA_CAP_WRITE = 1u << 0, /* write_pa works (and was asked for) */
    XA_CAP_LIVE = 1u << 1,  /* memory changes while we look: caches go stale */
    XA_CAP_PAUSE = 1u << 2, /* pause/resume work */
    XA_CAP_REGS = 1u << 3,  /* get_vcpu_regs works */
    XA_CAP_STABLE_MAP = 1u << 4, /* map_page pointers stay valid until close: unmap is a no-op */
    /* Memory is kept by kernel virtual address, not physical (a Windows
     * triage dump): base.ranges and read_pa take kernel virtual addresses,
     * there are no page tables, and the core serves the kernel's address
     * space as itself (no other page-table root can be translated). */
    XA_CAP_VIRTUAL = 1u << 5,
};

struct xa_backend_ops;

/* map_page: no pointer for this page, read it (see map_page). */
#define XA_MAP_COPY 1

struct xa_backend {
    const struct xa_backend_ops *ops; /* set by the core */
    struct xa_instance *xa;           /* for xa__set_error() */
    uint32_t caps;                    /* enum xa_backend_caps, set by open */
    struct xa_mem_range *ranges;      /* guest RAM, sorted; owned by the backend */
    size_t nr_ranges;
    unsigned nr_vcpus;                /* vCPUs whose registers can be read */
    char method[256];                 /* how memory is reached, for xa-info */
};

struct xa_backend_ops {
    const char *name;     /* "file", "qemu", "xen" */
    size_t instance_size; /* the core calloc()s this many bytes; base comes first */

    /*
     * Open the target named by @spec (the part after "name:").
     * @flags: enum xa_init_flags; open read-only unless XA_INIT_WRITE.
     * On failure return a negative XA_E* code after xa__set_error() with a
     * one-line message naming the file/socket/domain; close() is still
     * called, so leave the struct in a state close() can release.
     */
    int (*open)(struct xa_backend *be, const char *spec, uint32_t flags);

    /* Release everything. Must cope with a half-done open(). */
    void (*close)(struct xa_backend *be);

    /*
     * Read @len bytes at guest-physical @pa. All or error: 0 when every byte
     * was read, else a negative XA_E* code (never a byte count): a byte
     * outside guest RAM gives XA_ERANGE (the core has already checked
     * ranges, but a live target may shrink), a host failure XA_EIO, a
     * vanished target XA_EGONE. Every failure should set a message with
     * xa__set_error(); the core writes a generic one when it did not.
     */
    int (*read_pa)(struct xa_backend *be, uint64_t pa, void *buf, size_t len);

    /* Optional. Only called when XA_CAP_WRITE is in caps. */
    int (*write_pa)(struct xa_backend *be, uint64_t pa, const void *buf, size_t len);

    /*
     * Optional: map the 4 KiB guest page @pfn for reading, without a copy
     * where possible. *out points to XA_PAGE_SIZE readable bytes until
     * unmap_page(be, pfn, *out) (never called under XA_CAP_STABLE_MAP;
     * without unmap_page, XA_CAP_STABLE_MAP is required). Success with a
     * NULL *out breaks the contract.
     * Without map_page the core reads pages into its own buffers; so it
     * does for a page for which map_page returns XA_MAP_COPY (a page only
     * partly RAM, with no bytes to point at: the core reads its RAM parts
     * with read_pa and zero-fills the rest). Only XA_CAP_STABLE_MAP
     * backends may return XA_MAP_COPY.
     */
    int (*map_page)(struct xa_backend *be, uint64_t pfn, const void **out);
    void (*unmap_page)(struct xa_backend *be, uint64_t pfn, const void *page);

    /* Optional: registers of @vcpu (< nr_vcpus). */
    int (*get_vcpu_regs)(struct xa_backend *be, unsigned vcpu, struct xa_regs *out);

    /* Optional: IDTR and GDTR of @vcpu (< nr_vcpus) into every field of
     * @out but sz; XA_ENOTSUP when this target has registers but not these. */
    int (*get_vcpu_dtables)(struct xa_backend *be, unsigned vcpu, struct xa_vcpu_dtables *out);

    /* Optional: stop and restart the guest's vCPUs. */
    int (*pause)(struct xa_backend *be);
    int (*resume)(struct xa_backend *be);
};

/* Registry: the backend for @target's @prefix ("file") in *out, loading its
 * module if it is one (backends/module.h); else an error with its message
 * set: XA_ENOTBUILT (compiled out, module missing) or XA_EINVAL (unknown). */
int xa__backend_find(struct xa_instance *xa, const char *target, const char *prefix,
                     const struct xa_backend_ops **out);

extern const struct xa_backend_ops xa_backend_file;
#ifdef XA_HAVE_QEMU
extern const struct xa_backend_ops xa_backend_qemu;
#endif
#ifdef XA_HAVE_XEN
extern const struct xa_backend_ops xa_backend_xen;
#endif
#ifdef XA_HAVE_LIBVIRT
extern const struct xa_backend_ops xa_backend_libvirt;
#endif

#endif /* XA_BACKEND_H */
