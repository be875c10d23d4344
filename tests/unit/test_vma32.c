/*
 * test_vma32.c -- the 32-bit memory-map layout inference (os/linux/vma32.c)
 * and the maple walker with 4-byte longs (os/linux/maple.c) over synthetic
 * processes (synthetic_vma32.h): Debian's 686 and PAE layouts found
 * exactly, with one-leaf and two-level trees, a file on a second mount and
 * one through a bind mount; no special mapping at all (vdso=0): no names; a process whose tree loops or
 * whose VMA names another mm left out while most agree; refusals where the
 * memory is ambiguous or nothing fits; the walker's loop, depth and order
 * checks.
 */
#include <stdlib.h>

#include "check.h"
#include "synthetic_vma32.h"

static struct sv_guest g;

static int infer(struct v32_layout *l, char *why)
{
    struct v32_mem m = sv_mem(&g);
    return v32_infer(&m, g.mms, g.nmms, l, why);
}

static void build(const struct sv_layout *sl, size_t n)
{
    sv_init(&g, sl);
    for (size_t i = 0; i < n; i++)
        sv_typical(&g, (uint32_t)i, i % 2 == 1);
}

static void test_layouts(void)
{
    const struct sv_layout *layouts[] = {&sv_686, &sv_pae};
    for (size_t k = 0; k < 2; k++) {
        const struct sv_layout *sl = layouts[k];
        build(sl, 6);
        struct v32_layout l;
        char why[LX_WHY_LEN];
        int rc = infer(&l, why);
        CHECK(rc == 0, "layout %zu: %s", k, why);
        if (rc == 0) {
            CHECK_EQ(l.mm_root, sl->mm_root);
            CHECK_EQ(l.mm_start_stack, sl->mm_start_stack);
            CHECK_EQ(l.mm_map_count, sl->mm_map_count);
            CHECK(l.vm_start == sl->vm_start && l.vm_end == sl->vm_end && l.vm_mm == sl->vm_mm);
            CHECK_EQ(l.vm_flags, sl->vm_flags);
            CHECK_EQ(l.vm_pgoff, sl->vm_pgoff);
            CHECK_EQ(l.vm_file, sl->vm_file);
            CHECK_EQ(l.vm_ops, sl->vm_ops);
            CHECK_EQ(l.vm_private, sl->vm_private);
            CHECK_EQ(l.special_ops, g.special_ops);
            CHECK_EQ(l.f_path, sl->f_path);
            CHECK_EQ(l.d_parent, sl->d_parent);
            CHECK_EQ(l.d_name, sl->d_name);
            CHECK_EQ(l.d_hash_pprev, sl->d_hash_pprev);
            CHECK_EQ(l.mnt_root, sl->mnt_root);
            CHECK_EQ(l.mount_mnt, sl->mount_mnt);
            CHECK_EQ(l.mount_parent, sl->mount_parent);
            CHECK_EQ(l.mount_mountpoint, sl->mount_parent + 4);
            /* 12 VMAs a process; with fewer compared, the lowest and the
             * highest (the stack among them), and only the executable's file */
            size_t per = V32_VMAS < 12 ? V32_VMAS : 12;
            CHECK(l.nr_mms == 6 && l.nr_vmas == 6 * per && l.nr_files == (per < 12 ? 1u : 4u),
                  "%zu VMAs, %zu files", l.nr_vmas, l.nr_files);
        }
        arena_free(&g.a);
    }
}

/* The walker on a two-level tree: the VMAs in address order with the
 * ranges of their slots. */
static void test_walk_order(void)
{
    build(&sv_686, 2);
    struct maple_geom geom = maple_geom_32(SV_PAGE_OFFSET);
    uint32_t root;
    memcpy(&root, arena_at(&g.a, g.mms[1] + 4, 4), 4);
    struct maple_entry *e;
    size_t n;
    char why[LX_WHY_LEN];
    int rc = maple_collect(&geom, arena_read, &g.a, root, &e, &n, why);
    CHECK(rc == 0, "%s", why);
    CHECK_EQ(n, (size_t)12);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t start, end;
        memcpy(&start, arena_at(&g.a, e[i].ptr, 4), 4);
        memcpy(&end, arena_at(&g.a, e[i].ptr + 4, 4), 4);
        CHECK(e[i].ptr == g.vmas[i] && e[i].first == start && e[i].last == end - 1ull, "%zu", i);
    }
    free(e);
    /* the node cap: three nodes walk, two do not */
    geom.max_nodes = 3;
    rc = maple_collect(&geom, arena_read, &g.a, root, &e, &n, why);
    CHECK(rc == 0 && n == 12, "%d %s", rc, why);
    free(e);
    geom.max_nodes = 2;
    rc = maple_collect(&geom, arena_read, &g.a, root, &e, &n, why);
    CHECK(rc == XA_ELIMIT && strstr(why, "more than 2 nodes"), "%d %s", rc, why);
    free(e);
    arena_free(&g.a);
}

