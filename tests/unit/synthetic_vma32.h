/*
 * synthetic_vma32.h -- synthetic 32-bit user processes for the memory-map
 * layout inference (os/linux/vma32.c) and the maple walker with 4-byte
 * longs (os/linux/maple.c): mm_structs whose maple trees hold VMAs of an
 * executable, a library, bss, heap, [vvar], [vdso] and a stack, with struct
 * files, dentries (names in d_iname), a root mount, at offsets a test
 * chooses (sv_686 and sv_pae are Debian 6.1's).
 */
#ifndef XA_TEST_SYNTHETIC_VMA32_H
#define XA_TEST_SYNTHETIC_VMA32_H

#include "arena.h"
#include "os/linux/maple.h"
#include "os/linux/vma32.h"

#define SV_BASE 0xC1000000ull
#define SV_PAGE_OFFSET 0xC0000000ull
#define SV_ARENA (4u << 20)
#define SV_MAX_VMAS 40u

struct sv_layout {
    uint32_t mm_root, mm_start_stack, mm_map_count;
    uint32_t vm_start, vm_end, vm_mm, vm_flags, vm_pgoff, vm_file, vm_ops, vm_private;
    uint32_t f_path, d_hash_pprev, d_parent, d_name, d_iname;
    uint32_t mnt_root, mount_mnt, mount_parent;
};

static const struct sv_layout sv_686 = {
    .mm_root = 4, .mm_start_stack = 280, .mm_map_count = 44,
    .vm_start = 0, .vm_end = 4, .vm_mm = 8, .vm_flags = 16, .vm_pgoff = 52, .vm_file = 56,
    .vm_ops = 48, .vm_private = 60,
    .f_path = 8, .d_hash_pprev = 12, .d_parent = 16, .d_name = 20, .d_iname = 36,
    .mnt_root = 0, .mount_mnt = 16, .mount_parent = 8,
};
static const struct sv_layout sv_pae = {
    .mm_root = 4, .mm_start_stack = 296, .mm_map_count = 48,
    .vm_start = 0, .vm_end = 4, .vm_mm = 8, .vm_flags = 20, .vm_pgoff = 56, .vm_file = 60,
    .vm_ops = 52, .vm_private = 64,
    .f_path = 8, .d_hash_pprev = 12, .d_parent = 16, .d_name = 20, .d_iname = 36,
    .mnt_root = 0, .mount_mnt = 16, .mount_parent = 8,
};

enum { SV_READ = 1, SV_WRITE = 2, SV_EXEC = 4, SV_MAY = 0x70, SV_GROWSDOWN = 0x100 };

struct sv_guest {
    struct arena a;
    struct sv_layout l;
    uint64_t special_ops, vvar, vdso; /* vm_ops and vm_special_mappings */
    uint64_t root_dentry, mnt;       /* the root mount's vfsmount */
    uint64_t exe_file, lib_file, data_file; /* data_file: on a second mount */
    uint64_t bind_file;  /* /lib/libz.so through a bind mount of /lib on /opt */
    bool no_specials;    /* sv_process: no [vvar], [vdso] names (vdso=0) */
    uint64_t mms[64];
    size_t nmms;
    /* the last process built: its VMAs and leaf */
    uint64_t vmas[SV_MAX_VMAS], leaf;
    size_t nvmas;
};

static inline uint64_t sv_string(struct sv_guest *g, const char *s)
{
    uint64_t va = arena_alloc(&g->a, strlen(s) + 1);
    arena_put(&g->a, va, s, strlen(s) + 1);
    return va;
}

static inline uint64_t sv_dentry(struct sv_guest *g, uint64_t parent, const char *name)
{
    const struct sv_layout *l = &g->l;
    uint64_t d = arena_alloc(&g->a, 256);
    size_t len = strlen(name);
    arena_put32(&g->a, d + l->d_parent, (uint32_t)(parent ? parent : d));
    arena_put32(&g->a, d + l->d_name, 0x9e3779b9u * (uint32_t)len); /* hash */
    arena_put32(&g->a, d + l->d_name + 4, (uint32_t)len);
    arena_put32(&g->a, d + l->d_name + 8, (uint32_t)(d + l->d_iname));
    arena_put(&g->a, d + l->d_iname, name, len + 1);
    if (parent) { /* hashed: a bucket whose first points back at d_hash */
        uint64_t bucket = arena_alloc(&g->a, 4);
        arena_put32(&g->a, bucket, (uint32_t)(d + l->d_hash_pprev - 4));
        arena_put32(&g->a, d + l->d_hash_pprev, (uint32_t)bucket);
    }
    return d;
}

static inline uint64_t sv_file(struct sv_guest *g, uint64_t dentry)
{
    uint64_t f = arena_alloc(&g->a, 256);
    arena_put32(&g->a, f + g->l.f_path, (uint32_t)g->mnt);
    arena_put32(&g->a, f + g->l.f_path + 4, (uint32_t)dentry);
    arena_put32(&g->a, f + g->l.f_path + 12, 0xC0ABC000u); /* f_op */
    return f;
}

