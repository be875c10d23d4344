/*
 * elf.c -- parse ELF64 x86-64 and AArch64 cores written by QEMU's dump-guest-memory
 * (paging=false): memory from PT_LOAD (physical address in p_paddr), vCPU
 * registers from the PT_NOTE segment.
 *
 * The file is hostile input: every offset and count is checked against the
 * file size before use, and fields are read with memcpy (no alignment
 * assumptions, no struct overlays on the mapping).
 *
 * Register sources, per vCPU (QEMU writes all NT_PRSTATUS notes, then all
 * "QEMU" notes, in CPU order; the i-th of each kind belongs to vCPU i):
 *  - "QEMU" note type 0 (QEMUCPUState, version 1): general registers, rip,
 *    rflags, segments (selector/limit/flags/base), cr0..cr4, and since QEMU
 *    2.x kernel_gs_base (present when the state's size allows).
 *  - "CORE" NT_PRSTATUS (struct elf_prstatus, x86-64): general registers,
 *    cs/ss selectors, fs_base/gs_base. Used when there is no QEMU note.
 * EFER is not recorded by QEMU. It is derived: LMA|LME when CR0.PG and
 * CR4.PAE are set and the CPU is in 64-bit mode (CS.L set, or CR4.LA57 set,
 * which is only legal in long mode); if any vCPU is in long mode, every vCPU
 * with paging+PAE is too (one kernel). EFER.NXE and SCE are never set here:
 * whether NX bits are allowed is for the caller to decide.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/file/file_layout.h"

/* QEMUCPUState (target/i386/arch_dump.c), version 1, byte offsets. */
#define QCS_VERSION 0
#define QCS_SIZE 4
#define QCS_GPR 8           /* rax rbx rcx rdx rsi rdi rsp rbp r8..r15 */
#define QCS_RIP 136
#define QCS_RFLAGS 144
#define QCS_SEGS 152        /* cs ds es fs gs ss ldt tr gdt idt, 24 bytes each */
#define QCS_SEG_SIZE 24
#define QCS_SEG_SELECTOR 0
#define QCS_SEG_LIMIT 4
#define QCS_SEG_FLAGS 8
#define QCS_SEG_BASE 16
#define QCS_CR 392          /* cr[0..4] */
#define QCS_KERNEL_GS_BASE 432
#define QCS_MIN_SIZE 432    /* without kernel_gs_base (old QEMU) */
#define QCS_FULL_SIZE 440
enum { QSEG_CS, QSEG_DS, QSEG_ES, QSEG_FS, QSEG_GS, QSEG_SS, QSEG_LDT, QSEG_TR, QSEG_GDT,
       QSEG_IDT };

/* struct elf_prstatus on x86-64: pr_reg at 112, 27 registers. */
#define PRS_REGS 112
#define PRS_NREGS 27
enum {
    PR_R15, PR_R14, PR_R13, PR_R12, PR_RBP, PR_RBX, PR_R11, PR_R10, PR_R9, PR_R8,
    PR_RAX, PR_RCX, PR_RDX, PR_RSI, PR_RDI, PR_ORIG_RAX, PR_RIP, PR_CS, PR_EFLAGS,
    PR_RSP, PR_SS, PR_FS_BASE, PR_GS_BASE,
};

#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define SEG_FLAG_L (1u << 21) /* QEMU keeps descriptor flags in the high-dword layout */

#define QEMU_NOTE_TYPE 0

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