/* A hostile tree: a node that is its own child, a chain deeper than the
 * kernel's height, a pointer outside the kernel. Each one error, bounded. */
static void test_walk_hostile(void)
{
    build(&sv_686, 1);
    struct maple_geom geom = maple_geom_32(SV_PAGE_OFFSET);
    struct maple_entry *e;
    size_t n;
    char why[LX_WHY_LEN];
    uint32_t self = (uint32_t)(g.leaf | 2u << 3 | 2);
    arena_put32(&g.a, g.leaf + 128, self); /* slot 0 of a "range" node: itself */
    int rc = maple_collect(&geom, arena_read, &g.a, self, &e, &n, why);
    CHECK(rc == XA_ELIMIT && strstr(why, "reached twice"), "%d %s", rc, why);
    free(e);

    /* 40 range nodes, each the only child of the one before */
    uint64_t nodes[40];
    for (size_t i = 0; i < 40; i++)
        nodes[i] = arena_alloc(&g.a, MAPLE_NODE_SIZE);
    for (size_t i = 0; i + 1 < 40; i++)
        arena_put32(&g.a, nodes[i] + 128, (uint32_t)(nodes[i + 1] | 2u << 3 | 2));
    rc = maple_collect(&geom, arena_read, &g.a, nodes[0] | 2u << 3 | 2, &e, &n, why);
    CHECK(rc == XA_ELIMIT && strstr(why, "deeper"), "%d %s", rc, why);
    free(e);

    arena_put32(&g.a, g.leaf + 128, 0x1000000u); /* a "VMA" in user space */
    memcpy(&self, arena_at(&g.a, g.mms[0] + 4, 4), 4);
    rc = maple_collect(&geom, arena_read, &g.a, self, &e, &n, why);
    CHECK(rc == XA_EBADDATA && strstr(why, "bad pointer"), "%d %s", rc, why);
    free(e);
    arena_free(&g.a);
}

/* One process of five with a looping tree, one with a VMA of another mm:
 * left out, the rest agree. With most of them broken: refused. */
static void test_broken_processes(void)
{
    build(&sv_686, 5);
    uint32_t root;
    memcpy(&root, arena_at(&g.a, g.mms[4] + 4, 4), 4);
    uint32_t looped = (root & ~0x78u) | 2u << 3;
    arena_put32(&g.a, g.mms[4] + 4, looped);
    arena_put32(&g.a, g.leaf + 128, looped); /* the last built is mms[4] */
    arena_put32(&g.a, g.vmas[3] + sv_686.vm_mm, (uint32_t)g.mms[0]);
    struct v32_layout l;
    char why[LX_WHY_LEN];
    int rc = infer(&l, why);
    CHECK(rc == 0 && l.nr_mms == 4 && l.vm_flags == sv_686.vm_flags, "%d %s", rc, why);

    for (size_t i = 0; i < 3; i++)
        arena_put32(&g.a, g.mms[i] + 4, 0);
    rc = infer(&l, why);
    CHECK(rc == XA_ENOENT && strstr(why, "maple tree"), "%d %s", rc, why);
    arena_free(&g.a);
}

/* A second word fitting a field in every VMA, or no stack: refused. */
static void test_ambiguous(void)
{
    sv_init(&g, &sv_686);
    for (uint32_t i = 0; i < 4; i++)
        sv_typical(&g, i, false); /* one leaf each: its slots are the VMAs */
    for (size_t j = 0; j < g.nmms; j++) {
        uint32_t root;
        memcpy(&root, arena_at(&g.a, g.mms[j] + 4, 4), 4);
        uint64_t leaf = root & ~0xffu;
        for (size_t s = 0; s < 32; s++) {
            uint32_t vma;
            memcpy(&vma, arena_at(&g.a, leaf + 128 + 4 * s, 4), 4);
            if (vma > SV_PAGE_OFFSET) { /* a copy of vm_flags at +88 */
                uint32_t f;
                memcpy(&f, arena_at(&g.a, vma + sv_686.vm_flags, 4), 4);
                arena_put32(&g.a, vma + 88, f);
            }
        }
    }
    struct v32_layout l;
    char why[LX_WHY_LEN];
    int rc = infer(&l, why);
    CHECK(rc == XA_EBADDATA && strstr(why, "more than one offset fits vm_area_struct.vm_flags"),
          "%d %s", rc, why);
    arena_free(&g.a);

    build(&sv_686, 3);
    for (size_t j = 0; j < g.nmms; j++)
        arena_put32(&g.a, g.mms[j] + sv_686.mm_start_stack + 8, 0); /* arg_end */
    rc = infer(&l, why);
    CHECK(rc == XA_EBADDATA && strstr(why, "no offset fits mm_struct.start_stack"), "%d %s", rc,
          why);
    arena_free(&g.a);

    rc = v32_infer(&(struct v32_mem){.read = arena_read, .ctx = &g.a}, NULL, 0, &l, why);
    CHECK(rc == XA_ENOENT && strstr(why, "no user process"), "%d %s", rc, why);
}

