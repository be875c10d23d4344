/*
 * synthetic_windows.h -- a tiny Windows x64 guest built in memory, in a
 * PAGEDU64 full-dump container, shared by the Windows OS layer test
 * (test_windows_os.c) and the fuzz seed maker: 4 MiB of RAM, kernel page
 * tables (2 MiB pages) and one user address space, a debugger data block
 * (plain or encoded), PsActiveProcessHead with System and two processes in
 * one EPROCESS layout, a PEB with a command line, PsLoadedModuleList with two
 * drivers. Hostile variants break the lists.
 *
 * The EPROCESS offsets below are public facts (Vergilius Project), written
 * out here again so the test does not read the library's table.
 */
#ifndef XA_TEST_SYNTHETIC_WINDOWS_H
#define XA_TEST_SYNTHETIC_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_RAM (4u << 20)
#define SW_KBASE 0xfffff80000000000ULL /* kernel VA of physical 0 */
#define SW_PML4_K 0x1000
#define SW_PML4_U 0x4000
#define SW_USER_PAGE 0x8000
#define SW_USER_VA 0x10000ULL /* the PEB */
#define SW_LIST_HEAD 0x10000  /* KdpDebuggerDataListHead */
#define SW_KDBG 0x10100
#define SW_PROC_HEAD 0x11000
#define SW_MOD_HEAD 0x11100
#define SW_EPROCESS(i) (0x20000u + (i) * 0x1000u)
#define SW_LDR(i) (0x30000u + (i) * 0x200u)
#define SW_NT_BASE 0x200000 /* kernel image: page-aligned */
#define SW_BOOT_FT 132583451020698648ULL /* 2021-02-21, 100 ns since 1601 */

struct sw_layout {
    const char *name;
    uint16_t pid, links, ppid, image, create, peb;
};

static const struct sw_layout sw_layouts[] = {
    {"10 2004 - 11 23H2", 0x440, 0x448, 0x540, 0x5a8, 0x468, 0x550},
    {"11 24H2", 0x1d0, 0x1d8, 0x2d0, 0x338, 0x1f8, 0x2e0},
    {"10 1903", 0x2e8, 0x2f0, 0x3e8, 0x450, 0x2d0, 0x3f8},
    {"10 1507 - 1809", 0x2e0, 0x2e8, 0x3e0, 0x450, 0x2d0, 0x3f8},
    {"8 - 8.1", 0x2e0, 0x2e8, 0x3e0, 0x438, 0x2d0, 0x3e8},
    {"7 SP1", 0x180, 0x188, 0x290, 0x2e0, 0x168, 0x338},
};
#define SW_NR_LAYOUTS (sizeof(sw_layouts) / sizeof(sw_layouts[0]))

enum sw_flags {
    SW_ENCODED = 1u << 0,   /* KDBG kept encoded (KdpDataBlockEncoded) */
    SW_BAD_BLINK = 1u << 1, /* a process whose Blink does not point back */
    SW_LOOP = 1u << 2,      /* the last process links back to the second */
    SW_DUP_PID = 1u << 3,   /* two processes with one PID */
    SW_NO_KDBG = 1u << 4,   /* no debugger data block at all */
};

/* The secrets of the encoding (KiWaitNever, KiWaitAlways). */
#define SW_WAIT_NEVER 0x1236567890abcd27ULL
#define SW_WAIT_ALWAYS 0x0fedcba987654321ULL

static uint8_t *sw_img;

static inline void sw_put64(uint64_t pa, uint64_t v) { memcpy(sw_img + pa, &v, 8); }
static inline void sw_put32(uint64_t pa, uint32_t v) { memcpy(sw_img + pa, &v, 4); }
static inline uint64_t sw_kva(uint64_t pa) { return SW_KBASE + pa; }

