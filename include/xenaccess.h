/*
 * xenaccess.h -- public API of libxenaccess, virtual machine introspection.
 *
 * A monitor opens a *target* (a memory dump, a live QEMU guest, a Xen domain)
 * and reads the guest's memory from outside: physical reads, virtual address
 * translation through the guest's own page tables, and (with the OS layer)
 * kernel symbols, processes, modules and user memory.
 *
 * Naming follows the XenAccess paper (ACSAC 2007): xa_init(), xa_destroy(),
 * xa_access_kernel_symbol(), xa_access_virtual_address(),
 * xa_access_user_virtual_address(). Modern calls extend that vocabulary.
 *
 * Conventions
 *  - Every fallible call returns int: 0 on success, a negative XA_E* code on
 *    failure. xa_errmsg() gives a one-line message for the last failure on a
 *    handle; xa_strerror() a static text for a code.
 *  - Return codes: each call's comment lists the codes it returns. Two groups
 *    recur: every call returns XA_EINVAL for a NULL handle or a NULL pointer
 *    it needs, and every call that reads guest memory can fail with the
 *    *memory errors*: XA_EFAULT (virtual address not mapped), XA_ERANGE
 *    (outside guest RAM), XA_EBADDATA (reserved page-table bits, corrupt
 *    data), XA_EIO (the backend could not read), XA_EGONE (a live target went
 *    away or a dump file shrank) and XA_ENOMEM.
 *  - Calls marked XA_NODISCARD can fail or return a *partial* result (a read
 *    that stopped early, a walk that ended on an error): check what they return.
 *  - Iterators (xa_*_iter_new()) and pages (xa_access_*) belong to their
 *    handle: free every iterator and release every page before xa_destroy().
 *  - Returned const pointers are borrowed; the comment says until when.
 *  - Destroy/free/release functions accept NULL.
 *  - Threads: one thread at a time per xa_instance; different instances may
 *    be used concurrently.
 *  - Guest memory is hostile input: every value read from it is checked and
 *    every walk over guest lists is bounded.
 */
#ifndef XENACCESS_H
#define XENACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "xa_errors.h" /* XA_E* error codes, XA_API, XA_NODISCARD */

#ifdef __cplusplus
extern "C" {
#endif

#define XA_VERSION_MAJOR 0
#define XA_VERSION_MINOR 1

/** Opaque handle for one target. */
struct xa_instance;

/** Paging mode of a guest address space. */
enum xa_page_mode {
    XA_PM_UNKNOWN = 0,
    XA_PM_NONE,   /**< paging disabled: virtual == physical */
    XA_PM_LEGACY, /**< 32-bit, 2 levels, 4 KiB and 4 MiB pages */
    XA_PM_PAE,    /**< 32-bit PAE, 3 levels, 4 KiB and 2 MiB pages */
    XA_PM_IA32E,  /**< 64-bit 4-level, 4 KiB, 2 MiB and 1 GiB pages */
    XA_PM_LA57,   /**< 64-bit 5-level */
    XA_PM_AARCH64, /**< AArch64, 4 KiB granule: TTBR1 for the upper half, TTBR0 the lower */
};

/** x86 vCPU state that introspection needs. Fields unknown to a backend are 0. */
struct xa_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    uint64_t cr0, cr2, cr3, cr4, efer;
    uint64_t fs_base, gs_base, kernel_gs_base;
    uint16_t cs, ss;
};

/** A range of guest-physical RAM. */
struct xa_mem_range {
    uint64_t start; /**< first guest-physical byte */
    uint64_t size;  /**< bytes */
};

/** Flags for xa_init_opts.flags. */
enum xa_init_flags {
    XA_INIT_WRITE = 1u << 0,  /**< allow writes to guest memory (off by default) */
    XA_INIT_NO_OS = 1u << 1,  /**< memory access only: skip OS discovery */
};

/** Options for xa_init_opts(). Zero-initialise, set sz = sizeof(struct xa_init_opts). */
struct xa_init_opts {
    size_t sz;
    const char *target;   /**< "file:PATH", "qemu:QMP_SOCKET", "xen:DOMAIN", "libvirt:NAME" */
    uint32_t flags;       /**< enum xa_init_flags */
    const char *sysmap;   /**< optional System.map path (when the guest has no kallsyms) */
    const char *btf;      /**< optional BTF file (when the guest has no BTF) */
    size_t v2p_cache_entries;  /**< translation cache size; 0 = default (65536) */
    size_t page_cache_entries; /**< mapped-page cache size; 0 = default (4096) */
    /**
     * Optional: told now and then how long work inside the library is going
     * (today: the search of guest memory for the kernel in xa_init_opts()).
     * @p what says what is done, @p done of @p total bytes. Called on the
     * caller's thread, from inside the call that does the work.
     */
    void (*progress)(void *ctx, const char *what, uint64_t done, uint64_t total);
    void *progress_ctx; /**< passed to progress */
};