/* The paths of the synthetic files with the inferred offsets, through the
 * path builder with 4-byte pointers (dpath.c): a file on the root mount,
 * and one on a second mount (crossing to its mount point). */
static void test_paths(void)
{
    build(&sv_pae, 3);
    struct v32_layout l;
    char why[LX_WHY_LEN];
    int rc = infer(&l, why);
    CHECK(rc == 0, "%s", why);
    if (rc) {
        arena_free(&g.a);
        return;
    }
    struct lx_dpath_layout d = {
        .d_parent = l.d_parent, .d_name_len = l.d_name + 4, .d_name_ptr = l.d_name + 8,
        .d_hash_pprev = l.d_hash_pprev, .mnt_root = l.mnt_root, .mount_mnt = l.mount_mnt,
        .mount_parent = l.mount_parent, .mount_mountpoint = l.mount_mountpoint,
        .has_mounts = true, .ptr_size = 4, .kptr_min = SV_PAGE_OFFSET,
    };
    const struct { uint64_t file; const char *want; } files[] = {
        {g.exe_file, "/bin/busybox"}, {g.lib_file, "/lib/libc.so.6"}, {g.data_file, "/data/blob"},
        {g.bind_file, "/opt/libz.so"}};
    for (size_t i = 0; i < 4; i++) {
        uint32_t mnt, dentry;
        memcpy(&mnt, arena_at(&g.a, files[i].file + l.f_path, 4), 4);
        memcpy(&dentry, arena_at(&g.a, files[i].file + l.f_path + 4, 4), 4);
        char buf[256];
        rc = lx_dpath_build(&d, arena_read, &g.a, dentry, mnt, 0, 0, buf, sizeof(buf), why);
        CHECK(rc == 0 && !strcmp(buf, files[i].want), "%d '%s' %s", rc, rc ? "" : buf, why);
    }
    /* unhashed: " (deleted)" */
    uint32_t dentry;
    memcpy(&dentry, arena_at(&g.a, g.lib_file + l.f_path + 4, 4), 4);
    arena_put32(&g.a, dentry + l.d_hash_pprev, 0);
    char buf[256];
    rc = lx_dpath_build(&d, arena_read, &g.a, dentry, 0, 0, 0, buf, sizeof(buf), why);
    CHECK(rc == 0 && !strcmp(buf, "/lib/libc.so.6 (deleted)"), "%d %s", rc, buf);
    /* a d_parent cycle below the root ends bounded */
    uint32_t parent;
    memcpy(&parent, arena_at(&g.a, dentry + l.d_parent, 4), 4);
    arena_put32(&g.a, parent + l.d_parent, dentry);
    rc = lx_dpath_build(&d, arena_read, &g.a, dentry, 0, 0, 0, buf, sizeof(buf), why);
    CHECK(rc == XA_ELIMIT, "%d %s", rc, why);
    arena_free(&g.a);
}

/* A kernel booted with vdso=0: no special mapping anywhere; the rest is
 * found and special mappings are left unnamed. */
static void test_no_specials(void)
{
    sv_init(&g, &sv_686);
    g.no_specials = true;
    for (uint32_t i = 0; i < 4; i++)
        sv_typical(&g, i, false);
    struct v32_layout l;
    char why[LX_WHY_LEN];
    int rc = infer(&l, why);
    CHECK(rc == 0 && l.vm_ops == UINT32_MAX && l.vm_private == UINT32_MAX && !l.special_ops &&
          l.vm_file == sv_686.vm_file && l.mount_mnt == sv_686.mount_mnt, "%d %s", rc, why);
    arena_free(&g.a);
}

int main(void)
{
    test_layouts();
    test_walk_order();
    test_walk_hostile();
    test_broken_processes();
    test_ambiguous();
    test_paths();
    test_no_specials();
    CHECK_DONE();
}