static inline void sw_link(uint64_t head, const uint64_t *entries, int n)
{
    /* entries: physical addresses of the LIST_ENTRYs, head first excluded */
    for (int i = 0; i <= n; i++) {
        uint64_t cur = i ? entries[i - 1] : head;
        uint64_t next = i < n ? entries[i] : head;
        sw_put64(cur, sw_kva(next));
        sw_put64(next + 8, sw_kva(cur));
    }
}

static inline void sw_utf16(uint64_t pa, const char *s, uint64_t ustr_pa)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        sw_img[pa + 2 * i] = (uint8_t)s[i];
        sw_img[pa + 2 * i + 1] = 0;
    }
    /* UNICODE_STRING { Length, MaximumLength, pad, Buffer } */
    sw_img[ustr_pa] = (uint8_t)(2 * n);
    sw_img[ustr_pa + 2] = (uint8_t)(2 * n + 2);
    sw_put64(ustr_pa + 8, sw_kva(pa));
}

static inline uint64_t sw_rotr(uint64_t v, unsigned r)
{
    r &= 63;
    return r ? (v >> r) | (v << (64 - r)) : v;
}

/* The inverse of the public decoding (os/windows/kdbg.c). */
static inline uint64_t sw_encode(uint64_t plain, uint64_t block)
{
    uint64_t w = __builtin_bswap64(plain ^ SW_WAIT_ALWAYS) ^ block;
    return sw_rotr(w, (unsigned)(SW_WAIT_NEVER & 0xff)) ^ SW_WAIT_NEVER;
}

static inline void sw_process(const struct sw_layout *l, int i, int pid, int ppid,
                              const char *name, uint64_t dtb, uint64_t peb, uint64_t ft)
{
    uint64_t ep = SW_EPROCESS(i);
    sw_put64(ep + 0x28, dtb);
    sw_put64(ep + l->pid, (uint64_t)pid);
    sw_put64(ep + l->ppid, (uint64_t)ppid);
    memcpy(sw_img + ep + l->image, name, strlen(name));
    sw_put64(ep + l->create, ft);
    sw_put64(ep + l->peb, peb);
}

