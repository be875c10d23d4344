/*
 * dpath.c -- the path of a dentry, as the kernel's d_path() builds it: names
 * are prepended from the dentry up through d_parent; at the root of a mount
 * the walk continues from the mount point in the parent mount; it ends at
 * the given root (the process's fs->root) or at the namespace's top.
 *
 * The guest owns every pointer and name here. Each step is counted (a
 * d_parent or mount cycle ends at LX_DPATH_STEPS_MAX or when the path
 * outgrows the buffer), each name is bounded by NAME_MAX and may hold
 * neither '/' nor NUL.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/procread.h"
#include "xenaccess.h"

#define DELETED_SUFFIX " (deleted)"

/* A 4-byte kernel (ptr_size 4): pointers in [kptr_min, 2^32), 4-aligned;
 * else 8-byte ones in the upper canonical half. */
static bool is32(const struct lx_dpath_layout *l)
{
    return l->ptr_size == 4;
}

static bool kernel_ptr(const struct lx_dpath_layout *l, uint64_t va)
{
    if (is32(l))
        return va >= l->kptr_min && va <= 0xFFFFFFFFull && (va & 3) == 0;
    return va >= 0xff00000000000000ULL && (va & 7) == 0;
}

/* A kernel pointer at @va, as wide as the kernel's. */
static int rdptr(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx, uint64_t va,
                 uint64_t *out)
{
    if (!is32(l))
        return read(ctx, va, out, sizeof(*out));
    uint32_t v;
    int rc = read(ctx, va, &v, sizeof(v));
    *out = rc == 0 ? v : 0;
    return rc;
}

/* Prepend "/name" of @dentry at buf[*pos]. */
static int prepend_name(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx,
                        uint64_t dentry, char *buf, size_t *pos, char *why)
{
    uint32_t len;
    uint64_t name;
    if (read(ctx, dentry + l->d_name_len, &len, sizeof(len)) < 0 ||
        rdptr(l, read, ctx, dentry + l->d_name_ptr, &name) < 0) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx unreadable", (unsigned long long)dentry);
        return XA_EFAULT;
    }
    if (len == 0 || len > LX_DPATH_NAME_MAX || !kernel_ptr(l, name & ~7ull)) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx has a bad name (length %u at 0x%llx)",
                 (unsigned long long)dentry, len, (unsigned long long)name);
        return XA_EBADDATA;
    }
    if ((size_t)len + 1 > *pos) {
        snprintf(why, LX_WHY_LEN, "path longer than the %zu bytes it may have", *pos);
        return XA_ELIMIT;
    }
    char tmp[LX_DPATH_NAME_MAX];
    if (read(ctx, name, tmp, len) < 0) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx: name unreadable", (unsigned long long)dentry);
        return XA_EFAULT;
    }
    if (memchr(tmp, '/', len) || memchr(tmp, '\0', len)) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx: name contains '/' or NUL",
                 (unsigned long long)dentry);
        return XA_EBADDATA;
    }
    *pos -= len;
    memcpy(buf + *pos, tmp, len);
    buf[--*pos] = '/';
    return 0;
}

/* d_unlinked(): unhashed and not a root. Unknown layout: not deleted. */
static bool is_deleted(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx,
                       uint64_t dentry)
{
    uint64_t pprev, parent;
    if (l->d_hash_pprev == UINT64_MAX || rdptr(l, read, ctx, dentry + l->d_hash_pprev, &pprev) < 0 ||
        rdptr(l, read, ctx, dentry + l->d_parent, &parent) < 0)
        return false;
    return pprev == 0 && parent != dentry;
}

int lx_dpath_build(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx, uint64_t dentry,
                   uint64_t mnt, uint64_t root_dentry, uint64_t root_mnt, char *buf, size_t cap,
                   char *why)
{
    bool reached;
    return lx_dpath_build_ex(l, read, ctx, dentry, mnt, root_dentry, root_mnt, buf, cap, why, 0,
                             &reached);
}

