/*
 * win.h -- the Windows OS layer's private state and its parts. Internal.
 *
 * Windows x64 guests (7 to 11): the debugger data block (KDBG) found in
 * memory, decoded when the kernel keeps it encoded; the process list from
 * PsActiveProcessHead with an EPROCESS layout chosen from a table of public
 * structure offsets and checked against memory; drivers from
 * PsLoadedModuleList.
 */
#ifndef XA_OS_WINDOWS_WIN_H
#define XA_OS_WINDOWS_WIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "os/os.h"

/* Bounds on what the guest may make us walk. */
#define WIN_MAX_PROCESSES 65536u
#define WIN_MAX_MODULES 4096u
#define WIN_MAX_PID 0x4000000u /* PIDs are handle values: multiples of 4, well below 2^26 */

/* EPROCESS offsets of one range of builds (layouts.c). */
struct win_layout {
    const char *name;
    uint16_t pid, links, ppid, image_name, create_time, peb;
};

extern const struct win_layout win_layouts[];
extern const size_t win_nr_layouts;

/* KDBG: what discovery found (kdbg.c). */
struct win_kdbg {
    uint64_t addr;        /* KdDebuggerDataBlock (kernel virtual) */
    uint64_t kern_base;
    uint64_t ps_loaded_module_list, ps_active_process_head;
    uint32_t size;
    bool encoded;         /* found encoded and decoded here */
};

/* Scan guest memory for the debugger data block (plain or encoded). */
int win_kdbg_find(struct xa_instance *xa, struct win_kdbg *out);

/* The public decoding of one encoded 64-bit word of KDBG (KdCopyDataBlock):
 * xor KiWaitNever, rotate left by its low byte, xor the block's address,
 * swap bytes, xor KiWaitAlways. */
uint64_t win_kdbg_decode(uint64_t word, uint64_t wait_never, uint64_t wait_always,
                         uint64_t block);
/* Find the decoding of an encoded block from its own known contents:
 * @words are its first 11 words. Each guess (rots[i], keys[i]) turns a word
 * w into bswap64(rotl64(w, rot)) ^ key; returns how many (at most @max)
 * make the block look right. Memory then tells which is. */
#define WIN_KDBG_MAX_GUESSES 64
size_t win_kdbg_crack(const uint64_t words[11], unsigned *rots, uint64_t *keys, size_t max);

struct win_os {
    struct win_kdbg kdbg;
    const struct win_layout *layout;
    uint64_t system_eprocess;
    uint64_t dtb;             /* System's page-table root */
    uint64_t boot_filetime;   /* System's CreateTime: the boot */
    char version[128];
};

static inline struct win_os *win_os(struct xa_instance *xa)
{
    return xa__os_state(xa);
}

static inline bool win_kernel_ptr(uint64_t p)
{
    return p >= 0xffff800000000000ULL;
}

/* A checked read of guest kernel memory. */
static inline int win_u64(struct xa_instance *xa, uint64_t va, uint64_t *v)
{
    return xa__read_va(xa, 0, va, v, sizeof(*v), NULL);
}

/* Processes and drivers (procs.c). */
struct xa_process_iter;
struct xa_module_iter;
int win_process_iter_new(struct xa_instance *xa, struct xa_process_iter **out);
int win_process_iter_next(struct xa_process_iter *it, struct xa_process *out);
void win_process_iter_free(struct xa_process_iter *it);
int win_process_by_pid(struct xa_instance *xa, int32_t pid, struct xa_process *out);
int win_module_iter_new(struct xa_instance *xa, struct xa_module_iter **out);
int win_module_iter_next(struct xa_module_iter *it, struct xa_module *out);
void win_module_iter_free(struct xa_module_iter *it);
int win_process_start_time(struct xa_instance *xa, int32_t pid, uint64_t *boot_ns,
                           int64_t *wall_ns);
int win_boot_time(struct xa_instance *xa, int64_t *wall_ns);
int win_process_args(struct xa_instance *xa, int32_t pid, bool environ, void *buf, size_t cap,
                     size_t *len, uint32_t *flags);

/* Check a layout against the list: 0 when System is its first entry and it
 * holds together (procs.c). */
int win_layout_check(struct xa_instance *xa, uint64_t head, const struct win_layout *l,
                     uint64_t *system);

/* UTF-16LE to printable ASCII ('?' for anything else); returns bytes written. */
size_t win_utf16_to_ascii(const uint8_t *in, size_t in_len, char *out, size_t cap);

#endif /* XA_OS_WINDOWS_WIN_H */
