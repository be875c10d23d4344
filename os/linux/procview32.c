/*
 * procview32.c -- credentials, exe, cwd and root of processes on a 32-bit
 * x86 kernel without BTF (see procview32.h).
 *
 * struct cred's order has not changed since 5.14 (and only by one pointer
 * before): its layout is the kernel source's under the i386 ABI, checked
 * on the guest's own creds, with group_info chosen between the two places
 * it has had by the shape of what it points to. task_struct.fs and
 * mm_struct.exe_file move with the configuration, so they are searched.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/procview32.h"
#include "os/linux/word32.h"
#include "xa_errors.h"

#define PV32_SAMPLE 64u         /* tasks compared: user tasks first, then kernel threads */
#define PV32_FS_SPAN 64u        /* bytes of fs_struct searched for root */
#define PV32_USERS_MAX (1u << 20) /* fs_struct.users, group_info.usage at most */
#define PV32_NGROUPS_MAX 65536u /* NGROUPS_MAX */

static bool rd32(const struct t32_mem *m, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    if (!t32_kptr(m, va) || m->read(m->ctx, va, b, 4) < 0)
        return false;
    *out = w32_le32(b);
    return true;
}

/* Up to PV32_SAMPLE tasks: the user tasks first (they differ), then the
 * kernel threads (they share init's fs and creds). */
static size_t pick(const struct p32_task *t, size_t n, size_t *idx)
{
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n && k < PV32_SAMPLE; i++)
            if ((t[i].mm != 0) == (pass == 0))
                idx[k++] = i;
    return k;
}

/* ---- credentials -------------------------------------------------------- */

/* A struct group_info at @gi: a reference count, at most NGROUPS_MAX groups,
 * the first of them in ascending order (groups_sort() keeps them sorted). */
static bool group_info_at(const struct t32_mem *m, uint32_t gi, bool *has_groups)
{
    uint8_t b[8 + 4 * P32_GROUPS_CHECKED];
    if (!t32_kptr(m, gi) || m->read(m->ctx, gi, b, 8) < 0)
        return false;
    uint32_t usage = w32_le32(b), ngroups = w32_le32(b + 4);
    if (usage == 0 || usage > PV32_USERS_MAX || ngroups > PV32_NGROUPS_MAX)
        return false;
    uint32_t check = ngroups < P32_GROUPS_CHECKED ? ngroups : P32_GROUPS_CHECKED;
    if (check && m->read(m->ctx, gi + 8, b + 8, 4 * check) < 0)
        return false;
    for (uint32_t i = 1; i < check; i++)
        if (w32_le32(b + 8 + 4 * i) < w32_le32(b + 4 + 4 * i))
            return false;
    *has_groups |= ngroups > 0;
    return true;
}

int p32_find_creds(const struct t32_mem *m, uint32_t real_cred, const struct p32_task *t,
                   size_t n, uint32_t *group_info, char *why, size_t cap)
{
    size_t idx[PV32_SAMPLE], k = pick(t, n, idx);
    static const uint32_t places[2] = {P32_CRED_GROUP_INFO_NEW, P32_CRED_GROUP_INFO_OLD};
    size_t tried = 0, caps_fit = 0, gi_fit[2] = {0, 0};
    bool groups[2] = {false, false}, full_set_seen = false;
    for (size_t j = 0; j < k; j++) {
        uint32_t cred;
        uint8_t c[P32_CRED_GROUP_INFO_NEW + 4];
        if (!rd32(m, t[idx[j]].task + real_cred, &cred) || !t32_kptr(m, cred) ||
            m->read(m->ctx, cred, c, sizeof(c)) < 0)
            continue;
        tried++;
        uint64_t prm = w32_le64(c + P32_CRED_CAP_PERMITTED);
        uint64_t eff = w32_le64(c + P32_CRED_CAP_EFFECTIVE);
        uint64_t bset = w32_le64(c + P32_CRED_CAP_BSET);
        /* effective within permitted; no set past 64 - 8 capabilities */
        if ((eff & ~prm) == 0 && (prm >> 56) == 0 && (bset >> 56) == 0)
            caps_fit++;
        /* root's creds (init's, every kernel thread's) hold the full set,
         * a run of low bits, in all three */
        if (w32_le32(c + P32_CRED_UID) == 0 && prm == eff && prm == bset && prm >> 31 &&
            (prm & (prm + 1)) == 0)
            full_set_seen = true;
        for (int p = 0; p < 2; p++)
            gi_fit[p] += group_info_at(m, w32_le32(c + places[p]), &groups[p]);
    }
    if (!w32_mostly(caps_fit, tried) || !full_set_seen) {
        snprintf(why, cap, "struct cred's capability sets are not at +%u/+%u/+%u (effective "
                 "within permitted, root's full set in all three), in %zu of %zu creds",
                 P32_CRED_CAP_PERMITTED, P32_CRED_CAP_EFFECTIVE, P32_CRED_CAP_BSET,
                 tried - caps_fit, tried);
        return XA_EBADDATA;
    }
    bool fit[2] = {w32_mostly(gi_fit[0], tried), w32_mostly(gi_fit[1], tried)};
    /* Both fit only when no task has a supplementary group (two pointers at
     * small counts): then the one with groups, or the newer order, is not
     * provable; refuse rather than guess. */
    if (fit[0] && fit[1] && groups[0] != groups[1])
        fit[!groups[0]] = false;
    if (fit[0] == fit[1]) {
        snprintf(why, cap, "%s struct cred.group_info (+%u or +%u: a counted, sorted group "
                 "list)", fit[0] ? "cannot tell" : "no", places[0], places[1]);
        return XA_EBADDATA;
    }
    *group_info = fit[0] ? places[0] : places[1];
    return 0;
}