int elf_has_magic(const uint8_t *img, uint64_t size)
{
    return size >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

static const char *elf_type_name(unsigned type)
{
    switch (type) {
    case ET_NONE: return "none";
    case ET_REL: return "relocatable object";
    case ET_EXEC: return "executable";
    case ET_DYN: return "shared object or PIE executable";
    case ET_CORE: return "core";
    default: return "unknown";
    }
}

static int cmp_seg(const void *a, const void *b)
{
    const struct file_segment *x = a, *y = b;
    return (x->pa > y->pa) - (x->pa < y->pa);
}

/* Number of program headers, following the PN_XNUM extension. */
static int read_phnum(const uint8_t *img, uint64_t size, const Elf64_Ehdr *eh, uint64_t *phnum,
                      char *err, size_t errlen)
{
    if (eh->e_phnum != PN_XNUM) {
        *phnum = eh->e_phnum;
        return 0;
    }
    /* Real count in section header 0's sh_info. */
    if (eh->e_shoff == 0 || eh->e_shentsize < sizeof(Elf64_Shdr) ||
        eh->e_shoff > size || size - eh->e_shoff < sizeof(Elf64_Shdr))
        return fail(err, errlen, XA_EBADDATA,
                    "ELF core uses PN_XNUM but has no readable section header 0 "
                    "(e_shoff 0x%llx, file size %llu)",
                    (unsigned long long)eh->e_shoff, (unsigned long long)size);
    Elf64_Shdr sh;
    memcpy(&sh, img + eh->e_shoff, sizeof(sh));
    *phnum = sh.sh_info;
    return 0;
}

/* 4 GiB + ELF_ZERO_FILL_RATIO x the file size, saturating. */
static uint64_t elf_zero_fill_max(uint64_t file_size)
{
    if (file_size > (UINT64_MAX - ELF_ZERO_FILL_FLOOR) / ELF_ZERO_FILL_RATIO)
        return UINT64_MAX;
    return ELF_ZERO_FILL_FLOOR + file_size * ELF_ZERO_FILL_RATIO;
}

static int read_loads(const uint8_t *img, uint64_t size, const Elf64_Ehdr *eh, uint64_t phnum,
                      struct elf_core *core, char *err, size_t errlen)
{
    core->segs = calloc(phnum ? phnum : 1, sizeof(*core->segs));
    if (!core->segs)
        return fail(err, errlen, XA_ENOMEM, "out of memory for %llu segments",
                    (unsigned long long)phnum);
    uint64_t zero_fill = 0, zero_fill_max = elf_zero_fill_max(size);
    for (uint64_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD)
            continue;
        core->nr_load++;
        if (ph.p_filesz > ph.p_memsz)
            return fail(err, errlen, XA_EBADDATA,
                        "PT_LOAD %llu has p_filesz 0x%llx larger than p_memsz 0x%llx",
                        (unsigned long long)i, (unsigned long long)ph.p_filesz,
                        (unsigned long long)ph.p_memsz);
        if (ph.p_offset > size || size - ph.p_offset < ph.p_filesz)
            return fail(err, errlen, XA_EBADDATA,
                        "PT_LOAD %llu (guest-physical 0x%llx) needs file bytes up to 0x%llx "
                        "but the file is only %llu bytes (truncated dump?)",
                        (unsigned long long)i, (unsigned long long)ph.p_paddr,
                        (unsigned long long)ph.p_offset + ph.p_filesz,
                        (unsigned long long)size);
        if (ph.p_paddr > ELF_MAX_PHYS || ELF_MAX_PHYS - ph.p_paddr < ph.p_memsz)
            return fail(err, errlen, XA_EBADDATA,
                        "PT_LOAD %llu (paddr 0x%llx, memsz 0x%llx) goes beyond the 52-bit "
                        "physical address space of x86-64",
                        (unsigned long long)i, (unsigned long long)ph.p_paddr,
                        (unsigned long long)ph.p_memsz);
        if (ph.p_memsz == 0)
            continue;
        /* Bytes no file stands for: each one is memory every tool may walk. */
        uint64_t fill = ph.p_memsz - ph.p_filesz;
        if (fill > zero_fill_max - zero_fill) /* zero_fill <= zero_fill_max: no wrap */
            return fail(err, errlen, XA_EBADDATA,
                        "PT_LOAD %llu (guest-physical 0x%llx) brings the zero-fill (p_memsz "
                        "beyond p_filesz) to 0x%llx bytes, more than the limit for a %llu-byte "
                        "file (4 GiB + %u x its size)",
                        (unsigned long long)i, (unsigned long long)ph.p_paddr,
                        (unsigned long long)(zero_fill + fill), (unsigned long long)size,
                        ELF_ZERO_FILL_RATIO);
        zero_fill += fill;
        core->segs[core->nr_segs++] = (struct file_segment){
            .pa = ph.p_paddr, .file_size = ph.p_filesz, .mem_size = ph.p_memsz,
            .offset = ph.p_offset};
    }
    if (core->nr_segs == 0)
        return fail(err, errlen, XA_EBADDATA, "ELF core has no non-empty PT_LOAD segment");
    qsort(core->segs, core->nr_segs, sizeof(*core->segs), cmp_seg);
    for (size_t i = 0; i + 1 < core->nr_segs; i++) {
        const struct file_segment *a = &core->segs[i], *b = &core->segs[i + 1];
        if (a->pa + a->mem_size > b->pa)
            return fail(err, errlen, XA_EBADDATA,
                        "PT_LOAD segments overlap: [0x%llx, 0x%llx) and [0x%llx, 0x%llx)",
                        (unsigned long long)a->pa, (unsigned long long)(a->pa + a->mem_size),
                        (unsigned long long)b->pa, (unsigned long long)(b->pa + b->mem_size));
    }
    return 0;
}