/* Build the guest's RAM into sw_img (SW_RAM bytes). */
static inline void sw_build(const struct sw_layout *l, unsigned flags)
{
    memset(sw_img, 0, SW_RAM);
    /* Kernel: PML4[496] -> PDPT -> PD of two 2 MiB pages at physical 0. */
    sw_put64(SW_PML4_K + 496 * 8, 0x2000 | 3);
    sw_put64(0x2000, 0x3000 | 3);
    sw_put64(0x3000, 0x0 | 0x83);
    sw_put64(0x3008, 0x200000 | 0x83);
    /* User: its own PML4 sharing the kernel half; VA 0x10000 -> SW_USER_PAGE. */
    sw_put64(SW_PML4_U + 496 * 8, 0x2000 | 3);
    sw_put64(SW_PML4_U, 0x5000 | 7);
    sw_put64(0x5000, 0x6000 | 7);
    sw_put64(0x6000, 0x7000 | 7);
    sw_put64(0x7000 + (SW_USER_VA >> 12) * 8, SW_USER_PAGE | 7);
    /* PEB -> ProcessParameters (user VA) -> CommandLine (user VA). */
    sw_put64(SW_USER_PAGE + 0x20, SW_USER_VA + 0x100);
    const char *cmd = "user.exe -x";
    for (size_t i = 0; i < strlen(cmd); i++)
        sw_img[SW_USER_PAGE + 0x200 + 2 * i] = (uint8_t)cmd[i];
    sw_img[SW_USER_PAGE + 0x100 + 0x70] = (uint8_t)(2 * strlen(cmd));
    sw_put64(SW_USER_PAGE + 0x100 + 0x78, SW_USER_VA + 0x200);
    memcpy(sw_img + SW_NT_BASE, "MZ", 2);

    /* Processes: System, smss.exe, user.exe. */
    sw_process(l, 0, 4, 0, "System", SW_PML4_K, 0, SW_BOOT_FT);
    sw_process(l, 1, 300, 4, "smss.exe", 0x9000, 0, SW_BOOT_FT + 20000000);
    sw_process(l, 2, (flags & SW_DUP_PID) ? 300 : 1236, 300, "user.exe", SW_PML4_U, SW_USER_VA,
               SW_BOOT_FT + 50000000);
    uint64_t links[3] = {SW_EPROCESS(0) + l->links, SW_EPROCESS(1) + l->links,
                         SW_EPROCESS(2) + l->links};
    sw_link(SW_PROC_HEAD, links, 3);
    if (flags & SW_BAD_BLINK)
        sw_put64(links[2] + 8, sw_kva(links[0]));
    if (flags & SW_LOOP) { /* user.exe -> smss.exe, both ways consistent past it */
        sw_put64(links[2], sw_kva(links[1]));
        sw_put64(links[1] + 8, sw_kva(links[2]));
    }

    /* Drivers. */
    const char *drivers[2] = {"ntoskrnl.exe", "hal.dll"};
    uint64_t ldr[2] = {SW_LDR(0), SW_LDR(1)};
    for (int i = 0; i < 2; i++) {
        sw_put64(ldr[i] + 0x30, sw_kva(SW_NT_BASE) + (uint64_t)i * 0x100000);
        sw_put32(ldr[i] + 0x40, 0x80000 + (uint32_t)i * 0x1000);
        sw_utf16(ldr[i] + 0x100, drivers[i], ldr[i] + 0x58);
        sw_img[ldr[i] + 0x6c] = (uint8_t)(1 + i);
    }
    sw_link(SW_MOD_HEAD, ldr, 2);

    if (flags & SW_NO_KDBG)
        return;
    /* KDBG and its list head, KdpDebuggerDataListHead. */
    uint64_t w[11] = {0};
    w[0] = w[1] = sw_kva(SW_LIST_HEAD);
    w[2] = 0x4742444bULL | (uint64_t)0x368 << 32;
    w[3] = sw_kva(SW_NT_BASE);
    w[9] = sw_kva(SW_MOD_HEAD);
    w[10] = sw_kva(SW_PROC_HEAD);
    for (int i = 0; i < 11; i++)
        sw_put64(SW_KDBG + 8 * i,
                 (flags & SW_ENCODED) ? sw_encode(w[i], sw_kva(SW_KDBG)) : w[i]);
    sw_put64(SW_LIST_HEAD, sw_kva(SW_KDBG));
    sw_put64(SW_LIST_HEAD + 8, sw_kva(SW_KDBG));
}

/* Write sw_img as a PAGEDU64 full dump (one run) to @f. */
static inline int sw_write_dump(FILE *f)
{
    static uint8_t h[0x2000];
    for (size_t i = 0; i < sizeof(h); i += 4)
        memcpy(h + i, "PAGE", 4);
    memcpy(h, "PAGEDU64", 8);
    uint64_t v;
    uint32_t u;
#define SW_H64(off, val) (v = (val), memcpy(h + (off), &v, 8))
#define SW_H32(off, val) (u = (val), memcpy(h + (off), &u, 4))
    SW_H32(0x08, 15);
    SW_H32(0x0c, 19041);
    SW_H64(0x10, SW_PML4_K);
    SW_H32(0x30, 0x8664);
    SW_H32(0x34, 1);
    SW_H32(0x38, 0xe2);
    SW_H32(0x88, 1);
    SW_H32(0x8c, 0);
    SW_H64(0x90, SW_RAM >> 12);
    SW_H64(0x98, 0);
    SW_H64(0xa0, SW_RAM >> 12);
    memset(h + 0x348, 0, 0x4d0);
    SW_H32(0xf98, 1);
#undef SW_H64
#undef SW_H32
    return fwrite(h, 1, sizeof(h), f) == sizeof(h) && fwrite(sw_img, 1, SW_RAM, f) == SW_RAM
               ? 0
               : -1;
}

#endif /* XA_TEST_SYNTHETIC_WINDOWS_H */