static inline uint64_t sv_special(struct sv_guest *g, const char *name)
{
    uint64_t sm = arena_alloc(&g->a, 32);
    arena_put32(&g->a, sm, (uint32_t)sv_string(g, name));
    return sm;
}

/* Kernel-wide objects: the root mount, files, special mappings. */
static inline void sv_init(struct sv_guest *g, const struct sv_layout *l)
{
    memset(g, 0, sizeof(*g));
    g->l = *l;
    arena_init(&g->a, SV_BASE, SV_ARENA, 256);
    g->root_dentry = sv_dentry(g, 0, "/");
    uint64_t mount = arena_alloc(&g->a, 256);
    g->mnt = mount + l->mount_mnt;
    arena_put32(&g->a, mount + l->mount_parent, (uint32_t)mount);
    arena_put32(&g->a, mount + l->mount_parent + 4, (uint32_t)g->root_dentry);
    arena_put32(&g->a, g->mnt + l->mnt_root, (uint32_t)g->root_dentry);
    uint64_t bin = sv_dentry(g, g->root_dentry, "bin");
    uint64_t lib = sv_dentry(g, g->root_dentry, "lib");
    g->exe_file = sv_file(g, sv_dentry(g, bin, "busybox"));
    g->lib_file = sv_file(g, sv_dentry(g, lib, "libc.so.6"));
    /* /data: a second mount (its own root) on the root mount's "data" */
    uint64_t data = sv_dentry(g, g->root_dentry, "data");
    uint64_t root2 = sv_dentry(g, 0, "/");
    uint64_t mount2 = arena_alloc(&g->a, 256);
    arena_put32(&g->a, mount2 + l->mount_parent, (uint32_t)mount);
    arena_put32(&g->a, mount2 + l->mount_parent + 4, (uint32_t)data);
    arena_put32(&g->a, mount2 + l->mount_mnt + l->mnt_root, (uint32_t)root2);
    uint64_t blob = sv_dentry(g, root2, "blob");
    g->data_file = sv_file(g, blob);
    arena_put32(&g->a, g->data_file + l->f_path, (uint32_t)(mount2 + l->mount_mnt));
    /* /opt: /lib bind-mounted (its vfsmount's root is the "lib" dentry) */
    uint64_t opt = sv_dentry(g, g->root_dentry, "opt");
    uint64_t mount3 = arena_alloc(&g->a, 256);
    arena_put32(&g->a, mount3 + l->mount_parent, (uint32_t)mount);
    arena_put32(&g->a, mount3 + l->mount_parent + 4, (uint32_t)opt);
    arena_put32(&g->a, mount3 + l->mount_mnt + l->mnt_root, (uint32_t)lib);
    g->bind_file = sv_file(g, sv_dentry(g, lib, "libz.so"));
    arena_put32(&g->a, g->bind_file + l->f_path, (uint32_t)(mount3 + l->mount_mnt));
    g->special_ops = arena_alloc(&g->a, 64);
    g->vvar = sv_special(g, "[vvar]");
    g->vdso = sv_special(g, "[vdso]");
}

struct sv_vma {
    uint32_t start, end, flags, pgoff;
    uint64_t file, special;
};

/* One process with the VMAs @v (address order), in one leaf or, with
 * @split, two leaves under a range node. Returns the mm. */