/* One note from a PT_NOTE segment. */
struct note {
    const uint8_t *name; uint32_t namesz;
    const uint8_t *desc; uint32_t descsz;
    uint32_t type;
};

static bool note_named(const struct note *n, const char *name)
{
    size_t len = strlen(name);
    /* Writers differ on whether namesz counts the NUL. */
    if (n->namesz != len && n->namesz != len + 1)
        return false;
    if (memcmp(n->name, name, len) != 0)
        return false;
    return n->namesz == len || n->name[len] == '\0';
}

struct note_scan {
    unsigned nr_prstatus, nr_qemu; /* counted so far */
    struct xa_regs *vcpus;         /* NULL on the counting pass */
    unsigned cap;
    bool *has_qemu;                /* per vCPU: regs came from a QEMU note */
    struct xa_vcpu_dtables *dtables; /* per vCPU, filled from QEMU notes */
    uint32_t bad_qemu_version;     /* first unsupported version seen, 0 if none */
};

static void regs_from_prstatus(struct xa_regs *r, const uint8_t *d)
{
    const uint8_t *g = d + PRS_REGS;
#define PR(i) le64(g + 8 * (i))
    r->r15 = PR(PR_R15); r->r14 = PR(PR_R14); r->r13 = PR(PR_R13); r->r12 = PR(PR_R12);
    r->rbp = PR(PR_RBP); r->rbx = PR(PR_RBX); r->r11 = PR(PR_R11); r->r10 = PR(PR_R10);
    r->r9 = PR(PR_R9); r->r8 = PR(PR_R8); r->rax = PR(PR_RAX); r->rcx = PR(PR_RCX);
    r->rdx = PR(PR_RDX); r->rsi = PR(PR_RSI); r->rdi = PR(PR_RDI); r->rip = PR(PR_RIP);
    r->cs = (uint16_t)PR(PR_CS); r->rflags = PR(PR_EFLAGS); r->rsp = PR(PR_RSP);
    r->ss = (uint16_t)PR(PR_SS); r->fs_base = PR(PR_FS_BASE); r->gs_base = PR(PR_GS_BASE);
#undef PR
}

/* Returns the CS descriptor flags (for the long-mode bit). */
static uint32_t regs_from_qemu(struct xa_regs *r, const uint8_t *d, uint32_t size)
{
    uint64_t *gpr[16] = {&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rsp, &r->rbp,
                         &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};
    for (int i = 0; i < 16; i++)
        *gpr[i] = le64(d + QCS_GPR + 8 * i);
    r->rip = le64(d + QCS_RIP);
    r->rflags = le64(d + QCS_RFLAGS);
    const uint8_t *seg = d + QCS_SEGS;
    r->cs = (uint16_t)le32(seg + QSEG_CS * QCS_SEG_SIZE + QCS_SEG_SELECTOR);
    r->ss = (uint16_t)le32(seg + QSEG_SS * QCS_SEG_SIZE + QCS_SEG_SELECTOR);
    r->fs_base = le64(seg + QSEG_FS * QCS_SEG_SIZE + QCS_SEG_BASE);
    r->gs_base = le64(seg + QSEG_GS * QCS_SEG_SIZE + QCS_SEG_BASE);
    r->cr0 = le64(d + QCS_CR + 0);
    r->cr2 = le64(d + QCS_CR + 16);
    r->cr3 = le64(d + QCS_CR + 24);
    r->cr4 = le64(d + QCS_CR + 32);
    r->kernel_gs_base = size >= QCS_FULL_SIZE ? le64(d + QCS_KERNEL_GS_BASE) : 0;
    return le32(seg + QSEG_CS * QCS_SEG_SIZE + QCS_SEG_FLAGS);
}

static bool paging_pae(const struct xa_regs *r)
{
    return (r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE);
}

