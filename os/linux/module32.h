/*
 * module32.h -- the loaded modules of a 32-bit x86 Linux kernel that has
 * no `modules` symbol and no BTF, found from the guest's own memory
 * (module32.c).
 *
 * struct module starts the same in every kernel: enum module_state state;
 * struct list_head list; char name[MODULE_NAME_LEN] (60 bytes with 4-byte
 * longs), and it is cacheline-aligned. Module headers are searched in the
 * module area's pages (modscan32.c), the ring they are on is followed to
 * its head in the kernel's data, and where struct module keeps
 * core_layout.base/size and refcnt is inferred from a sample of modules.
 *
 * Pure code: guest memory is read through a callback, so the unit test and
 * the fuzz target run it over synthetic memory. Every guest value is
 * checked before use, every walk is bounded, and an answer that is not
 * unique is refused (docs/limits.md, "32-bit module inference").
 */
#ifndef XA_OS_LINUX_MODULE32_H
#define XA_OS_LINUX_MODULE32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define M32_STATE 0u          /* enum module_state */
#define M32_LIST 4u           /* struct list_head list */
#define M32_NAME 12u          /* char name[MODULE_NAME_LEN] */
#define M32_NAME_LEN 60u      /* MODULE_NAME_LEN: 64 - sizeof(unsigned long) */
#define M32_HDR (M32_NAME + M32_NAME_LEN)
#define M32_ALIGN 16u         /* headers tried at this alignment (L1_CACHE_BYTES >= 16) */
#define M32_STATE_MAX 3u      /* MODULE_STATE_UNFORMED */
#define M32_MAX_MODULES 65536u /* modules followed on the ring */
#define M32_MAX_CANDIDATES 65536u /* plausible headers the scan may report */
#define M32_MAX_STEPS (4u * M32_MAX_MODULES) /* ring steps over all candidates */
#define M32_SAMPLE 64u        /* modules whose fields are compared */
#define M32_SPAN 2048u        /* bytes of struct module searched for the fields */
#define M32_SIZE_MAX (1u << 30) /* a module's core size */
#define M32_PAGE 4096u

struct m32_mem {
    /* Read @len bytes of kernel virtual memory at @va: 0 or a negative XA_E*. */
    int (*read)(void *ctx, uint64_t va, void *buf, size_t len);
    void *ctx;
    uint64_t page_offset;      /* kernel pointers lie in [page_offset, 2^32) */
    uint64_t head_lo, head_hi; /* the list head lies in the kernel's data: [head_lo, head_hi) */
};

/* Offsets in bytes from the start of struct module. */
struct m32_layout {
    uint64_t head;        /* the `modules` list_head; 0 when no module was found */
    uint32_t core_base;   /* core_layout.base; core_layout.size follows it */
    uint32_t core_size;
    uint32_t refcnt;      /* UINT32_MAX when no field fits (no CONFIG_MODULE_UNLOAD) */
    size_t ring_len;      /* modules on the ring as followed from the head */
    bool ring_complete;   /* the ring came back to its head; else a prefix was used */
    char ring_end[160];   /* why an incomplete ring stopped */
};

/* Could @hdr (M32_HDR bytes) start a struct module: a known state, two
 * aligned kernel pointers, a printable NUL-terminated name? */
bool m32_header_ok(const struct m32_mem *m, const uint8_t *hdr);

/* Offsets in @page (M32_PAGE bytes) of plausible headers that lie wholly in
 * it, at most @max; *n of them. */
void m32_scan_page(const struct m32_mem *m, const uint8_t *page, uint32_t *offs, size_t max,
                   size_t *n);

/* The list head of the ring the candidate headers @mods are on: each is
 * followed both ways (both links checked, every node a module header)
 * until a node in [head_lo, head_hi). *head = 0 when @n is 0. 0, or a
 * negative XA_E* with one line in @why: headers found but no head reached,
 * or two different heads. */
int m32_find_head(const struct m32_mem *m, const uint64_t *mods, size_t n, uint64_t *head,
                  char *why, size_t cap);

/* Infer core_layout and refcnt over the modules on the ring from @head. 0,
 * or a negative XA_E* with one line in @why. */
int m32_infer(const struct m32_mem *m, uint64_t head, struct m32_layout *out, char *why,
              size_t cap);

#endif /* XA_OS_LINUX_MODULE32_H */