int lx_dpath_build_ex(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx, uint64_t dentry,
                      uint64_t mnt, uint64_t root_dentry, uint64_t root_mnt, char *buf,
                      size_t cap, char *why, unsigned opts, bool *reached)
{
    why[0] = '\0';
    *reached = false;
    if (opts & LX_DPATH_RAW)
        mnt = 0; /* no mount crossing: the path inside its filesystem */
    if (cap < 2) {
        snprintf(why, LX_WHY_LEN, "path buffer too small");
        return XA_EINVAL;
    }
    if (!kernel_ptr(l, dentry)) {
        snprintf(why, LX_WHY_LEN, "bad dentry pointer 0x%llx", (unsigned long long)dentry);
        return XA_EBADDATA;
    }
    const uint64_t start = dentry;
    /* Built backwards from the end of buf, room kept for the suffix. */
    const size_t suffix = sizeof(DELETED_SUFFIX) - 1;
    size_t room = cap > suffix ? cap - suffix : 0;
    if (room < 2) {
        snprintf(why, LX_WHY_LEN, "path buffer too small");
        return XA_EINVAL;
    }
    size_t pos = room - 1;
    buf[pos] = '\0';
    unsigned steps = 0;
    for (;;) {
        if (dentry == root_dentry && mnt == root_mnt) {
            *reached = true;
            break;
        }
        if (++steps > LX_DPATH_STEPS_MAX) {
            snprintf(why, LX_WHY_LEN, "path deeper than %u steps (a cycle?)", LX_DPATH_STEPS_MAX);
            return XA_ELIMIT;
        }
        if (!kernel_ptr(l, dentry)) {
            snprintf(why, LX_WHY_LEN, "bad dentry pointer 0x%llx", (unsigned long long)dentry);
            return XA_EBADDATA;
        }
        if (l->has_mounts && mnt) {
            uint64_t mnt_root;
            if (!kernel_ptr(l, mnt) || rdptr(l, read, ctx, mnt + l->mnt_root, &mnt_root) < 0) {
                snprintf(why, LX_WHY_LEN, "vfsmount 0x%llx unreadable", (unsigned long long)mnt);
                return XA_EFAULT;
            }
            if (dentry == mnt_root) {
                /* The root of a mount: go on from where it is mounted. */
                uint64_t mount = mnt - l->mount_mnt, parent, mountpoint;
                if (rdptr(l, read, ctx, mount + l->mount_parent, &parent) < 0 ||
                    rdptr(l, read, ctx, mount + l->mount_mountpoint, &mountpoint) < 0) {
                    snprintf(why, LX_WHY_LEN, "mount 0x%llx unreadable",
                             (unsigned long long)mount);
                    return XA_EFAULT;
                }
                if (parent == mount)
                    break; /* the top of the namespace */
                if (!kernel_ptr(l, parent)) {
                    snprintf(why, LX_WHY_LEN, "mount 0x%llx has a bad parent 0x%llx",
                             (unsigned long long)mount, (unsigned long long)parent);
                    return XA_EBADDATA;
                }
                dentry = mountpoint;
                mnt = parent + l->mount_mnt;
                continue;
            }
        }
        uint64_t parent;
        if (rdptr(l, read, ctx, dentry + l->d_parent, &parent) < 0) {
            snprintf(why, LX_WHY_LEN, "dentry 0x%llx unreadable", (unsigned long long)dentry);
            return XA_EFAULT;
        }
        if (parent == dentry)
            break; /* a filesystem's root that is not a mount root */
        int rc = prepend_name(l, read, ctx, dentry, buf, &pos, why);
        if (rc < 0)
            return rc;
        dentry = parent;
    }
    if (buf[pos] == '\0')
        buf[--pos] = '/';
    size_t len = room - 1 - pos;
    memmove(buf, buf + pos, len + 1);
    if (!(opts & (LX_DPATH_RAW | LX_DPATH_NO_DELETED)) && is_deleted(l, read, ctx, start))
        memcpy(buf + len, DELETED_SUFFIX, sizeof(DELETED_SUFFIX));
    return 0;
}