static void take_note(struct note_scan *s, const struct note *n)
{
    if (note_named(n, "CORE") && n->type == NT_PRSTATUS &&
        n->descsz >= PRS_REGS + 8 * PRS_NREGS) {
        unsigned i = s->nr_prstatus++;
        /* A QEMU note is more complete; never overwrite one. */
        if (s->vcpus && i < s->cap && !s->has_qemu[i])
            regs_from_prstatus(&s->vcpus[i], n->desc);
        return;
    }
    if (note_named(n, "QEMU") && n->type == QEMU_NOTE_TYPE && n->descsz >= 8) {
        uint32_t version = le32(n->desc + QCS_VERSION);
        uint32_t size = le32(n->desc + QCS_SIZE);
        if (version != 1 || size < QCS_MIN_SIZE || size > n->descsz) {
            if (!s->bad_qemu_version)
                s->bad_qemu_version = version ? version : 0xffffffffu;
            return;
        }
        unsigned i = s->nr_qemu++;
        if (s->vcpus && i < s->cap) {
            struct xa_regs *r = &s->vcpus[i];
            memset(r, 0, sizeof(*r));
            uint32_t cs_flags = regs_from_qemu(r, n->desc, size);
            s->has_qemu[i] = true;
            const uint8_t *seg = n->desc + QCS_SEGS;
            s->dtables[i] = (struct xa_vcpu_dtables){
                .sz = sizeof(s->dtables[i]),
                .idt_base = le64(seg + QSEG_IDT * QCS_SEG_SIZE + QCS_SEG_BASE),
                .idt_limit = le32(seg + QSEG_IDT * QCS_SEG_SIZE + QCS_SEG_LIMIT),
                .gdt_base = le64(seg + QSEG_GDT * QCS_SEG_SIZE + QCS_SEG_BASE),
                .gdt_limit = le32(seg + QSEG_GDT * QCS_SEG_SIZE + QCS_SEG_LIMIT),
            };
            if (paging_pae(r) && ((cs_flags & SEG_FLAG_L) || (r->cr4 & CR4_LA57)))
                r->efer = EFER_LME | EFER_LMA;
        }
    }
}

static int scan_notes(const uint8_t *img, uint64_t size, const Elf64_Ehdr *eh, uint64_t phnum,
                      struct note_scan *s, char *err, size_t errlen)
{
    unsigned nr_notes = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_NOTE)
            continue;
        if (ph.p_offset > size || size - ph.p_offset < ph.p_filesz)
            return fail(err, errlen, XA_EBADDATA,
                        "PT_NOTE %llu extends past the end of the file (offset 0x%llx, "
                        "size 0x%llx, file %llu bytes)",
                        (unsigned long long)i, (unsigned long long)ph.p_offset,
                        (unsigned long long)ph.p_filesz, (unsigned long long)size);
        const uint8_t *p = img + ph.p_offset;
        uint64_t left = ph.p_filesz;
        while (left >= sizeof(Elf64_Nhdr)) {
            if (++nr_notes > ELF_MAX_NOTES)
                return fail(err, errlen, XA_EBADDATA, "more than %u ELF notes", ELF_MAX_NOTES);
            Elf64_Nhdr nh;
            memcpy(&nh, p, sizeof(nh));
            uint64_t name_al = ((uint64_t)nh.n_namesz + 3) & ~3ull;
            uint64_t desc_al = ((uint64_t)nh.n_descsz + 3) & ~3ull;
            uint64_t total = sizeof(nh) + name_al + desc_al;
            if (total > left) {
                /* Partial descriptor padding at the very end is harmless. */
                if (sizeof(nh) + name_al + nh.n_descsz > left)
                    return fail(err, errlen, XA_EBADDATA,
                                "ELF note %u in PT_NOTE %llu runs past its segment "
                                "(namesz %u, descsz %u)",
                                nr_notes, (unsigned long long)i, nh.n_namesz, nh.n_descsz);
                total = left;
            }
            struct note n = {.name = p + sizeof(nh), .namesz = nh.n_namesz,
                             .desc = p + sizeof(nh) + name_al, .descsz = nh.n_descsz,
                             .type = nh.n_type};
            take_note(s, &n);
            p += total;
            left -= total;
        }
    }
    return 0;
}

/* After all notes: propagate long mode to vCPUs that were in compatibility mode. */
static void finish_efer(struct xa_regs *vcpus, unsigned n)
{
    bool any_long = false;
    for (unsigned i = 0; i < n; i++)
        any_long |= (vcpus[i].efer & EFER_LMA) != 0;
    if (!any_long)
        return;
    for (unsigned i = 0; i < n; i++)
        if (paging_pae(&vcpus[i]))
            vcpus[i].efer |= EFER_LME | EFER_LMA;
}

