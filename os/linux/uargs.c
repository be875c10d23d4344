/*
 * uargs.c -- a process's argument or environment area (mm->arg_start..
 * arg_end, env_start..env_end), copied from its own memory one page at a
 * time. A page that is not present (swapped out, never touched) ends the
 * copy: what came before is returned with XA_ARGS_ABSENT, never a gap.
 */
#include <stdio.h>

#include "os/linux/procread.h"
#include "xenaccess.h"

#define PAGE 4096u

int lx_uargs_copy(lx_mem_fn read, void *ctx, uint64_t start, uint64_t end, void *buf, size_t cap,
                  size_t *len, uint32_t *flags, char *why)
{
    *len = 0;
    *flags = 0;
    why[0] = '\0';
    if (end < start) {
        snprintf(why, LX_WHY_LEN, "area ends (0x%llx) before it starts (0x%llx)",
                 (unsigned long long)end, (unsigned long long)start);
        return XA_EBADDATA;
    }
    if (cap > XA_ARGS_MAX)
        cap = XA_ARGS_MAX;
    uint64_t want = end - start;
    if (want > cap) {
        want = cap;
        *flags |= XA_ARGS_TRUNCATED;
    }
    uint8_t *out = buf;
    uint64_t va = start, got = 0;
    while (got < want) {
        uint64_t chunk = PAGE - (va & (PAGE - 1));
        if (chunk > want - got)
            chunk = want - got;
        if (read(ctx, va, out + got, (size_t)chunk) < 0) {
            *flags |= XA_ARGS_ABSENT;
            snprintf(why, LX_WHY_LEN, "page at 0x%llx not present", (unsigned long long)va);
            break;
        }
        got += chunk;
        va += chunk;
    }
    *len = (size_t)got;
    return 0;
}
