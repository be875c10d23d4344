/*
 * internal.h -- the core's internal API for the OS layers: memory reads,
 * translation, the kernel's paging, and errors (core/error.h).  The
 * instance is opaque here: an OS layer never sees the backend or the
 * caches (the core's own view is core/instance.h).  Not installed.
 */
#ifndef XA_CORE_INTERNAL_H
#define XA_CORE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64.h"
#include "arch/x86.h"
#include "core/error.h"
#include "xenaccess.h"

#ifndef XA_PAGE_SHIFT /* as in backends/backend.h */
#define XA_PAGE_SHIFT 12
#define XA_PAGE_SIZE ((uint64_t)1 << XA_PAGE_SHIFT)
#define XA_PAGE_MASK (~(XA_PAGE_SIZE - 1))
#endif

/* A hot public entry point starts a cache line.  Left to the linker, a
 * change anywhere in the library moves it and its loop across a line
 * boundary: xa_read_kva_u64 took 5.3 ns at 16 bytes into a line and 6.6 ns
 * at 48, with no change of its own (docs/bench.md, session 10). */
#define XA_HOT __attribute__((aligned(64)))

/* The OS layer's state, as its init returned it (NULL before). */
void *xa__os_state(const struct xa_instance *xa);
/* The OS layer starts a walk of the whole process list (xa_os_stats()). */
void xa__os_walk_started(struct xa_instance *xa);

/* Tell the caller how far long work has got (a no-op without a callback). */
void xa__progress(struct xa_instance *xa, const char *what, uint64_t done, uint64_t total);

/* Physical memory, through the page cache. All or error. */
int xa__read_pa(struct xa_instance *xa, uint64_t pa, void *buf, size_t len);
/* Pointer to the guest page @pfn through the page cache; valid until the next
 * core call on @xa (do not keep it). */
int xa__page(struct xa_instance *xa, uint64_t pfn, const uint8_t **out);
/* [pa, pa + len) as one pointer into a mapping that lives until close, to
 * read in place instead of copying: only when memory is static
 * (xa__memory_static) and the span's pages lie in order in the mapping.
 * XA_ENOTSUP otherwise (copy it with xa__read_pa). A mapped file truncated
 * later reads as zeros there and fails the next core call (mapguard.h). */
int xa__span_in_place(struct xa_instance *xa, uint64_t pa, size_t len, const uint8_t **out);
/* Map in a span from xa__span_in_place that is about to be read whole, with
 * one call instead of a page fault per page (a hint; errors are ignored). */
void xa__span_prefault(const uint8_t *p, size_t len);
/* True when [pa, pa+len) lies inside guest RAM. */
bool xa__pa_valid(const struct xa_instance *xa, uint64_t pa, uint64_t len);
/* Translation with the v2p cache; dtb 0 = kernel. */
int xa__translate(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *pa);
/* Translation with an explicit paging mode (for discovery before it is known). */
int xa__translate_mode(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                       uint64_t va, uint64_t *pa);
int xa__read_va(struct xa_instance *xa, uint64_t dtb, uint64_t va, void *buf, size_t len,
                size_t *nread);
/* xa__span_in_place for [va, va + len) translated through @dtb (0 = kernel):
 * its pages must be physically contiguous, else XA_ENOTSUP. */
int xa__va_span_in_place(struct xa_instance *xa, uint64_t dtb, uint64_t va, size_t len,
                         const uint8_t **out);
/* [va, va + len) inside one page, in place: a pointer into a stable mapping
 * that lives until close, only while memory is static (xa__memory_static).
 * XA_ENOTSUP otherwise, or on any error (copy it with xa__read_va, which
 * says why). The bytes read through it count only if xa__memory_check()
 * passes after the last of them was read (a truncated file reads as zeros). */
int xa__va_in_page(struct xa_instance *xa, uint64_t dtb, uint64_t va, size_t len,
                   const uint8_t **out);
int xa__read_u64(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *out);
int xa__read_u32(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint32_t *out);

/* AArch64 translation with an explicit VA size (discovery): @ttbr0 for the
 * lower half, @ttbr1 for the upper (table physical addresses). */
int xa__translate_arm64(struct xa_instance *xa, const struct arm64_paging *pg, uint64_t ttbr0,
                        uint64_t ttbr1, uint64_t va, uint64_t *pa);
/* The kernel's AArch64 paging: VA size and TTBR1's table (swapper_pg_dir). */
void xa__set_kernel_paging_arm64(struct xa_instance *xa, const struct arm64_paging *pg,
                                 uint64_t ttbr1);
/* A target whose memory is one range from address 0 (a raw image) may be RAM
 * the guest sees at @base: move the layout there (backend addresses stay as
 * they are; the wrappers in core/backend.c translate). 0 moves it back.
 * XA_EINVAL for any other layout or an unaligned or wrapping base. */
int xa__set_ram_base(struct xa_instance *xa, uint64_t base);

/* Set the kernel's paging mode and page-table root (OS discovery, registers). */
void xa__set_kernel_paging(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb);

/* The kernel's paging as known now (mode XA_PM_UNKNOWN before it is). */
struct x86_paging xa__kernel_paging(const struct xa_instance *xa);

/* Memory kept by kernel virtual address (a triage dump): no page tables. */
bool xa__memory_is_virtual(const struct xa_instance *xa);

/* Memory that cannot change while the instance is open: not a live guest,
 * no write access (XA_INIT_WRITE), no test fault pending. What the OS layer
 * decodes from it may be kept until the OS caches are flushed. */
bool xa__memory_static(const struct xa_instance *xa);
/* 0, or XA_EIO with a message once a mapped file under @xa has shrunk: for
 * answers given from what was decoded earlier, without a read. */
int xa__memory_check(struct xa_instance *xa);

/* Registers of vCPU 0 if the backend has them: 0, or XA_ENOTSUP. */
int xa__vcpu0_regs(struct xa_instance *xa, struct xa_regs *out);

#endif /* XA_CORE_INTERNAL_H */