/* ---- cwd and root --------------------------------------------------------- */

/* (mnt, dentry) at @path is a mount and its root dentry. */
static bool mount_root_at(const struct t32_mem *m, uint32_t mnt_root, const uint8_t *path)
{
    uint32_t mnt = w32_le32(path), dentry = w32_le32(path + 4), root;
    return t32_kptr(m, mnt) && t32_kptr(m, dentry) && rd32(m, mnt + mnt_root, &root) &&
           root == dentry;
}

/* fs_struct at @fs: users counted, then (the lock and the seqcount between)
 * umask and in_exec just before root, root a mount's root at @r, pwd two
 * kernel pointers after it. */
static bool fs_at(const struct t32_mem *m, uint32_t mnt_root, uint32_t fs, uint32_t r)
{
    uint8_t b[PV32_FS_SPAN];
    if (!t32_kptr(m, fs) || m->read(m->ctx, fs, b, sizeof(b)) < 0)
        return false;
    uint32_t users = w32_le32(b), umask = w32_le32(b + r - 8), in_exec = w32_le32(b + r - 4);
    return users && users <= PV32_USERS_MAX && umask <= 0777 && in_exec <= 1 &&
           mount_root_at(m, mnt_root, b + r) &&
           t32_kptr(m, w32_le32(b + r + 8)) && t32_kptr(m, w32_le32(b + r + 12));
}

int p32_find_fs(const struct t32_mem *m, uint32_t mnt_root, const struct p32_task *t, size_t n,
                uint32_t *task_fs, uint32_t *fs_root, char *why, size_t cap)
{
    size_t idx[PV32_SAMPLE], k = pick(t, n, idx), won = 0;
    uint8_t *w = malloc(k * P32_TASK_SPAN + 1);
    bool *ok = calloc(k + 1, 1);
    if (!w || !ok) {
        free(w);
        free(ok);
        snprintf(why, cap, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t j = 0; j < k; j++)
        ok[j] = m->read(m->ctx, t[idx[j]].task, w + j * P32_TASK_SPAN, P32_TASK_SPAN) == 0;
    for (uint32_t off = 4; off + 4 <= P32_TASK_SPAN; off += 4) {
        /* the root's place: the first that fits the first task read */
        uint32_t r = 0;
        size_t tried = 0, fits = 0, user = 0;
        for (size_t j = 0; j < k; j++) {
            if (!ok[j])
                continue;
            uint32_t fs = w32_le32(w + j * P32_TASK_SPAN + off);
            tried++;
            if (!t32_kptr(m, fs))
                continue;
            if (r == 0)
                for (uint32_t c = 12; c + 16 <= PV32_FS_SPAN && !r; c += 4)
                    if (fs_at(m, mnt_root, fs, c))
                        r = c;
            if (r && fs_at(m, mnt_root, fs, r)) {
                fits++;
                user += t[idx[j]].mm != 0;
            }
            if (!r)
                break; /* the first task's fs does not fit: not this offset */
        }
        if (r && user > 0 && w32_mostly(fits, tried) && won++ == 0) {
            *task_fs = off;
            *fs_root = r;
        }
    }
    free(w);
    free(ok);
    if (won != 1) {
        snprintf(why, cap, "%s task_struct.fs (a counted fs_struct whose root is a mount's "
                 "root dentry, pwd after it)", won ? "more than one" : "no");
        return XA_EBADDATA;
    }
    return 0;
}

/* ---- exe ------------------------------------------------------------------- */

static bool maps(const struct p32_mapped *mp, size_t i, uint32_t file)
{
    for (size_t f = 0; f < mp->nfiles[i]; f++)
        if (mp->files[i][f] == file)
            return true;
    return false;
}

int p32_find_exe(const struct t32_mem *m, const struct p32_task *t, size_t n,
                 const struct p32_mapped *mapped, uint32_t *exe_file, char *why, size_t cap)
{
    uint8_t *w = malloc(n * P32_EXE_SPAN + 1);
    bool *ok = calloc(n + 1, 1);
    size_t won = 0;
    if (!w || !ok) {
        free(w);
        free(ok);
        snprintf(why, cap, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        ok[i] = t[i].mm && mapped->nfiles[i] && t32_kptr(m, t[i].mm) &&
                m->read(m->ctx, t[i].mm, w + i * P32_EXE_SPAN, P32_EXE_SPAN) == 0;
    for (uint32_t off = 4; off + 4 <= P32_EXE_SPAN; off += 4) {
        size_t tried = 0, fits = 0;
        for (size_t i = 0; i < n; i++) {
            if (!ok[i])
                continue;
            tried++;
            fits += maps(mapped, i, w32_le32(w + i * P32_EXE_SPAN + off));
        }
        /* two processes at least: a single one could match its own vm_file
         * in another field by chance of the layout */
        if (tried >= 2 && w32_mostly(fits, tried) && won++ == 0)
            *exe_file = off;
    }
    free(w);
    free(ok);
    if (won != 1) {
        snprintf(why, cap, "%s mm_struct.exe_file (a struct file the process maps)",
                 won ? "more than one" : "no");
        return XA_EBADDATA;
    }
    return 0;
}