#define XA_INIT_OPTS_INIT {.sz = sizeof(struct xa_init_opts)}

/** @defgroup lifecycle Opening and closing targets
 *  @{ */

/**
 * @brief Open a target with default options.
 * @param[in] target "file:PATH" (raw image or QEMU ELF core; detected from
 *            content), "qemu:QMP_SOCKET", "xen:DOMAIN", "libvirt:NAME".
 * @param[in] flags enum xa_init_flags.
 * @param[out] out the new handle, to be released with xa_destroy().
 * @return 0 or a negative XA_E* code: XA_EINVAL (no target or @p out),
 *         XA_EFORMAT (target string or file format not recognised),
 *         XA_ENOTBUILT (backend not built in), XA_ENOENT, XA_EACCES, XA_EIO,
 *         XA_ETIMEDOUT (opening the target), XA_ENOMEM, XA_ELIMIT (a layout
 *         too large). A guest whose OS is not recognised still opens: OS calls
 *         then return XA_ENOOS. On failure *out is set to NULL and
 *         xa_last_init_error() gives the message.
 */
XA_API XA_NODISCARD int xa_init(const char *target, uint32_t flags, struct xa_instance **out);

/** @brief Open a target with options (see struct xa_init_opts); returns as xa_init(). */
XA_API XA_NODISCARD int xa_init_opts(const struct xa_init_opts *opts, struct xa_instance **out);

/**
 * @brief Close a target and release everything it holds. NULL is accepted.
 * Free its iterators and release its pages first: they point into the handle.
 */
XA_API void xa_destroy(struct xa_instance *xa);

/** @brief Static text for an error code. */
XA_API const char *xa_strerror(int err);

/**
 * @brief One-line message for the last failure on @p xa.
 * Borrowed: valid until the next call on @p xa.
 */
XA_API const char *xa_errmsg(const struct xa_instance *xa);

/**
 * @brief Code (negative XA_E*) of the last failure on @p xa, the one
 * xa_errmsg() describes: for calls that return a pointer (xa_access_*), NULL
 * then says that it failed and this says why.
 * @return a negative XA_E* code, 0 when nothing failed, XA_EINVAL for NULL.
 */
XA_API int xa_errcode(const struct xa_instance *xa);

/**
 * @brief Message of the last failed xa_init() on this thread (there is no
 * handle to carry it). Borrowed: valid until the next xa_init() on this thread.
 */
XA_API const char *xa_last_init_error(void);

/** @} */

/** @defgroup target Target facts
 *  @{ */

/** Backend name: "file", "qemu", "xen", ... Borrowed for the life of @p xa. */
XA_API const char *xa_backend_name(const struct xa_instance *xa);

/**
 * @brief Human description of how memory is reached, e.g. "ELF core",
 * "raw image", "shared RAM file /dev/shm/x", "/proc/1234/mem".
 * Borrowed for the life of @p xa.
 */
XA_API const char *xa_access_method(const struct xa_instance *xa);

/** @brief Bytes of guest RAM (sum of the ranges). */
XA_API uint64_t xa_memsize(const struct xa_instance *xa);

/** @brief One past the highest guest-physical RAM address. */
XA_API uint64_t xa_max_pa(const struct xa_instance *xa);

/**
 * @brief Guest-physical RAM ranges.
 * Borrowed: valid for the life of @p xa. @p count receives the number.
 */
XA_API const struct xa_mem_range *xa_mem_ranges(const struct xa_instance *xa, size_t *count);

/** @brief Number of vCPUs whose registers are known (0 for a raw image). */
XA_API unsigned xa_vcpu_count(const struct xa_instance *xa);

/**
 * @brief Registers of a vCPU. On live targets this asks the hypervisor.
 * @return 0, XA_ENOTSUP when the target has no registers, XA_EINVAL for a bad vcpu.
 */
XA_API XA_NODISCARD int xa_get_vcpu_regs(struct xa_instance *xa, unsigned vcpu, struct xa_regs *out);

