/*
 * files32.c -- infer a 32-bit kernel's open-file layout from its memory.
 *
 * Without BTF, where task_struct keeps its files, how the fd table and
 * struct file, inode and super_block are laid out is written down nowhere.
 * Each is found from what every 6.x kernel's tasks and files must hold,
 * compared over a sample (files32.h):
 *   1. task->files: the task word that every kernel thread shares (it is
 *      init_files when that symbol is known) and that, in the processes,
 *      points at a files_struct whose fdt word points just past itself (a
 *      process with at most 32 fds uses the embedded fdtab that follows);
 *   2. the embedded fdtable: max_fds is 32 (BITS_PER_LONG); fd and
 *      open_fds point into the files_struct, and a bit of open_fds is set
 *      exactly where fd[] holds a file (an fd being opened may still be
 *      NULL); close_on_exec points there too and has a bit of an open fd
 *      above fd 0 somewhere (full_fds_bits, one bit per 32 fds, is 0 or 1;
 *      a closed fd keeps its close_on_exec bit, so no subset test);
 *   3. f_inode and d_inode: the file word equal to a word of its dentry in
 *      every file, a kernel pointer (an inode) in each;
 *   4. i_mode is the inode's first member (umode_t) and its S_IFMT must be
 *      valid everywhere; i_sb: the inode word equal to a word of the file's
 *      vfsmount (mnt_sb) in every file; s_dev: the first word after the
 *      super_block's list head (s_list), distinct between super blocks;
 *      i_ino: the first non-pointer word after i_sb (i_mapping and
 *      i_security are pointers), non-zero and distinct between the inodes
 *      of one super block;
 *   5. f_flags and f_mode: O_ACCMODE + 1 == FMODE_READ|FMODE_WRITE in every
 *      file (O_PATH files aside); f_pos: the loff_t after f_pos_lock, the
 *      mutex after f_mode whose wait_list is empty (points at itself);
 *   6. d_op and d_dname: the dentry word that is NULL or a pointer to
 *      operations everywhere, and the word of those operations that is 0 or
 *      a kernel function everywhere and a known d_dname (pipefs_dname,
 *      sockfs_dname, ...) for some.
 * Table steps need 7/8 of the processes (a damaged one fails when read);
 * a step with no answer or more than one refuses in one line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/files32.h"
#include "os/linux/word32.h"
#include "xa_errors.h"

#define O_ACCMODE_BITS 3u
#define O_PATH_BIT 010000000u
#define FLAGS_MAX 0x40000000u /* f_flags never reach bit 30 */
#define S_IFMT_BITS 0170000u
#define S_IFIFO_BITS 0010000u
#define S_IFSOCK_BITS 0140000u
#define MIN_FILES 8u
#define NOWHERE F32_NOWHERE

struct proc {
    uint64_t files;
    uint8_t win[F32_FILES_SPAN]; /* the files_struct */
};

struct file {
    uint64_t file, mnt, dentry, inode;
    uint8_t fw[F32_FILE_SPAN], dw[F32_DENTRY_SPAN], iw[F32_INODE_SPAN], vw[F32_VFSMNT_SPAN];
};

struct ctx {
    const struct f32_mem *m;
    const struct f32_known *k;
    struct f32_layout *l;
    char *why;
    struct proc *proc; /* processes with the embedded fd table */
    size_t nproc;
    struct file *file;
    size_t nfile;
    uint64_t sb[F32_FILES];
    uint8_t sbw[F32_FILES][F32_SB_SPAN];
    size_t nsb;
};

static bool kptr(const struct f32_mem *m, uint64_t v)
{
    return w32_kptr(m->page_offset, v);
}

static int refuse(struct ctx *c, const char *what, size_t answers)
{
    snprintf(c->why, LX_WHY_LEN, "%s %s", answers ? "more than one offset fits" : "no offset fits",
             what);
    return XA_EBADDATA;
}

/* ---- 1. task->files and files->fdt ---------------------------------------- */

