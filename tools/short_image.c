/* short_image.c -- see short_image.h. */
#include "short_image.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

#define MIB ((uint64_t)1 << 20)

static int is_file(struct xa_instance *xa)
{
    const char *b = xa_backend_name(xa);
    return b && !strcmp(b, "file");
}

void short_image_warn(struct xa_instance *xa, const char *target)
{
    if (!is_file(xa))
        return;
    uint64_t have = xa_max_pa(xa), max_pfn, va, pa;
    if (xa_sym_lookup(xa, "max_pfn", &va) < 0 || xa_translate_kv(xa, va, &pa) < 0)
        return; /* no way to tell: say nothing rather than guess */
    if (pa >= have) {
        /* The kernel's own variables lie past the end: cut short for sure. */
        tool_warn("warning: %s ends at %" PRIu64 " MiB, before the kernel's own data (max_pfn at "
                  "%" PRIu64 " MiB): the image is shorter than the guest's memory (a copy or "
                  "download cut short?), and what lay past its end cannot be read", target,
                  have / MIB, pa / MIB);
        return;
    }
    /* max_pfn: one past the highest page frame of RAM the kernel knows. */
    if (xa_read_pa(xa, pa, &max_pfn, sizeof(max_pfn)) < 0 || max_pfn == 0 ||
        max_pfn > (UINT64_MAX >> 12) || (max_pfn << 12) <= have)
        return;
    tool_warn("warning: %s ends at %" PRIu64 " MiB but its kernel had %" PRIu64 " MiB of memory (max_pfn): "
              "the image is shorter than the guest's memory (a copy or download cut short?), and "
              "what lay past its end cannot be read", target, have / MIB,
              ((max_pfn << 12) + MIB - 1) / MIB);
}

void short_image_hint(struct xa_instance *xa, char *out, size_t size)
{
    out[0] = '\0';
    if (!is_file(xa))
        return;
    uint64_t bytes = xa_memsize(xa);
    const char *method = xa_access_method(xa);
    if (method && strstr(method, "by kernel virtual address"))
        return; /* a triage dump keeps only some blocks by design */
    if (bytes < MIB) /* no guest runs in less: not a dump cut short, not a dump */
        snprintf(out, size, " (the image holds only %" PRIu64 " bytes of memory: too small to be a "
                 "guest's)", bytes);
    else if (method && !strcmp(method, "raw image") && bytes % MIB != 0)
        snprintf(out, size, " (the image is %" PRIu64 " bytes, not a whole number of MiB as guest "
                 "memory is: it looks cut short, and the kernel may lie past its end)", bytes);
    else
        snprintf(out, size, " (the image holds %" PRIu64 " MiB of memory: if it is a copy cut "
                 "short, the kernel may lie past its end)", bytes / MIB);
}