/** A vCPU's descriptor-table registers (x86 IDTR and GDTR): where the CPU
 * really looks for its interrupt gates and segment descriptors. Zero-
 * initialise and set sz = sizeof(struct xa_vcpu_dtables); later versions
 * add fields at the end. */
struct xa_vcpu_dtables {
    size_t sz;
    uint64_t idt_base, gdt_base; /**< linear addresses */
    uint32_t idt_limit, gdt_limit;
};

/**
 * @brief IDTR and GDTR of a vCPU (QEMU ELF cores, qemu:, libvirt:, Xen HVM).
 * @return 0, XA_ENOTSUP when the target does not give them (a raw image, an
 * ELF core without QEMU's CPU notes, a Xen PV guest), XA_EINVAL for a bad
 * vcpu or a @p out->sz smaller than the first version of the struct.
 */
XA_API XA_NODISCARD int xa_get_vcpu_dtables(struct xa_instance *xa, unsigned vcpu,
                                            struct xa_vcpu_dtables *out);

/** @brief Paging mode the kernel uses (from registers or OS discovery). */
XA_API enum xa_page_mode xa_get_page_mode(const struct xa_instance *xa);

/** @brief Name of a paging mode, e.g. "IA-32e 4-level". */
XA_API const char *xa_page_mode_name(enum xa_page_mode mode);

/** @brief Page-table root (CR3 value, PCID bits cleared) of the kernel, 0 if unknown. */
XA_API uint64_t xa_kernel_dtb(const struct xa_instance *xa);

/**
 * @brief Set the paging mode and kernel page-table root by hand, for targets
 * with no registers and no OS layer.
 * @return 0 or XA_EINVAL (NULL handle, unknown mode).
 */
XA_API XA_NODISCARD int xa_set_kernel_paging(struct xa_instance *xa, enum xa_page_mode mode,
                                             uint64_t dtb);

/**
 * @brief Pause a live target (no-op returning XA_ENOTSUP on dumps). Flushes caches.
 * @return 0, XA_ENOTSUP, XA_EINVAL, or the hypervisor's failure (XA_EIO,
 *         XA_ETIMEDOUT, XA_EGONE).
 */
XA_API XA_NODISCARD int xa_pause(struct xa_instance *xa);

/** @brief Resume a live target paused by xa_pause(). Flushes caches. Returns as xa_pause(). */
XA_API XA_NODISCARD int xa_resume(struct xa_instance *xa);

/** @brief 1 if the target is a running guest whose memory can change under us, else 0. */
XA_API int xa_is_live(const struct xa_instance *xa);

/** @} */

/** @defgroup mem Physical and virtual memory
 *  @{ */

/**
 * @brief Read guest-physical memory.
 * @return 0 when all @p len bytes were read; XA_ERANGE when any byte lies
 *         outside guest RAM (buf contents then undefined); XA_EINVAL, XA_EIO,
 *         XA_EGONE, XA_ENOMEM.
 */
XA_API XA_NODISCARD int xa_read_pa(struct xa_instance *xa, uint64_t pa, void *buf, size_t len);

/**
 * @brief Write guest-physical memory. Needs XA_INIT_WRITE at open time,
 * otherwise XA_EPERM.
 * @return 0, XA_EPERM, XA_ERANGE (outside guest RAM), XA_EINVAL, XA_EIO, XA_EGONE.
 */
XA_API XA_NODISCARD int xa_write_pa(struct xa_instance *xa, uint64_t pa, const void *buf,
                                    size_t len);

/**
 * @brief Translate a virtual address through the page tables at @p dtb.
 * @param dtb page-table root (CR3); 0 means the kernel's.
 * @return 0, XA_EFAULT (not mapped; xa_errmsg() names the level),
 *         XA_EBADDATA (reserved bits set), XA_ERANGE (table outside RAM),
 *         XA_EINVAL, XA_EIO, XA_EGONE.
 */
XA_API XA_NODISCARD int xa_translate(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                     uint64_t *pa);

/** @brief Translate a kernel virtual address (the kernel's page tables), as xa_translate(). */
XA_API XA_NODISCARD int xa_translate_kv(struct xa_instance *xa, uint64_t va, uint64_t *pa);

/**
 * @brief Read virtual memory in bulk, across page boundaries.
 * @param dtb page-table root; 0 = kernel.
 * @param[out] nread bytes read before the first unreadable byte (may be NULL).
 * @return 0 when all @p len bytes were read; otherwise the error that stopped
 *         the read (XA_EINVAL or a memory error, see Conventions), with
 *         *nread telling how far it got: a partial read.
 */
