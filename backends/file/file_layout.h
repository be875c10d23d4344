/*
 * file_layout.h -- how a dump file maps onto guest-physical memory, shared by
 * the file backend (file.c) and the ELF core parser (elf.c). Internal.
 */
#ifndef XA_FILE_LAYOUT_H
#define XA_FILE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "xenaccess.h"

/* Guest-physical [pa, pa + mem_size) lives in the file at [offset, offset +
 * file_size); bytes beyond file_size (up to mem_size) read as zero. */
struct file_segment {
    uint64_t pa;
    uint64_t file_size;
    uint64_t mem_size;
    uint64_t offset;
};

/* What the ELF parser found; free with elf_core_free(). */
struct elf_core {
    struct file_segment *segs; /* sorted by pa, non-overlapping, mem_size > 0 */
    size_t nr_segs;
    size_t nr_load;            /* PT_LOAD headers, including empty ones */
    struct xa_regs *vcpus;     /* one per vCPU state found in PT_NOTE */
    unsigned nr_vcpus;
    /* IDTR/GDTR per vCPU, from its QEMU note; sz 0 where there was none */
    struct xa_vcpu_dtables *dtables;
    uint32_t qemu_note_version_ignored; /* a "QEMU" note we could not read, 0 if none */
    uint16_t machine;          /* e_machine: EM_X86_64 or EM_AARCH64 */
};

/* Limits on what a dump file may declare (hostile input). */
#define ELF_MAX_PHNUM (1u << 20)
#define ELF_MAX_VCPUS 4096u
#define ELF_MAX_NOTES (1u << 16)
/* Guest-physical addresses end at 2^52 (MAXPHYADDR of x86-64). */
#define ELF_MAX_PHYS (1ull << 52)
/* Zero-fill (p_memsz beyond p_filesz, summed over PT_LOADs) may stand for at
 * most ELF_ZERO_FILL_FLOOR + ELF_ZERO_FILL_RATIO x the file size: a scan of
 * guest memory then costs at most a small multiple of reading the file. */
#define ELF_ZERO_FILL_FLOOR (4ull << 30)
#define ELF_ZERO_FILL_RATIO 16u

/*
 * Parse an ELF64 x86-64 core as written by QEMU dump-guest-memory (no
 * paging). @img/@size: the whole file. On failure returns XA_EFORMAT (not an
 * x86-64 core) or XA_EBADDATA (a corrupt one) or XA_ENOMEM and writes a
 * one-line reason to @err (no path; the caller adds it).
 */
int elf_core_parse(const uint8_t *img, uint64_t size, struct elf_core *core, char *err,
                   size_t errlen);
void elf_core_free(struct elf_core *core);

/* True when @img starts with the ELF magic. */
int elf_has_magic(const uint8_t *img, uint64_t size);

#endif /* XA_FILE_LAYOUT_H */
