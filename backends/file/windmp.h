/*
 * windmp.h -- Windows kernel crash dumps (PAGEDU64 and PAGEDUMP), parsed for
 * the file backend. Internal.
 *
 * Layout facts come from public descriptions of the format (DUMP_HEADER32/64
 * as in the Windows SDK's and rizin's and Bin2Dmp's headers, the bitmap
 * "SDMP"/"FDMP" header as in rizin and kdmp-parser); no code is taken from
 * them.
 */
#ifndef XA_WINDMP_H
#define XA_WINDMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/file/file_layout.h"
#include "xenaccess.h"

/* Header sizes: the memory (or the bitmap header) follows them. */
#define WINDMP_HEADER64_SIZE 0x2000u
#define WINDMP_HEADER32_SIZE 0x1000u
/* Limits on what a header may declare (hostile input). */
#define WINDMP_MAX_RUNS 128u          /* 700 bytes of descriptor hold at most 43 */
#define WINDMP_MAX_BLOCKS (1u << 20)  /* triage data blocks */
#define WINDMP_MAX_PAGES (1ull << 40) /* 2^52 bytes of guest-physical memory */

enum windmp_kind {
    WINDMP_FULL,   /* physical-memory runs */
    WINDMP_BITMAP, /* a bitmap of present physical pages */
    WINDMP_TRIAGE, /* blocks kept by kernel virtual address */
};

/* What the parser found; free with windmp_free(). */
struct windmp {
    enum windmp_kind kind;
    bool is64;
    uint32_t machine;    /* 0x8664 x64, 0x14c i386, 0xaa64 ARM64 */
    uint32_t dump_type;  /* DumpType of the header */
    uint32_t nr_cpus;    /* NumberProcessors */
    uint64_t dtb;        /* DirectoryTableBase */
    uint64_t ps_active_process_head, ps_loaded_module_list, kd_debugger_data_block;
    uint32_t bugcheck;
    struct file_segment *segs; /* sorted, non-overlapping; virtual for WINDMP_TRIAGE */
    size_t nr_segs;
    bool have_regs;            /* x86 registers from the context record */
    struct xa_regs regs;
};

/* True when @img starts with a Windows crash dump signature. */
bool windmp_has_magic(const uint8_t *img, uint64_t size);

/*
 * Parse a Windows crash dump. @img/@size: the whole file. On failure returns
 * XA_EFORMAT (a kind not supported), XA_EBADDATA (a corrupt or truncated
 * one) or XA_ENOMEM and writes a one-line reason to @err (no path).
 */
int windmp_parse(const uint8_t *img, uint64_t size, struct windmp *out, char *err,
                 size_t errlen);
void windmp_free(struct windmp *d);

/* One line for xa-info: "Windows crash dump (PAGEDU64, full, x64, 3 runs)". */
void windmp_describe(const struct windmp *d, char *buf, size_t len);

#endif /* XA_WINDMP_H */