XA_API XA_NODISCARD int xa_read_va(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                   void *buf, size_t len, size_t *nread);

/**
 * @brief Write virtual memory (needs XA_INIT_WRITE).
 * @param[out] nwritten bytes written before the first failure (may be NULL).
 * @return 0 when all @p len bytes were written; otherwise XA_EPERM, XA_EINVAL or
 *         a memory error, with *nwritten telling how far it got: a partial write.
 */
XA_API XA_NODISCARD int xa_write_va(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                    const void *buf, size_t len, size_t *nwritten);

/**
 * @brief Read a 64/32-bit little-endian value at a kernel virtual address.
 * @return 0, XA_EINVAL or a memory error.
 */
XA_API XA_NODISCARD int xa_read_kva_u64(struct xa_instance *xa, uint64_t va, uint64_t *out);
XA_API XA_NODISCARD int xa_read_kva_u32(struct xa_instance *xa, uint64_t va, uint32_t *out);

/**
 * @brief Read a NUL-terminated string of at most @p max - 1 bytes from virtual
 * memory into @p buf (always terminated when max > 0).
 * @return 0 (also when the string was cut at max - 1 bytes), XA_EINVAL (max
 *         is 0) or a memory error, with the bytes before it in @p buf.
 */
XA_API XA_NODISCARD int xa_read_va_str(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                       char *buf, size_t max);

/**
 * @brief The paper's call: map the guest page holding kernel virtual address @p va.
 * @param[out] offset offset of @p va within the returned page.
 * @return pointer to the 4 KiB page (read-only unless opened for write), or
 *         NULL on failure (xa_errmsg() says why). Release with xa_release_page().
 *         Valid until released, even if caches are flushed.
 */
XA_API const void *xa_access_virtual_address(struct xa_instance *xa, uint64_t va,
                                             uint32_t *offset);

/** @brief As xa_access_virtual_address(), through the page tables at @p dtb. */
XA_API const void *xa_access_dtb_virtual_address(struct xa_instance *xa, uint64_t dtb,
                                                 uint64_t va, uint32_t *offset);

/** @brief Map the guest page at physical address @p pa; release with xa_release_page(). */
XA_API const void *xa_access_physical_address(struct xa_instance *xa, uint64_t pa,
                                              uint32_t *offset);

/** @brief Release a page returned by an xa_access_* call. NULL is accepted. */
XA_API void xa_release_page(struct xa_instance *xa, const void *page);

/** @} */

/** @defgroup cache Caches
 *  Translations (keyed by page-table root and virtual page) and mapped pages
 *  are kept in bounded LRU caches.
 *
 *  Pages: targets mapped once in full (dump files, QEMU RAM in a shared file)
 *  need no page cache and always show current memory; targets whose pages are
 *  mapped one by one (Xen) cache the mappings; a live target read by copying
 *  (QEMU through /proc/PID/mem) copies each page afresh, never from a cache.
 *
 *  Translations and OS data (pid -> task) go stale while a live guest runs:
 *  xa_pause()/xa_resume() flush everything, process/module/VMA walks on live
 *  targets start with a flush, and monitors that read across time call
 *  xa_cache_flush(). Dumps never change, so nothing is flushed for them.
 *  @{ */

enum xa_cache_kind {
    XA_CACHE_V2P = 1u << 0,  /**< translations (whole large pages, page-table addresses too) */
    XA_CACHE_PAGES = 1u << 1, /**< copied pages (a stable mapping's page pointers stay until close) */
    XA_CACHE_OS = 1u << 2, /**< OS data from memory (pid -> task, pid -> dtb, symbols, a dump's process list) */
    XA_CACHE_ALL = 0x7,
};

struct xa_cache_stats {
    uint64_t v2p_hits, v2p_misses, v2p_entries, v2p_capacity;
    /* Only for targets whose pages are mapped one by one (see above). */
    uint64_t page_hits, page_misses, page_entries, page_capacity;
};

XA_API void xa_cache_flush(struct xa_instance *xa, unsigned kinds);
XA_API void xa_cache_stats(const struct xa_instance *xa, struct xa_cache_stats *out);

/** @} */

#ifdef __cplusplus
}
#endif

#include "xenaccess_os.h"

#endif /* XENACCESS_H */
