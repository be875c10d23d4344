/*
 * test_mounts32.c -- the 32-bit mount-namespace inference (os/linux/
 * mounts32.c) and lx_mount_read with 4-byte pointers (os/linux/fileread.c)
 * over a synthetic guest: two namespaces (the second a copy with one mount
 * more), found exactly; a mount read as mountinfo shows it; a namespace
 * whose list loops left out; refusals where a word is ambiguous or init's
 * list is broken.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "os/linux/fileread.h"
#include "synthetic_mounts32.h"

static void test_found(void)
{
    build();
    struct mn32_layout l;
    char why[LX_WHY_LEN];
    int rc = infer(&l, why);
    CHECK(rc == 0, "%s", why);
    CHECK_EQ(l.task_nsproxy, T_NSPROXY);
    CHECK_EQ(l.task_fs, T_FS);
    CHECK_EQ(l.fs_root, FS_ROOT);
    CHECK_EQ(l.nsproxy_mnt_ns, NSP_MNT_NS);
    CHECK_EQ(l.ns_root, NS_ROOT);
    CHECK_EQ(l.ns_list, NS_LIST);
    CHECK_EQ(l.mnt_list, M_LIST);
    CHECK_EQ(l.mnt_ns, M_NS);
    CHECK_EQ(l.mnt_id, M_ID);
    CHECK_EQ(l.mnt_group_id, M_GROUP);
    CHECK_EQ(l.mnt_master, M_MASTER);
    CHECK_EQ(l.mnt_devname, M_DEVNAME);
    CHECK_EQ(l.mnt_sb, V_SB);
    CHECK_EQ(l.mnt_flags, V_FLAGS);
    CHECK_EQ(l.s_dev, S_DEV);
    CHECK_EQ(l.s_type, S_TYPE);
    CHECK_EQ(l.s_flags, S_FLAGS);
    CHECK(l.nr_ns == 2 && l.nr_mounts == 11 && l.nr_sbs == 6, "%zu %zu %zu", l.nr_ns,
          l.nr_mounts, l.nr_sbs);
    arena_free(&a);
}

/* lx_mount_read with the inferred offsets and 4-byte pointers. */
static void test_read(void)
{
    build();
    struct lx_mount_layout l = {
        .d = {.d_parent = D_PARENT, .d_name_len = D_NAME + 4, .d_name_ptr = D_NAME + 8,
              .d_hash_pprev = UINT64_MAX, .mnt_root = V_ROOT, .mount_mnt = M_MNT,
              .mount_parent = M_PARENT, .mount_mountpoint = M_MOUNTPOINT, .has_mounts = true,
              .ptr_size = 4, .kptr_min = PAGE_OFFSET},
        .mnt_id = M_ID, .mnt_devname = M_DEVNAME, .mnt_master = M_MASTER,
        .mnt_group_id = M_GROUP, .mnt_sb = V_SB, .mnt_flags = V_FLAGS, .s_dev = S_DEV,
        .s_type = S_TYPE, .s_flags = S_FLAGS, .s_subtype = UINT64_MAX, .fst_name = 0,
        .fst_flags = 4};
    struct xa_mount out;
    bool visible;
    char why[LX_WHY_LEN];
    int rc = lx_mount_read(&l, arena_read, &a, ns2_mount, 0, 0, &out, &visible, why);
    CHECK(rc == 0, "%s", why);
    CHECK(visible);
    CHECK_EQ(out.mnt_id, 29);
    CHECK_EQ(out.parent_id, 28);
    CHECK(out.dev_major == 0 && out.dev_minor == 21);
    CHECK(strcmp(out.fstype, "tmpfs") == 0, "%s", out.fstype);
    CHECK(strcmp(out.source, "xa-ns-tmpfs") == 0, "%s", out.source);
    CHECK(strcmp(out.mount_point, "/tmp/xa-files/ns") == 0, "%s", out.mount_point);
    CHECK(strcmp(out.root, "/") == 0, "%s", out.root);
    CHECK(strcmp(out.options, "rw,nosuid,nodev,relatime") == 0, "%s", out.options);
    CHECK(out.shared_id == 0 && out.master_id == 0);
    /* A shared mount whose peer group offset is unknown refuses. */
    arena_put32(&a, proc_mount + M_MNT + V_FLAGS, 0x1020);
    l.mnt_group_id = UINT64_MAX;
    rc = lx_mount_read(&l, arena_read, &a, proc_mount, 0, 0, &out, &visible, why);
    CHECK(rc == XA_ENOTSUP && strstr(why, "peer group"), "%d %s", rc, why);
    /* A type with a subtype, the subtype unknown: refuses. */
    arena_put32(&a, proc_mount + M_MNT + V_FLAGS, 0x20);
    uint32_t sb, type;
    memcpy(&sb, arena_at(&a, proc_mount + M_MNT + V_SB, 4), 4);
    memcpy(&type, arena_at(&a, sb + S_TYPE, 4), 4);
    arena_put32(&a, type + 4, 4); /* FS_HAS_SUBTYPE */
    rc = lx_mount_read(&l, arena_read, &a, proc_mount, 0, 0, &out, &visible, why);
    CHECK(rc == XA_ENOTSUP && strstr(why, "subtype"), "%d %s", rc, why);
    arena_free(&a);
}

static void test_refusals(void)
{
    struct mn32_layout l;
    char why[LX_WHY_LEN];
    /* Every task holding its nsproxy twice: two answers. */
    build();
    arena_put32(&a, init_task + 0x100, init_nsproxy);
    for (size_t i = 0; i < ntasks; i++) {
        uint32_t nsp;
        memcpy(&nsp, arena_at(&a, tasks[i] + T_NSPROXY, 4), 4);
        arena_put32(&a, tasks[i] + 0x100, nsp);
    }
    CHECK(infer(&l, why) == XA_EBADDATA && strstr(why, "nsproxy") && strstr(why, "2 offsets"),
          "%s", why);
    arena_free(&a);
    /* The second namespace's list loops (its last mount points back to its
     * first): that namespace is left out, nothing is walked forever. */
    build();
    uint32_t second;
    memcpy(&second, arena_at(&a, ns2_mount + M_LIST + 4, 4), 4); /* t2's node */
    uint32_t ns2_first;
    uint32_t ns2;
    memcpy(&ns2, arena_at(&a, ns2_mount + M_NS, 4), 4);
    memcpy(&ns2_first, arena_at(&a, ns2 + NS_LIST, 4), 4);
    arena_put32(&a, ns2_mount + M_LIST, ns2_first);
    int rc = infer(&l, why);
    CHECK(rc == 0 && l.nr_ns == 1 && l.nr_mounts == 5, "%d %s", rc, why);
    arena_free(&a);
    /* init's list broken (a prev link that does not point back): no answer. */
    build();
    uint32_t ns1;
    memcpy(&ns1, arena_at(&a, init_nsproxy + NSP_MNT_NS, 4), 4);
    uint32_t first;
    memcpy(&first, arena_at(&a, ns1 + NS_LIST, 4), 4);
    arena_put32(&a, first + 4, first);
    rc = infer(&l, why);
    CHECK(rc == XA_ENOTSUP && strstr(why, "no offset fits"), "%d %s", rc, why);
    arena_free(&a);
    /* Nothing known: refused at once. */
    build();
    init_task = 0;
    CHECK(infer(&l, why) == XA_ENOTSUP);
    arena_free(&a);
}

int main(void)
{
    test_found();
    test_read();
    test_refusals();
    CHECK_DONE();
}
