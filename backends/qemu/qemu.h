/*
 * qemu.h -- state of the qemu backend, shared by its files. Internal.
 *
 * qemu.c  backend ops (open/close/read/map/regs/pause)
 * qmp.c   the QMP client (own socket, or a transport such as libvirt's)
 * ram.c   finding guest RAM: memory backends, guest-physical layout,
 *         shared-file mmap or /proc/PID/mem
 * regs.c  parsing HMP "info registers"
 */
#ifndef XA_QEMU_QEMU_H
#define XA_QEMU_QEMU_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/backend.h"
#include "backends/qemu/qmp.h"

/* Hard caps on what QEMU tells us (a QEMU we talk to is trusted less than
 * fully: its replies are bounded like guest data). */
#define QEMU_MAX_BLOCKS 64
#define QEMU_MAX_SEGMENTS 256
#define QEMU_MAX_VCPUS 4096

/* One memory backend object (memdev): a RAM block of QEMU. */
struct qemu_block {
    char id[128];
    uint64_t size;
    bool share;
    char *mem_path;          /* memory-backend-file only (malloc), else NULL */
    uint8_t *map;            /* our mmap of its pages, or NULL */
    size_t map_len;
    uint64_t host_addr;      /* address in QEMU's process (/proc/PID/mem path) */
};

/* A guest-physical range backed by part of a block. */
struct qemu_segment {
    uint64_t gpa, size;
    unsigned block;
    uint64_t offset; /* into the block */
};

struct qemu_backend {
    struct xa_backend base;
    struct qmp qmp;
    char sock_path[PATH_MAX]; /* names the target in messages (libvirt: "libvirt:NAME") */
    bool writable;

    struct qemu_block blocks[QEMU_MAX_BLOCKS];
    unsigned nr_blocks;
    struct qemu_segment segs[QEMU_MAX_SEGMENTS];
    unsigned nr_segs;
    unsigned last_seg;

    pid_t pid;        /* QEMU's pid, 0 if unknown */
    int mem_fd;       /* /proc/PID/mem, or -1 when every block is mapped */
    bool all_mapped;  /* every block is mmapped: map_page never copies */

    bool found_stopped; /* the last pause() found the guest stopped: resume() leaves it */
};

/* qemu.c: with qmp open (and qmp.peer_pid set when known), find RAM and vCPUs
 * and set base.caps. Shared with backends that reach QEMU another way. */
int qemu_attach(struct qemu_backend *qb);

/*
 * For a backend built on this one (libvirt), which drives a qemu backend
 * instance through xa_backend_qemu's operations: open @be (an instance of
 * xa_backend_qemu.instance_size zeroed bytes, ops and xa set) over another
 * monitor transport instead of open()'s socket. After it, whatever it
 * returned, xa_backend_qemu.close() releases @be.
 */
struct qemu_over {
    const char *name;                      /* names the target in messages */
    const struct qmp_transport *transport; /* the monitor */
    pid_t peer_pid;                        /* QEMU's pid when known, else 0 */
    uint32_t flags;                        /* enum xa_init_flags */
};
int qemu_open_over(struct xa_backend *be, const struct qemu_over *how);

/* &xa_backend_qemu (a function, so a loaded module gets it from its host). */
const struct xa_backend_ops *qemu_backend_ops(void);

/* What RAM discovery found on @be, for a composing backend's hints. */
struct qemu_ram_facts {
    unsigned nr_segs;     /* RAM segments found in the memory tree */
    bool has_ranges;      /* the RAM layout was made */
    bool has_shared_file; /* a block is a shared file with a path */
    pid_t pid;            /* QEMU's pid, 0 if unknown */
};
void qemu_ram_facts(const struct xa_backend *be, struct qemu_ram_facts *out);

/* ram.c: discover blocks, layout and access path; fills base.ranges/method. */
int qemu_ram_open(struct qemu_backend *qb);
void qemu_ram_close(struct qemu_backend *qb);
/* The segment holding @pa, or NULL. */
const struct qemu_segment *qemu_seg_find(struct qemu_backend *qb, uint64_t pa);

/* One line of QEMU's /proc/PID/maps. */
struct qemu_vma {
    uint64_t start, end, offset;
    char perms[5];
    char path[256];
};

/* ram.c, pure parsers (unit-tested and fuzzed on canned text):
 * the FlatView of address space "memory" of `info mtree -f` into qb->segs
 * (blocks must be known): the number of segments, or a negative error; */
int qemu_parse_mtree(struct qemu_backend *qb, const char *text);
/* one /proc/PID/maps line: false when it is not one; */
bool qemu_parse_maps_line(const char *line, struct qemu_vma *v);
/* does mapping @v look like block @b's RAM; */
bool qemu_vma_matches(const struct qemu_block *b, const struct qemu_vma *v);
/* the two values of HMP `xp /2gx ADDR`: 0 or XA_EBADDATA. */
int qemu_parse_xp(const char *text, uint64_t val[2]);

/* regs.c: parse the text of "info registers" for one vCPU. Returns 0, or
 * XA_EBADDATA when the text holds no register dump. */
int qemu_parse_regs(const char *text, struct xa_regs *out);
/* regs.c: IDTR and GDTR ("IDT=" and "GDT=" lines) from the same text.
 * Returns 0, or XA_EBADDATA when either is missing. */
int qemu_parse_dtables(const char *text, struct xa_vcpu_dtables *out);

#endif /* XA_QEMU_QEMU_H */