static inline uint64_t sv_process(struct sv_guest *g, const struct sv_vma *v, size_t n, bool split)
{
    const struct sv_layout *l = &g->l;
    struct arena *a = &g->a;
    uint64_t mm = arena_alloc(a, V32_MM_SPAN);
    g->nvmas = n;
    for (size_t i = 0; i < n; i++) {
        uint64_t vma = g->vmas[i] = arena_alloc(a, 96);
        arena_put32(a, vma + l->vm_start, v[i].start);
        arena_put32(a, vma + l->vm_end, v[i].end);
        arena_put32(a, vma + l->vm_mm, (uint32_t)mm);
        arena_put32(a, vma + l->vm_flags, v[i].flags);
        arena_put32(a, vma + l->vm_pgoff, v[i].pgoff);
        arena_put32(a, vma + l->vm_file, (uint32_t)v[i].file);
        if (v[i].special && !g->no_specials) {
            arena_put32(a, vma + l->vm_ops, (uint32_t)g->special_ops);
            arena_put32(a, vma + l->vm_private, (uint32_t)v[i].special);
        }
        if (v[i].flags & SV_WRITE && !v[i].file)
            arena_put32(a, vma + l->vm_ops - 4, (uint32_t)arena_alloc(a, 64)); /* anon_vma */
    }
    /* A leaf: slot i covers a VMA, gaps get an empty slot between. */
    uint64_t leaves[2];
    size_t halves = split ? 2 : 1;
    uint32_t bound = 0;
    for (size_t h = 0; h < halves; h++) {
        size_t lo = h * n / halves, hi = (h + 1) * n / halves;
        uint64_t node = leaves[h] = arena_alloc(a, MAPLE_NODE_SIZE);
        arena_put32(a, node, (uint32_t)(mm | 1)); /* parent: not the node itself */
        size_t s = 0;
        uint32_t at = h ? bound : 0;
        for (size_t i = lo; i < hi; i++) {
            if (v[i].start > at) { /* the gap before it */
                arena_put32(a, node + 4 + 4 * s, v[i].start - 1);
                s++;
            }
            arena_put32(a, node + 4 + 4 * s, v[i].end - 1);
            arena_put32(a, node + 128 + 4 * s, (uint32_t)g->vmas[i]);
            s++;
            at = v[i].end;
        }
        /* the rest up to the node's max: one empty slot */
        uint32_t max = h + 1 < halves ? v[hi].start - 1 : 0xFFFFFFFFu;
        if (at <= max) {
            arena_put32(a, node + 4 + 4 * s, max);
            s++;
        }
        arena_put8(a, node + 128 + 31 * 4, (uint8_t)(s - 1)); /* meta.end */
        bound = max + 1;
    }
    uint32_t root;
    if (split) {
        uint64_t node = arena_alloc(a, MAPLE_NODE_SIZE);
        arena_put32(a, node, (uint32_t)(mm | 1));
        arena_put32(a, node + 4, (uint32_t)(v[n / 2].start - 1)); /* the first leaf's max */
        arena_put32(a, node + 128, (uint32_t)(leaves[0] | 1u << 3 | 2)); /* leaf_64 */
        arena_put32(a, node + 128 + 4, (uint32_t)(leaves[1] | 1u << 3 | 2));
        arena_put8(a, node + 128 + 31 * 4, 1);
        root = (uint32_t)(node | 2u << 3 | 2); /* range_64 */
    } else {
        root = (uint32_t)(leaves[0] | 1u << 3 | 2);
    }
    g->leaf = leaves[0];
    arena_put32(a, mm + l->mm_root, root);
    arena_put32(a, mm + l->mm_root + 4, 0x307); /* ma_flags */
    arena_put32(a, mm + l->mm_map_count, (uint32_t)n);
    /* start_brk, brk, start_stack, arg_start, arg_end, env_start, env_end */
    const struct sv_vma *heap = &v[3], *stack = &v[n - 1];
    uint32_t words[] = {heap->start, heap->end - 0x100, stack->end - 0x800, stack->end - 0x600,
                        stack->end - 0x500, stack->end - 0x500, stack->end - 0x100};
    for (size_t i = 0; i < 7; i++)
        arena_put32(a, mm + l->mm_start_stack - 8 + 4 * i, words[i]);
    g->mms[g->nmms++] = mm;
    return mm;
}

/* A busybox-like process, its addresses moved by @k pages. */
static inline uint64_t sv_typical(struct sv_guest *g, uint32_t k, bool split)
{
    uint32_t p = k << 12;
    const struct sv_vma v[] = {
        {0x08048000, 0x08049000, SV_READ | SV_MAY, 0, g->exe_file, 0},
        {0x08049000, 0x081cd000, SV_READ | SV_EXEC | SV_MAY, 1, g->exe_file, 0},
        {0x0823e000, 0x08240000, SV_READ | SV_WRITE | SV_MAY, 0x1f6, g->exe_file, 0},
        {0x09027000 + p, 0x09049000 + p, SV_READ | SV_WRITE | SV_MAY, (0x09027000 + p) >> 12, 0, 0},
        {0xb7e00000 - p, 0xb7f00000 - p, SV_READ | SV_EXEC | SV_MAY, 0, g->lib_file, 0},
        {0xb7f00000 - p, 0xb7f02000 - p, SV_READ | SV_WRITE | SV_MAY, 0x100, g->lib_file, 0},
        {0xb7f10000 - p, 0xb7f11000 - p, SV_READ | SV_MAY | 0x80, 0, g->data_file, 0},
        {0xb7f20000 - p, 0xb7f22000 - p, SV_READ | SV_EXEC | SV_MAY, 0, g->bind_file, 0},
        {0xb7f83000 - p, 0xb7f85000 - p, SV_READ | SV_WRITE | SV_MAY, (0xb7f83000 - p) >> 12, 0, 0},
        {0xb7fe0000 - p, 0xb7fe4000 - p, SV_READ | SV_MAY, 0, 0, g->vvar},
        {0xb7fe4000 - p, 0xb7fe6000 - p, SV_READ | SV_EXEC | SV_MAY, 0, 0, g->vdso},
        {0xbf847000 - p, 0xbf868000 - p, SV_READ | SV_WRITE | SV_MAY | SV_GROWSDOWN, 0xbffdf, 0, 0},
    };
    return sv_process(g, v, sizeof(v) / sizeof(v[0]), split);
}

static inline struct v32_mem sv_mem(struct sv_guest *g)
{
    return (struct v32_mem){.read = arena_read, .ctx = &g->a, .page_offset = SV_PAGE_OFFSET};
}

#endif /* XA_TEST_SYNTHETIC_VMA32_H */