/* Bits F/4 of the files_struct words pointing just past themselves. */
static uint32_t fdt_mask(uint64_t files, const uint8_t *w)
{
    uint32_t mask = 0;
    for (uint32_t f = 0; f < F32_FDT_SPAN; f += 4)
        if (w32_le32(w + f) == files + f + 4)
            mask |= 1u << (f / 4);
    return mask;
}

/* Does task word @off fit task->files? Sets *fdt_bits to the fdt offsets
 * every fitting process agrees with. */
static bool files_fits(struct ctx *c, const struct f32_task *t, size_t n, const uint8_t *tw,
                       uint32_t off, uint32_t *fdt_bits)
{
    const struct f32_mem *m = c->m;
    uint64_t shared = 0;
    size_t users = 0, fits = 0, kthreads = 0;
    uint32_t mask = UINT32_MAX >> (32 - F32_FDT_SPAN / 4);
    for (size_t i = 0; i < n; i++) { /* kernel threads first: the cheap test */
        uint32_t w = w32_le32(tw + i * F32_TASK_SPAN + off);
        if (t[i].mm != 0 || w == 0) /* w 0: exiting */
            continue;
        if (!kptr(m, w) || (shared && w != shared) ||
            (c->k->init_files && w != c->k->init_files))
            return false; /* kernel threads share init_files */
        shared = w;
        kthreads++;
    }
    if (kthreads == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t w = w32_le32(tw + i * F32_TASK_SPAN + off);
        if (t[i].mm == 0)
            continue;
        users++;
        if (!kptr(m, w) || w == shared)
            continue;
        uint8_t fw[F32_FDT_SPAN];
        if (m->read(m->ctx, w, fw, sizeof(fw)) < 0)
            continue;
        uint32_t bits = fdt_mask(w, fw);
        if (bits && (mask & bits)) {
            mask &= bits;
            fits++;
        }
    }
    *fdt_bits = mask;
    return kthreads > 0 && users >= 2 && fits * 8 >= users * 7;
}