static int read_vcpus(const uint8_t *img, uint64_t size, const Elf64_Ehdr *eh, uint64_t phnum,
                      struct elf_core *core, char *err, size_t errlen)
{
    struct note_scan count = {0};
    int rc = scan_notes(img, size, eh, phnum, &count, err, errlen);
    if (rc < 0)
        return rc;
    unsigned n = count.nr_qemu > count.nr_prstatus ? count.nr_qemu : count.nr_prstatus;
    core->qemu_note_version_ignored = count.bad_qemu_version;
    if (n == 0)
        return 0;
    if (n > ELF_MAX_VCPUS)
        return fail(err, errlen, XA_EBADDATA, "ELF core has %u vCPU notes (limit %u)", n,
                    ELF_MAX_VCPUS);
    struct note_scan fill = {.cap = n};
    fill.vcpus = calloc(n, sizeof(*fill.vcpus));
    fill.has_qemu = calloc(n, sizeof(*fill.has_qemu));
    fill.dtables = calloc(n, sizeof(*fill.dtables));
    if (!fill.vcpus || !fill.has_qemu || !fill.dtables) {
        free(fill.vcpus);
        free(fill.has_qemu);
        free(fill.dtables);
        return fail(err, errlen, XA_ENOMEM, "out of memory for %u vCPUs", n);
    }
    /* QEMU notes win over NT_PRSTATUS whatever the order (see take_note). */
    rc = scan_notes(img, size, eh, phnum, &fill, err, errlen);
    free(fill.has_qemu);
    if (rc < 0) {
        free(fill.vcpus);
        free(fill.dtables);
        return rc;
    }
    finish_efer(fill.vcpus, n);
    core->vcpus = fill.vcpus;
    core->dtables = fill.dtables;
    core->nr_vcpus = n;
    return 0;
}

int elf_core_parse(const uint8_t *img, uint64_t size, struct elf_core *core, char *err,
                   size_t errlen)
{
    memset(core, 0, sizeof(*core));
    Elf64_Ehdr eh;
    if (size < EI_NIDENT || !elf_has_magic(img, size))
        return fail(err, errlen, XA_EFORMAT, "not an ELF file");
    if (img[EI_CLASS] != ELFCLASS64 || img[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, XA_EFORMAT,
                    "ELF file is not 64-bit little-endian (class %u, data %u); only x86-64 "
                    "cores are supported",
                    img[EI_CLASS], img[EI_DATA]);
    if (size < sizeof(eh))
        return fail(err, errlen, XA_EBADDATA, "truncated ELF header (%llu bytes)",
                    (unsigned long long)size);
    memcpy(&eh, img, sizeof(eh));
    if (eh.e_type != ET_CORE)
        return fail(err, errlen, XA_EFORMAT, "ELF file is not a core dump (type %u, %s)",
                    eh.e_type, elf_type_name(eh.e_type));
    /* qemu-system-i386 writes ELF64 cores too (its firmware ends at 4 GiB)
     * with EM_386, the same QEMU notes and a 32-bit NT_PRSTATUS (too short
     * for the x86-64 layout, so never read). */
    if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386 && eh.e_machine != EM_AARCH64)
        return fail(err, errlen, XA_EFORMAT,
                    "ELF core is not for x86-64, i386 or AArch64 (e_machine %u)", eh.e_machine);
    core->machine = eh.e_machine;
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return fail(err, errlen, XA_EBADDATA, "ELF core has e_phentsize %u, expected %zu",
                    eh.e_phentsize, sizeof(Elf64_Phdr));

    uint64_t phnum = 0;
    int rc = read_phnum(img, size, &eh, &phnum, err, errlen);
    if (rc < 0)
        return rc;
    if (phnum == 0)
        return fail(err, errlen, XA_EBADDATA, "ELF core has no program headers");
    if (phnum > ELF_MAX_PHNUM)
        return fail(err, errlen, XA_EBADDATA,
                    "ELF core declares %llu program headers (limit %u)",
                    (unsigned long long)phnum, ELF_MAX_PHNUM);
    if (eh.e_phoff > size || (size - eh.e_phoff) / sizeof(Elf64_Phdr) < phnum)
        return fail(err, errlen, XA_EBADDATA,
                    "program header table (%llu entries at offset 0x%llx) extends past the "
                    "end of the file (%llu bytes)",
                    (unsigned long long)phnum, (unsigned long long)eh.e_phoff,
                    (unsigned long long)size);

    rc = read_loads(img, size, &eh, phnum, core, err, errlen);
    /* AArch64 registers (its NT_PRSTATUS) have no place in struct xa_regs:
     * memory only; the OS layer finds the kernel's tables in memory. An
     * i386 core's QEMU notes are the x86-64 ones (QEMUCPUState). */
    if (rc == 0 && (eh.e_machine == EM_X86_64 || eh.e_machine == EM_386))
        rc = read_vcpus(img, size, &eh, phnum, core, err, errlen);
    if (rc < 0)
        elf_core_free(core);
    return rc;
}

void elf_core_free(struct elf_core *core)
{
    if (!core)
        return;
    free(core->segs);
    free(core->vcpus);
    free(core->dtables);
    memset(core, 0, sizeof(*core));
}