static int find_files(struct ctx *c, const struct f32_task *t, size_t n)
{
    const struct f32_mem *m = c->m;
    uint8_t *tw = malloc(n * F32_TASK_SPAN);
    bool *ok = calloc(n, sizeof(*ok));
    if (!tw || !ok) {
        free(tw);
        free(ok);
        snprintf(c->why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        ok[i] = m->read(m->ctx, t[i].task, tw + i * F32_TASK_SPAN, F32_TASK_SPAN) == 0;
    /* the readable tasks only */
    struct f32_task *rt = calloc(n, sizeof(*rt));
    uint8_t *rw = tw;
    size_t nr = 0;
    if (!rt) {
        free(tw);
        free(ok);
        snprintf(c->why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (ok[i]) {
            memmove(rw + nr * F32_TASK_SPAN, tw + i * F32_TASK_SPAN, F32_TASK_SPAN);
            rt[nr++] = t[i];
        }
    size_t answers = 0;
    uint32_t files_off = NOWHERE, fdt_bits = 0;
    for (uint32_t off = 0; off < F32_TASK_SPAN; off += 4) {
        uint32_t bits;
        if (!files_fits(c, rt, nr, rw, off, &bits) || bits == 0)
            continue;
        answers++;
        files_off = off;
        fdt_bits = bits;
    }
    int rc = 0;
    if (answers != 1) {
        rc = refuse(c, "task_struct.files", answers);
    } else if (fdt_bits & (fdt_bits - 1)) {
        rc = refuse(c, "files_struct.fdt", 2);
    } else {
        c->l->task_files = files_off;
        c->l->files_fdt = (uint32_t)__builtin_ctz(fdt_bits) * 4;
        /* the processes using the embedded table, with their files_struct */
        for (size_t i = 0; i < nr && c->nproc < F32_TASKS; i++) {
            uint32_t w = w32_le32(rw + i * F32_TASK_SPAN + files_off);
            struct proc *p = &c->proc[c->nproc];
            if (rt[i].mm == 0 || !kptr(m, w) || m->read(m->ctx, w, p->win, F32_FILES_SPAN) < 0 ||
                w32_le32(p->win + c->l->files_fdt) != w + c->l->files_fdt + 4)
                continue;
            bool seen = false; /* threads of one process share it */
            for (size_t j = 0; j < c->nproc && !seen; j++)
                seen = c->proc[j].files == w;
            if (!seen) {
                p->files = w;
                c->nproc++;
            }
        }
        if (c->nproc < 2)
            rc = refuse(c, "task_struct.files (fewer than 2 processes)", 0);
    }
    free(rt);
    free(tw);
    free(ok);
    return rc;
}

/* ---- 2. the embedded fdtable ---------------------------------------------- */

/* Word at byte @off of the embedded fdtab of @p. */
static uint32_t tabw(const struct ctx *c, const struct proc *p, uint32_t off)
{
    return w32_le32(p->win + c->l->files_fdt + 4 + off);
}

/* The files_struct word a fdtab pointer word @off points at (index @i of
 * an array); false when it points outside the window read. */
static bool target(const struct ctx *c, const struct proc *p, uint32_t off, uint32_t i,
                   uint32_t *out)
{
    uint64_t v = tabw(c, p, off);
    *out = 0;
    if (v < p->files || v - p->files + 4ull * (i + 1) > F32_FILES_SPAN)
        return false;
    *out = w32_le32(p->win + (v - p->files) + 4ull * i);
    return true;
}

/* fd[] of @p holds a file exactly where open_fds has a bit (a reserved fd
 * may still be NULL); *used counts its files. */
static bool fd_open_fit(const struct ctx *c, const struct proc *p, uint32_t fd, uint32_t open,
                        size_t *used)
{
    uint32_t bits = 0, f = 0;
    if (!target(c, p, open, 0, &bits) || !target(c, p, fd, F32_EMBEDDED_FDS - 1, &f))
        return false;
    for (uint32_t b = 0; b < F32_EMBEDDED_FDS; b++) {
        target(c, p, fd, b, &f);
        bool set = bits >> b & 1;
        if ((!set && f != 0) || (set && f != 0 && !kptr(c->m, f)))
            return false;
        *used += f != 0;
    }
    return true;
}

/* Most processes' tables fit (fd, open), with MIN_FILES files among them. */
static bool fd_open_fits(const struct ctx *c, uint32_t fd, uint32_t open)
{
    size_t fits = 0, used = 0;
    for (size_t i = 0; i < c->nproc; i++) {
        size_t u = 0;
        if (fd_open_fit(c, &c->proc[i], fd, open, &u)) {
            fits++;
            used += u;
        }
    }
    return w32_mostly(fits, c->nproc) && used >= MIN_FILES;
}

static int find_fdtable(struct ctx *c)
{
    struct f32_layout *l = c->l;
    uint32_t max_mask = 0, ptr_mask = 0;
    for (uint32_t off = 0; off < F32_FDTAB_SPAN; off += 4) {
        size_t is_max = 0, is_ptr = 0;
        for (size_t i = 0; i < c->nproc; i++) {
            uint32_t dummy = 0;
            is_max += tabw(c, &c->proc[i], off) == F32_EMBEDDED_FDS;
            is_ptr += target(c, &c->proc[i], off, 0, &dummy);
        }
        max_mask |= (uint32_t)w32_mostly(is_max, c->nproc) << (off / 4);
        ptr_mask |= (uint32_t)w32_mostly(is_ptr, c->nproc) << (off / 4);
    }
    if (max_mask == 0 || (max_mask & (max_mask - 1)))
        return refuse(c, "fdtable.max_fds (32 in the embedded table)", max_mask != 0);
    l->fdt_max_fds = (uint32_t)__builtin_ctz(max_mask) * 4;
    size_t answers = 0;
    for (uint32_t fd = 0; fd < F32_FDTAB_SPAN; fd += 4)
        for (uint32_t open = 0; open < F32_FDTAB_SPAN; open += 4) {
            if (fd == open || !(ptr_mask >> (fd / 4) & 1) || !(ptr_mask >> (open / 4) & 1) ||
                !fd_open_fits(c, fd, open))
                continue;
            answers++;
            l->fdt_fd = fd;
            l->fdt_open_fds = open;
        }
    if (answers != 1)
        return refuse(c, "fdtable.fd and open_fds", answers);
    answers = 0;
    for (uint32_t off = 0; off < F32_FDTAB_SPAN; off += 4) {
        if (off == l->fdt_fd || off == l->fdt_open_fds || !(ptr_mask >> (off / 4) & 1))
            continue;
        bool some = false; /* a bit of an open fd above 0: full_fds_bits is 0 or 1 */
        for (size_t i = 0; i < c->nproc; i++) {
            uint32_t bits = 0, open = 0;
            if (target(c, &c->proc[i], off, 0, &bits) &&
                target(c, &c->proc[i], l->fdt_open_fds, 0, &open))
                some |= (bits & open & ~1u) != 0;
        }
        if (some) {
            answers++;
            l->fdt_cloexec = off;
        }
    }
    if (answers != 1)
        return refuse(c, "fdtable.close_on_exec", answers);
    return 0;
}

/* ---- 3. struct file, dentry, inode, super_block --------------------------- */

static uint32_t fw(const struct file *f, uint32_t off)
{
    return w32_le32(f->fw + off);
}

static int collect_files(struct ctx *c)
{
    const struct f32_mem *m = c->m;
    const struct f32_layout *l = c->l;
    uint32_t fp = c->k->f_path;
    if (fp + 8 > F32_FILE_SPAN) {
        snprintf(c->why, LX_WHY_LEN, "file.f_path at %u is past the bytes compared", fp);
        return XA_EBADDATA;
    }
    for (size_t i = 0; i < c->nproc && c->nfile < F32_FILES; i++) {
        uint32_t bits = 0;
        size_t used = 0;
        if (!fd_open_fit(c, &c->proc[i], l->fdt_fd, l->fdt_open_fds, &used) ||
            tabw(c, &c->proc[i], l->fdt_max_fds) != F32_EMBEDDED_FDS)
            continue; /* a damaged table: left out */
        target(c, &c->proc[i], l->fdt_open_fds, 0, &bits);
        for (uint32_t b = 0; b < F32_EMBEDDED_FDS && c->nfile < F32_FILES; b++) {
            uint32_t fv = 0;
            target(c, &c->proc[i], l->fdt_fd, b, &fv);
            if (!(bits >> b & 1) || fv == 0)
                continue;
            bool seen = false;
            for (size_t j = 0; j < c->nfile && !seen; j++)
                seen = c->file[j].file == fv;
            struct file *f = &c->file[c->nfile];
            if (seen || m->read(m->ctx, fv, f->fw, F32_FILE_SPAN) < 0)
                continue;
            f->file = fv;
            f->mnt = fw(f, fp);
            f->dentry = fw(f, fp + 4);
            if (!kptr(m, f->mnt) || !kptr(m, f->dentry) ||
                m->read(m->ctx, f->dentry, f->dw, F32_DENTRY_SPAN) < 0 ||
                m->read(m->ctx, f->mnt, f->vw, F32_VFSMNT_SPAN) < 0)
                continue;
            c->nfile++;
        }
    }
    if (c->nfile < MIN_FILES) {
        snprintf(c->why, LX_WHY_LEN, "only %zu open files readable (%u needed)", c->nfile,
                 MIN_FILES);
        return XA_EBADDATA;
    }
    return 0;
}

static int find_inode(struct ctx *c)
{
    const struct f32_mem *m = c->m;
    struct f32_layout *l = c->l;
    size_t answers = 0;
    for (uint32_t a = 0; a < F32_FILE_SPAN; a += 4) {
        if (a == c->k->f_path || a == c->k->f_path + 4)
            continue;
        for (uint32_t b = 0; b < F32_DENTRY_SPAN; b += 4) {
            bool all = true;
            for (size_t i = 0; i < c->nfile && all; i++) {
                uint32_t v = fw(&c->file[i], a);
                all = kptr(m, v) && v == w32_le32(c->file[i].dw + b);
            }
            if (all) {
                answers++;
                l->f_inode = a;
                l->d_inode = b;
            }
        }
    }
    if (answers != 1)
        return refuse(c, "file.f_inode == dentry.d_inode", answers);
    /* inodes: i_mode is the first member */
    l->i_mode = 0;
    for (size_t i = 0; i < c->nfile; i++) {
        struct file *f = &c->file[i];
        f->inode = fw(f, l->f_inode);
        if (m->read(m->ctx, f->inode, f->iw, F32_INODE_SPAN) < 0) {
            snprintf(c->why, LX_WHY_LEN, "inode 0x%llx unreadable", (unsigned long long)f->inode);
            return XA_EFAULT;
        }
        uint32_t fmt = (f->iw[0] | (uint32_t)f->iw[1] << 8) & S_IFMT_BITS;
        /* anonymous inodes have no type (alloc_anon_inode) */
        static const uint32_t types[] = {0, 0010000, 0020000, 0040000, 0060000,
                                         0100000, 0120000, 0140000};
        bool valid = false;
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
            valid |= fmt == types[k];
        if (!valid) {
            snprintf(c->why, LX_WHY_LEN, "inode 0x%llx: i_mode 0%o is no file type",
                     (unsigned long long)f->inode, fmt);
            return XA_EBADDATA;
        }
    }
    answers = 0;
    for (uint32_t i = 4; i < F32_INODE_SPAN; i += 4)
        for (uint32_t v = 0; v < F32_VFSMNT_SPAN; v += 4) {
            if (v == c->k->mnt_root)
                continue;
            bool all = true;
            for (size_t k = 0; k < c->nfile && all; k++) {
                uint32_t w = w32_le32(c->file[k].iw + i);
                all = kptr(m, w) && w == w32_le32(c->file[k].vw + v);
            }
            if (all) {
                answers++;
                l->i_sb = i;
            }
        }
    if (answers != 1)
        return refuse(c, "inode.i_sb == vfsmount.mnt_sb", answers);
    return 0;
}

static int find_s_dev(struct ctx *c)
{
    const struct f32_mem *m = c->m;
    for (size_t i = 0; i < c->nfile; i++) {
        uint32_t sb = w32_le32(c->file[i].iw + c->l->i_sb);
        bool seen = false;
        for (size_t j = 0; j < c->nsb && !seen; j++)
            seen = c->sb[j] == sb;
        if (seen || c->nsb == F32_FILES)
            continue;
        if (m->read(m->ctx, sb, c->sbw[c->nsb], F32_SB_SPAN) < 0) {
            snprintf(c->why, LX_WHY_LEN, "super block 0x%x unreadable", sb);
            return XA_EFAULT;
        }
        c->sb[c->nsb++] = sb;
    }
    if (c->nsb < 2) {
        snprintf(c->why, LX_WHY_LEN, "the open files are on one super block: s_dev not inferred");
        return XA_EBADDATA;
    }
    for (uint32_t s = 0; s < F32_SB_SPAN; s += 4) {
        bool pointers = true, distinct = true;
        for (size_t i = 0; i < c->nsb; i++) {
            uint32_t v = w32_le32(c->sbw[i] + s);
            pointers &= kptr(m, v);
            for (size_t j = 0; j < i; j++)
                distinct &= v != w32_le32(c->sbw[j] + s);
        }
        if (pointers)
            continue; /* s_list */
        if (s < 8 || !distinct)
            return refuse(c, "super_block.s_dev (the first word after s_list)", 0);
        for (size_t i = 0; i < c->nsb; i++)
            if (kptr(m, w32_le32(c->sbw[i] + s)))
                return refuse(c, "super_block.s_dev (a pointer in some)", 0);
        c->l->s_dev = s;
        return 0;
    }
    return refuse(c, "super_block.s_dev", 0);
}

/* i_ino: the first word after i_sb that is no pointer in any inode. */
static int find_ino(struct ctx *c)
{
    const struct f32_mem *m = c->m;
    struct f32_layout *l = c->l;
    for (uint32_t o = l->i_sb + 4; o + 4 <= F32_INODE_SPAN && o <= l->i_sb + 32; o += 4) {
        bool pointers = true;
        for (size_t i = 0; i < c->nfile; i++) {
            uint32_t v = w32_le32(c->file[i].iw + o);
            pointers &= v == 0 || kptr(m, v);
        }
        if (pointers)
            continue; /* i_mapping, i_security */
        size_t pairs = 0;
        for (size_t i = 0; i < c->nfile; i++) {
            uint32_t v = w32_le32(c->file[i].iw + o);
            if (v == 0 || kptr(m, v))
                return refuse(c, "inode.i_ino (zero or a pointer in some)", 0);
            for (size_t j = 0; j < i; j++) {
                const struct file *a = &c->file[i], *b = &c->file[j];
                if (a->inode == b->inode ||
                    w32_le32(a->iw + l->i_sb) != w32_le32(b->iw + l->i_sb))
                    continue;
                if (v == w32_le32(b->iw + o))
                    return refuse(c, "inode.i_ino (two inodes of one super block share it)", 0);
                pairs++;
            }
        }
        if (pairs == 0)
            return refuse(c, "inode.i_ino (no two inodes of one super block to compare)", 0);
        l->i_ino = o;
        return 0;
    }
    return refuse(c, "inode.i_ino", 0);
}

static int find_flags_pos(struct ctx *c)
{
    const struct f32_mem *m = c->m;
    struct f32_layout *l = c->l;
    size_t answers = 0;
    for (uint32_t a = 0; a < F32_FILE_SPAN; a += 4)
        for (uint32_t b = 0; b < F32_FILE_SPAN; b += 4) {
            if (a == b)
                continue;
            bool all = true;
            uint32_t modes = 0, compared = 0;
            for (size_t i = 0; i < c->nfile && all; i++) {
                uint32_t fl = fw(&c->file[i], a), md = fw(&c->file[i], b);
                if (fl < FLAGS_MAX && (fl & O_PATH_BIT))
                    continue; /* O_PATH: neither read nor write */
                all = fl < FLAGS_MAX && (fl & O_ACCMODE_BITS) != 3 &&
                      (md & 3) == (fl & O_ACCMODE_BITS) + 1;
                modes |= 1u << (fl & O_ACCMODE_BITS);
                compared++;
            }
            if (all && compared >= MIN_FILES && (modes & (modes - 1))) {
                answers++;
                l->f_flags = a;
                l->f_mode = b;
            }
        }
    if (answers != 1)
        return refuse(c, "file.f_flags and f_mode (two access modes seen)", answers);
    /* f_pos_lock: the mutex after f_mode, its wait_list empty (self-pointing) */
    for (uint32_t w = l->f_mode + 4; w + 16 <= F32_FILE_SPAN; w += 4) {
        size_t empty = 0;
        for (size_t i = 0; i < c->nfile; i++) {
            const struct file *f = &c->file[i];
            empty += fw(f, w) == f->file + w && fw(f, w + 4) == f->file + w;
        }
        if (empty * 8 < c->nfile * 7)
            continue;
        l->f_pos = w + 8;
        for (size_t i = 0; i < c->nfile; i++) {
            const struct file *f = &c->file[i];
            uint32_t fmt = (f->iw[0] | (uint32_t)f->iw[1] << 8) & S_IFMT_BITS;
            uint32_t lo = fw(f, l->f_pos), hi = fw(f, l->f_pos + 4);
            if (hi != 0 || ((fmt == S_IFIFO_BITS || fmt == S_IFSOCK_BITS) && lo != 0))
                return refuse(c, "file.f_pos (after f_pos_lock)", 0);
        }
        (void)m;
        return 0;
    }
    return refuse(c, "file.f_pos_lock (an empty mutex after f_mode)", 0);
}

static bool known_dname(const struct f32_known *k, uint32_t fn)
{
    for (size_t i = 0; i < F32_DNAMES; i++)
        if (k->dnames[i] && fn == k->dnames[i])
            return true;
    return false;
}

/* d_op and d_dname together: dentry word @o is NULL or a dentry_operations
 * in every dentry, whose word @d is 0 or a kernel function everywhere and
 * a known d_dname in some. */
static bool dops_fit(struct ctx *c, uint32_t o, uint32_t d)
{
    const struct f32_mem *m = c->m;
    bool known = false;
    for (size_t i = 0; i < c->nfile; i++) {
        uint32_t ops = w32_le32(c->file[i].dw + o), fn;
        if (ops == 0)
            continue;
        if (!kptr(m, ops) || m->read(m->ctx, ops + d, &fn, 4) < 0 ||
            (fn != 0 && fn < m->page_offset))
            return false;
        known |= known_dname(c->k, fn);
    }
    return known;
}

static int find_dops(struct ctx *c)
{
    struct f32_layout *l = c->l;
    bool any = false;
    for (size_t i = 0; i < F32_DNAMES; i++)
        any |= c->k->dnames[i] != 0;
    if (!any) {
        snprintf(c->why, LX_WHY_LEN, "no d_dname function (pipefs_dname, ...) in the symbols");
        return XA_ENOTSUP;
    }
    size_t answers = 0;
    for (uint32_t o = 0; o < F32_DENTRY_SPAN; o += 4) {
        bool ptrs = true; /* the cheap test first */
        for (size_t i = 0; i < c->nfile && ptrs; i++) {
            uint32_t v = w32_le32(c->file[i].dw + o);
            ptrs = v == 0 || kptr(c->m, v);
        }
        for (uint32_t d = 0; ptrs && d < F32_DOPS_SPAN; d += 4)
            if (dops_fit(c, o, d)) {
                answers++;
                l->d_op = o;
                l->dop_d_dname = d;
            }
    }
    if (answers != 1)
        return refuse(c, "dentry.d_op and dentry_operations.d_dname", answers);
    return 0;
}

int f32_infer(const struct f32_mem *m, const struct f32_known *k, const struct f32_task *t,
              size_t n, struct f32_layout *out, char *why)
{
    memset(out, 0xff, offsetof(struct f32_layout, nprocs));
    out->nprocs = out->nfiles = out->nsbs = 0;
    why[0] = '\0';
    if (n > F32_TASKS)
        n = F32_TASKS;
    struct ctx *c = calloc(1, sizeof(*c));
    struct proc *procs = calloc(F32_TASKS, sizeof(*procs));
    struct file *files = calloc(F32_FILES, sizeof(*files));
    if (!c || !procs || !files) {
        free(c);
        free(procs);
        free(files);
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    *c = (struct ctx){.m = m, .k = k, .l = out, .why = why, .proc = procs, .file = files};
    int rc;
    if ((rc = find_files(c, t, n)) == 0 && (rc = find_fdtable(c)) == 0 &&
        (rc = collect_files(c)) == 0 && (rc = find_inode(c)) == 0 &&
        (rc = find_s_dev(c)) == 0 && (rc = find_ino(c)) == 0 &&
        (rc = find_flags_pos(c)) == 0 && (rc = find_dops(c)) == 0) {
        out->nprocs = c->nproc;
        out->nfiles = c->nfile;
        out->nsbs = c->nsb;
    }
    free(files);
    free(procs);
    free(c);
    return rc;
}
